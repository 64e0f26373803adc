package main

// Just enough MessagePack for the viewers' side of protocol v1: write the few small requests a viewer
// sends (arrays of unsigned integers and strings), and read a server frame's op and, for ROOM_CHAT, its
// text, skipping everything else without allocating.

import (
	"encoding/binary"
	"errors"
	"math"
)

var errShort = errors.New("msgpack: frame ends early")
var errType = errors.New("msgpack: unexpected type")

func appendArray(b []byte, n int) []byte {
	if n < 16 {
		return append(b, 0x90|byte(n))
	}
	return append(b, 0xdc, byte(n>>8), byte(n))
}

func appendUint(b []byte, v uint64) []byte {
	switch {
	case v < 128:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return append(b, 0xcd, byte(v>>8), byte(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
	}
}

func appendString(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

// reader walks one MessagePack value after another in a frame.
type reader struct {
	b   []byte
	pos int
}

func (r *reader) need(n int) error {
	if r.pos+n > len(r.b) {
		return errShort
	}
	return nil
}

func (r *reader) byte() (byte, error) {
	if err := r.need(1); err != nil {
		return 0, err
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) be(n int) (uint64, error) {
	if err := r.need(n); err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range r.b[r.pos : r.pos+n] {
		v = v<<8 | uint64(c)
	}
	r.pos += n
	return v, nil
}

// arrayLen reads an array header.
func (r *reader) arrayLen() (int, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c&0xf0 == 0x90:
		return int(c & 0x0f), nil
	case c == 0xdc:
		v, err := r.be(2)
		return int(v), err
	case c == 0xdd:
		v, err := r.be(4)
		return int(v), err
	}
	return 0, errType
}

// uint reads a non-negative integer.
func (r *reader) uint() (uint64, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c < 0x80:
		return uint64(c), nil
	case c == 0xcc:
		return r.be(1)
	case c == 0xcd:
		return r.be(2)
	case c == 0xce:
		return r.be(4)
	case c == 0xcf:
		return r.be(8)
	}
	return 0, errType
}

// str returns a string's bytes (a view into the frame, valid until the frame's buffer is reused).
func (r *reader) str() ([]byte, error) {
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case c&0xe0 == 0xa0:
		n = uint64(c & 0x1f)
	case c == 0xd9:
		n, err = r.be(1)
	case c == 0xda:
		n, err = r.be(2)
	case c == 0xdb:
		n, err = r.be(4)
	default:
		return nil, errType
	}
	if err != nil {
		return nil, err
	}
	if err := r.need(int(n)); err != nil {
		return nil, err
	}
	s := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s, nil
}

// skip moves past one value of any type.
func (r *reader) skip() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	var n uint64
	switch {
	case c < 0x80 || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return nil
	case c&0xf0 == 0x80: // fixmap
		return r.skipN(2 * int(c&0x0f))
	case c&0xf0 == 0x90: // fixarray
		return r.skipN(int(c & 0x0f))
	case c&0xe0 == 0xa0: // fixstr
		return r.advance(int(c & 0x1f))
	}
	switch c {
	case 0xcc, 0xd0:
		return r.advance(1)
	case 0xcd, 0xd1:
		return r.advance(2)
	case 0xce, 0xd2, 0xca:
		return r.advance(4)
	case 0xcf, 0xd3, 0xcb:
		return r.advance(8)
	case 0xd9, 0xc4:
		n, err = r.be(1)
	case 0xda, 0xc5:
		n, err = r.be(2)
	case 0xdb, 0xc6:
		n, err = r.be(4)
	case 0xdc:
		n, err = r.be(2)
		if err == nil {
			return r.skipN(int(n))
		}
		return err
	case 0xdd:
		n, err = r.be(4)
		if err == nil {
			return r.skipN(int(n))
		}
		return err
	case 0xde:
		n, err = r.be(2)
		if err == nil {
			return r.skipN(2 * int(n))
		}
		return err
	case 0xdf:
		n, err = r.be(4)
		if err == nil {
			return r.skipN(2 * int(n))
		}
		return err
	case 0xd4:
		return r.advance(2)
	case 0xd5:
		return r.advance(3)
	case 0xd6:
		return r.advance(5)
	case 0xd7:
		return r.advance(9)
	case 0xd8:
		return r.advance(17)
	case 0xc7:
		n, err = r.be(1)
		if err == nil {
			return r.advance(int(n) + 1)
		}
		return err
	case 0xc8:
		n, err = r.be(2)
		if err == nil {
			return r.advance(int(n) + 1)
		}
		return err
	case 0xc9:
		n, err = r.be(4)
		if err == nil {
			return r.advance(int(n) + 1)
		}
		return err
	default:
		return errType
	}
	if err != nil {
		return err
	}
	return r.advance(int(n))
}

func (r *reader) skipN(n int) error {
	for i := 0; i < n; i++ {
		if err := r.skip(); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) advance(n int) error {
	if err := r.need(n); err != nil {
		return err
	}
	r.pos += n
	return nil
}
