package main

// The hand-written MessagePack of the load generator against the protocol's golden vectors
// (docs/protocol-vectors.json, made by an independent encoder): every server frame is walked whole, and
// the requests a viewer sends come out byte for byte.

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

type vector struct {
	Value []any  `json:"value"`
	Hex   string `json:"hex"`
}

func vectors(t *testing.T) (client, server map[string]vector) {
	raw, err := os.ReadFile("../../docs/protocol-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Client map[string]vector `json:"client"`
		Server map[string]vector `json:"server"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	return file.Client, file.Server
}

func TestEveryServerFrameIsSkippedWhole(t *testing.T) {
	_, server := vectors(t)
	if len(server) < 10 {
		t.Fatalf("only %d server vectors", len(server))
	}
	for name, v := range server {
		b, _ := hex.DecodeString(v.Hex)
		r := reader{b: b}
		if err := r.skip(); err != nil || r.pos != len(b) {
			t.Errorf("%s: skip stopped at %d of %d (%v)", name, r.pos, len(b), err)
		}
		// Truncated frames fail cleanly, never read past the end.
		for cut := 0; cut < len(b); cut++ {
			short := reader{b: b[:cut]}
			if err := short.skip(); err == nil {
				t.Errorf("%s cut at %d: no error", name, cut)
			}
		}
	}
}

func TestRoomChatText(t *testing.T) {
	_, server := vectors(t)
	v, ok := server["room_chat"]
	if !ok {
		t.Fatal("no room_chat vector")
	}
	b, _ := hex.DecodeString(v.Hex)
	got := &viewer{}
	got.onMsgpack(b)
	if got.received.Load() != 1 {
		t.Fatalf("room_chat not counted")
	}
	r := reader{b: b}
	r.arrayLen()
	r.uint()
	r.skipN(4)
	text, err := r.str()
	if err != nil || string(text) != v.Value[5].(string) {
		t.Fatalf("text %q (%v), want %q", text, err, v.Value[5])
	}
}

func TestViewerRequestsMatchTheVectors(t *testing.T) {
	client, _ := vectors(t)
	hello := appendString(appendUint(appendUint(appendUint(appendArray(nil, 4), opHello), 1), version), "tok")
	if got := hex.EncodeToString(hello); got != client["hello"].Hex {
		t.Errorf("hello %s, want %s", got, client["hello"].Hex)
	}
	join := client["join"]
	frame := appendUint(appendString(appendUint(appendUint(appendArray(nil, 4), opJoin), uint64(join.Value[1].(float64))), join.Value[2].(string)), roleViewer)
	if got := hex.EncodeToString(frame); got != join.Hex {
		t.Errorf("join %s, want %s", got, join.Hex)
	}
}

func TestChatLatencyFromTheSendersClock(t *testing.T) {
	v := &viewer{}
	v.chat([]byte(strconv.FormatFloat(nowMs()-25, 'f', 3, 64) + "|xxxx"))
	v.chat([]byte("no timestamp"))
	if v.received.Load() != 2 || len(v.latencies) != 1 {
		t.Fatalf("received %d, samples %d", v.received.Load(), len(v.latencies))
	}
	if v.latencies[0] < 25 || v.latencies[0] > 1000 {
		t.Fatalf("latency %v ms for a chat sent 25 ms ago", v.latencies[0])
	}
}
