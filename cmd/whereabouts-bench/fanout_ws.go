package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// A minimal WebSocket and SSE client on a plain TCP connection: no
// goroutine besides the one reading, no copy of a frame that fits the read
// buffer, and the arrival time of every read, which gorilla and net/http
// would hide behind their own buffering.

// streamReader yields the stream's JSON messages; a message is valid until
// the next call.
type streamReader interface {
	ReadMessage() ([]byte, error)
}

// timedConn records when the last read returned, in nanoseconds since
// epoch: a message's arrival is the read that completed it. It counts the
// reads too: messages per read is how well the server batches its writes.
type timedConn struct {
	net.Conn
	epoch time.Time
	last  int64
	reads int64
}

func (c *timedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.last = int64(time.Since(c.epoch))
	c.reads++
	return n, err
}

// errNotFound is a 404 at the stream's path: the transport is not built.
var errNotFound = errors.New("404 Not Found")

// dialStream connects to addr and sends a GET for path with extra header
// lines; it returns the connection, its reader (positioned after the
// answer's header) and the answer.
func dialStream(ctx context.Context, addr, path, headers string, epoch time.Time) (*timedConn, *bufio.Reader, *http.Response, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, nil, err
	}
	c := &timedConn{Conn: nc, epoch: epoch}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n" + headers + "\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, nil, nil, fmt.Errorf("send request: %w", err)
	}
	br := bufio.NewReaderSize(c, 16<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, nil, nil, fmt.Errorf("read answer: %w", err)
	}
	c.SetDeadline(time.Time{})
	return c, br, resp, nil
}

// wsClient reads text frames of a WebSocket the server never fragments.
type wsClient struct {
	c       *timedConn
	br      *bufio.Reader
	pending int    // bytes of the last frame still to discard from br
	big     []byte // frames larger than br's buffer (snapshots)
	closed  string // the server's close code and reason, once received
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func dialWS(ctx context.Context, addr, path string, epoch time.Time) (*wsClient, error) {
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	c, br, resp, err := dialStream(ctx, addr, path, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "+key+"\r\n", epoch)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	sum := sha1.Sum([]byte(key + wsGUID))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		err = errNotFound
	case resp.StatusCode != http.StatusSwitchingProtocols:
		err = fmt.Errorf("websocket upgrade answered %s", resp.Status)
	case resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]):
		err = errors.New("websocket upgrade: wrong Sec-WebSocket-Accept")
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return &wsClient{c: c, br: br}, nil
}

// ReadMessage returns the next text frame's payload, answering pings on
// the way. A close frame ends the stream with an error naming its reason.
func (w *wsClient) ReadMessage() ([]byte, error) {
	if w.pending > 0 {
		w.br.Discard(w.pending)
		w.pending = 0
	}
	for {
		op, payload, err := w.frame()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x1, 0x2:
			return payload, nil
		case 0x8:
			w.closed = closeReason(payload)
			return nil, fmt.Errorf("closed by the server: %s", w.closed)
		case 0x9:
			if err := w.control(0xA, payload); err != nil {
				return nil, fmt.Errorf("pong: %w", err)
			}
		}
		if w.pending > 0 {
			w.br.Discard(w.pending)
			w.pending = 0
		}
	}
}

// frame reads one frame. A payload that fits the buffer is peeked, not
// copied, and discarded by the next call.
func (w *wsClient) frame() (byte, []byte, error) {
	h, err := w.br.Peek(2)
	if err != nil {
		return 0, nil, err
	}
	fin, op, masked, n := h[0]&0x80 != 0, h[0]&0x0F, h[1]&0x80 != 0, int64(h[1]&0x7F)
	hl := 2
	switch n {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	if h, err = w.br.Peek(hl); err != nil {
		return 0, nil, err
	}
	switch n {
	case 126:
		n = int64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		n = int64(binary.BigEndian.Uint64(h[2:]))
	}
	w.br.Discard(hl)
	if !fin || masked || n > 1<<30 {
		return 0, nil, fmt.Errorf("unexpected frame (fin %v, masked %v, %d bytes): the server sends whole unmasked frames", fin, masked, n)
	}
	if int(n) <= w.br.Size() {
		p, err := w.br.Peek(int(n))
		w.pending = len(p)
		return op, p, err
	}
	if cap(w.big) < int(n) {
		w.big = make([]byte, n)
	}
	w.big = w.big[:n]
	_, err = io.ReadFull(w.br, w.big)
	return op, w.big, err
}

// control sends a masked control frame (clients must mask, RFC 6455 5.3).
func (w *wsClient) control(op byte, payload []byte) error {
	if len(payload) > 125 {
		payload = payload[:125]
	}
	var mask [4]byte
	rand.Read(mask[:])
	f := append([]byte{0x80 | op, 0x80 | byte(len(payload))}, mask[:]...)
	for i, b := range payload {
		f = append(f, b^mask[i%4])
	}
	w.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := w.c.Write(f)
	return err
}

func closeReason(payload []byte) string {
	if len(payload) < 2 {
		return "no close code"
	}
	return fmt.Sprintf("%d %s", binary.BigEndian.Uint16(payload), payload[2:])
}

func (w *wsClient) arrival() int64 { return w.c.last }
func (w *wsClient) reads() int64   { return w.c.reads }
func (w *wsClient) Close() error   { return w.c.Close() }
