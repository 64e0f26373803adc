// halobuzz-loadgen: the viewers of the fan-out bench as a small compiled program.
//
// The Node load client spends 25-29 µs of CPU per message it receives, about twice what the server spends
// delivering it, so on a shared 2-core machine it set the pace of every run. This program holds the same
// viewers (HaloBuzz's protocol v1 over MessagePack, the raw uWS ceiling which speaks the same, or Socket.IO
// over its WebSocket transport) for a few µs per message. The Node harness (bench/loadgen.ts) still sends
// the chats and reads the results.
//
// Conversation with the harness, one JSON line each way per step:
//
//	stdin  line 1: the config (protocol, url, room, tokens, source addresses)
//	stdout {"event":"progress","connected":n} while connecting, then {"event":"ready",...}
//	stdout {"event":"count","received":n,"cpuUs":u} every 100 ms
//	stdin  "cut": write the latency samples since the last cut (float32 little-endian, ms) to latencyFile
//	       and print {"event":"cut",...}; the viewers stay connected
//	stdin  "stop": close every connection, write the remaining samples likewise, print
//	       {"event":"done",...} and exit
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

type config struct {
	Protocol    string   `json:"protocol"` // "msgpack" or "socketio"
	URL         string   `json:"url"`
	Room        string   `json:"room"`      // "" for viewers that connect and say hello but join nothing (idle)
	RoomCount   int      `json:"roomCount"` // above 1: viewer i joins room + (i mod roomCount)
	Tokens      []string `json:"tokens"`
	Sources     []string `json:"sources"` // local address per viewer ("" for the default)
	LatencyFile string   `json:"latencyFile"`
	Concurrency int      `json:"concurrency"`
}

// Protocol v1 numbers (protocol/codes.ts).
const (
	opHello    = 1
	opJoin     = 3
	opReply    = 64
	opError    = 65
	opRoomChat = 80
	version    = 1
	roleViewer = 0
)

type viewer struct {
	conn      *websocket.Conn
	received  atomic.Int64
	mu        sync.Mutex // the reader appends while a cut takes the samples
	latencies []float32
	buf       bytes.Buffer
}

// nowMs is the wall clock in ms, as the senders' timestamps are (Node's performance.timeOrigin +
// performance.now() follows the same system clock, so no offset is needed between the two processes).
func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

func emit(v any) {
	line, _ := json.Marshal(v)
	os.Stdout.Write(append(line, '\n'))
}

func cpuUs() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Sec*1e6 + ru.Utime.Usec + ru.Stime.Sec*1e6 + ru.Stime.Usec
}

func fail(format string, args ...any) {
	emit(map[string]string{"event": "error", "message": fmt.Sprintf(format, args...)})
	os.Exit(1)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 256<<20)
	if !in.Scan() {
		fail("no config on stdin")
	}
	var cfg config
	if err := json.Unmarshal(in.Bytes(), &cfg); err != nil {
		fail("bad config: %v", err)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}

	viewers := make([]*viewer, len(cfg.Tokens))
	var connected atomic.Int64
	var firstErr atomic.Value
	next := atomic.Int64{}
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
				emit(map[string]any{"event": "progress", "connected": connected.Load()})
			}
		}
	}()
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(viewers) {
					return
				}
				source := ""
				if i < len(cfg.Sources) {
					source = cfg.Sources[i]
				}
				v, err := open(cfg, cfg.Tokens[i], source, roomOf(cfg, i))
				if err != nil {
					firstErr.CompareAndSwap(nil, fmt.Sprintf("viewer %d: %v", i, err))
					return
				}
				viewers[i] = v
				connected.Add(1)
			}
		}()
	}
	wg.Wait()
	close(done)
	if msg := firstErr.Load(); msg != nil {
		fail("%s", msg)
	}
	var readers sync.WaitGroup
	for _, v := range viewers {
		readers.Add(1)
		go func(v *viewer) {
			defer readers.Done()
			v.read(cfg.Protocol)
		}(v)
	}
	emit(map[string]any{"event": "ready", "connected": connected.Load(), "cpuUs": cpuUs()})

	commands := make(chan string)
	go func() {
		for in.Scan() {
			commands <- in.Text()
		}
		close(commands)
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	total := func() int64 {
		var n int64
		for _, v := range viewers {
			n += v.received.Load()
		}
		return n
	}
	for {
		select {
		case <-tick.C:
			emit(map[string]any{"event": "count", "received": total(), "cpuUs": cpuUs()})
		case command, open := <-commands:
			switch {
			case command == "cut":
				// The samples since the previous cut (a step of a rising-rate run), leaving the viewers open.
				received, cpu := total(), cpuUs()
				samples := writeLatencies(cfg.LatencyFile, viewers)
				emit(map[string]any{"event": "cut", "received": received, "cpuUs": cpu, "samples": samples})
			case command == "stop" || !open:
				received, cpu := total(), cpuUs()
				for _, v := range viewers {
					v.conn.Close()
				}
				readers.Wait() // every reader has seen its close: the samples are complete
				samples := writeLatencies(cfg.LatencyFile, viewers)
				emit(map[string]any{"event": "done", "received": received, "cpuUs": cpu, "samples": samples})
				return
			}
		}
	}
}

// writeLatencies moves every viewer's samples so far into `path` (float32 little-endian, ms).
func writeLatencies(path string, viewers []*viewer) int {
	f, err := os.Create(path)
	if err != nil {
		fail("latency file: %v", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var b [4]byte
	samples := 0
	for _, v := range viewers {
		v.mu.Lock()
		taken := v.latencies
		v.latencies = make([]float32, 0, cap(taken))
		v.mu.Unlock()
		for _, ms := range taken {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(ms))
			w.Write(b[:])
			samples++
		}
	}
	if err := w.Flush(); err != nil {
		fail("latency file: %v", err)
	}
	f.Close()
	return samples
}

func dialer(source string) *websocket.Dialer {
	d := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024}
	if source != "" {
		nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 30 * time.Second}
		d.NetDial = nd.Dial
	}
	return d
}

// roomOf is the room viewer i joins: the one room, or one of roomCount rooms in turn.
func roomOf(cfg config, i int) string {
	if cfg.RoomCount <= 1 {
		return cfg.Room
	}
	return cfg.Room + strconv.Itoa(i%cfg.RoomCount)
}

func open(cfg config, token, source, room string) (*viewer, error) {
	conn, _, err := dialer(source).Dial(cfg.URL, http.Header{})
	if err != nil {
		return nil, err
	}
	v := &viewer{conn: conn, latencies: make([]float32, 0, 1024)}
	if cfg.Protocol == "socketio" {
		err = v.socketIoHandshake(token, room)
	} else {
		err = v.msgpackHandshake(token, room)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return v, nil
}

// msgpackHandshake: HELLO then JOIN as a viewer, each answered by REPLY with its ref.
func (v *viewer) msgpackHandshake(token, room string) error {
	hello := appendString(appendUint(appendUint(appendUint(appendArray(nil, 4), opHello), 1), version), token)
	if err := v.request(hello, 1); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if room == "" {
		return nil
	}
	join := appendUint(appendString(appendUint(appendUint(appendArray(nil, 4), opJoin), 2), room), roleViewer)
	if err := v.request(join, 2); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	return nil
}

func (v *viewer) request(frame []byte, ref uint64) error {
	if err := v.conn.WriteMessage(websocket.BinaryMessage, frame); err != nil {
		return err
	}
	for {
		_, data, err := v.conn.ReadMessage()
		if err != nil {
			return err
		}
		r := reader{b: data}
		if _, err := r.arrayLen(); err != nil {
			return err
		}
		op, err := r.uint()
		if err != nil {
			return err
		}
		if op != opReply && op != opError {
			continue // a push before the reply
		}
		got, err := r.uint()
		if err != nil || got != ref {
			continue
		}
		if op == opError {
			code, _ := r.uint()
			msg, _ := r.str()
			return fmt.Errorf("error %d: %s", code, msg)
		}
		return nil
	}
}

// socketIoHandshake: Engine.IO's open packet, the Socket.IO connect with the token as auth, then the
// "join" event with an acknowledgement.
func (v *viewer) socketIoHandshake(token, room string) error {
	if _, err := v.readText("0"); err != nil {
		return fmt.Errorf("engine.io open: %w", err)
	}
	auth, _ := json.Marshal(map[string]string{"token": token})
	if err := v.conn.WriteMessage(websocket.TextMessage, append([]byte("40"), auth...)); err != nil {
		return err
	}
	if _, err := v.readText("40"); err != nil {
		return fmt.Errorf("socket.io connect: %w", err)
	}
	if room == "" {
		return nil
	}
	args, _ := json.Marshal([]string{"join", room})
	if err := v.conn.WriteMessage(websocket.TextMessage, append([]byte("421"), args...)); err != nil {
		return err
	}
	if _, err := v.readText("431"); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	return nil
}

// readText waits for a text packet starting with `prefix`, answering Engine.IO pings on the way.
func (v *viewer) readText(prefix string) ([]byte, error) {
	for {
		_, data, err := v.conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		if string(data) == "2" {
			if err := v.conn.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
				return nil, err
			}
			continue
		}
		if bytes.HasPrefix(data, []byte("44")) {
			return nil, errors.New(string(data))
		}
		if bytes.HasPrefix(data, []byte(prefix)) {
			return data, nil
		}
	}
}

// read counts chats until the connection closes, recording each one's latency from the timestamp the
// sender put before the text's first '|'.
func (v *viewer) read(protocol string) {
	for {
		_, r, err := v.conn.NextReader()
		if err != nil {
			return
		}
		v.buf.Reset()
		if _, err := v.buf.ReadFrom(r); err != nil {
			return
		}
		data := v.buf.Bytes()
		if protocol == "socketio" {
			v.onSocketIo(data)
		} else {
			v.onMsgpack(data)
		}
	}
}

func (v *viewer) onMsgpack(data []byte) {
	r := reader{b: data}
	n, err := r.arrayLen()
	if err != nil || n < 6 {
		return
	}
	if op, err := r.uint(); err != nil || op != opRoomChat {
		return
	}
	if r.skipN(4) != nil { // room, seq, ts, from
		return
	}
	text, err := r.str()
	if err != nil {
		return
	}
	v.chat(text)
}

var chatEvent = []byte(`42["chat",`)
var textField = []byte(`"text":"`)

func (v *viewer) onSocketIo(data []byte) {
	if len(data) == 1 && data[0] == '2' {
		_ = v.conn.WriteMessage(websocket.TextMessage, []byte("3"))
		return
	}
	if !bytes.HasPrefix(data, chatEvent) {
		return
	}
	at := bytes.Index(data, textField)
	if at < 0 {
		return
	}
	v.chat(data[at+len(textField):])
}

func (v *viewer) chat(text []byte) {
	v.received.Add(1)
	bar := bytes.IndexByte(text, '|')
	if bar <= 0 {
		return
	}
	sent, err := strconv.ParseFloat(string(text[:bar]), 64)
	if err != nil {
		return
	}
	v.mu.Lock()
	v.latencies = append(v.latencies, float32(nowMs()-sent))
	v.mu.Unlock()
}
