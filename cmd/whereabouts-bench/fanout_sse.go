package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
)

// sseClient reads Server-Sent Events: `id: <cursor>`, `event: <type>`,
// `data: <the WebSocket's JSON message>`, a blank line; `:` lines are
// heartbeats. An event that fits the buffer is parsed where it lies and its
// data returned in place, as the WebSocket client does with a frame; a
// larger one (a snapshot) is copied out first.
type sseClient struct {
	c       *timedConn
	br      *bufio.Reader
	pending int    // bytes of the last event still to discard from br
	data    []byte // the data of an event with several data lines
	big     []byte // an event larger than the buffer
	lastID  []byte // reused: a string per event was half a million allocations a second in run C
}

func dialSSE(ctx context.Context, addr, path string, epoch time.Time) (*sseClient, error) {
	c, br, resp, err := dialStream(ctx, addr, path, "Accept: text/event-stream\r\n", epoch)
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		err = errNotFound
	case resp.StatusCode != http.StatusOK:
		err = fmt.Errorf("events answered %s", resp.Status)
	case mt != "text/event-stream":
		err = fmt.Errorf("events answered Content-Type %q", mt)
	}
	if err != nil {
		c.Close() // not resp.Body.Close: that reads a stream to its end
		return nil, err
	}
	if len(resp.TransferEncoding) == 0 && resp.ContentLength < 0 {
		// The server's own stream ends with the connection: read it
		// straight from the connection's buffer, not through a body that
		// copies out of it.
		return &sseClient{c: c, br: br}, nil
	}
	return newSSEReader(c, resp.Body), nil // chunked, e.g. through a proxy
}

func newSSEReader(c *timedConn, body io.Reader) *sseClient {
	return &sseClient{c: c, br: bufio.NewReaderSize(body, 16<<10)}
}

// ReadMessage returns the data of the next event that has any, valid until
// the next call.
func (s *sseClient) ReadMessage() ([]byte, error) {
	if s.pending > 0 {
		s.br.Discard(s.pending)
		s.pending = 0
	}
	for {
		ev, n, err := s.peekEvent()
		if err != nil {
			return nil, s.ended(err)
		}
		if ev == nil { // larger than the buffer
			if ev, err = s.copyEvent(); err != nil {
				return nil, s.ended(err)
			}
		} else {
			s.pending = n
		}
		if data, ok := s.fields(ev); ok {
			return data, nil
		}
		s.br.Discard(s.pending)
		s.pending = 0
	}
}

// peekEvent finds the next whole event in the buffer, reading more as
// needed: its lines up to the blank one (which is left out), and the bytes
// to discard to pass it. A nil event did not fit the buffer.
func (s *sseClient) peekEvent() (ev []byte, n int, err error) {
	from := 0 // where the next line starts: no rescan of what was seen
	for {
		buf, _ := s.br.Peek(s.br.Buffered())
		for {
			i := bytes.IndexByte(buf[from:], '\n')
			if i < 0 {
				break
			}
			end := from + i // the line's \n
			if blankLine(buf[from:end]) {
				return buf[:from], end + 1, nil
			}
			from = end + 1
		}
		if len(buf) == s.br.Size() {
			return nil, 0, nil
		}
		if _, err := s.br.Peek(len(buf) + 1); err != nil {
			return nil, 0, err
		}
	}
}

// fields reads an event's lines and returns its data, if it has any.
func (s *sseClient) fields(ev []byte) (data []byte, ok bool) {
	several := false
	for len(ev) > 0 {
		line := ev
		if i := bytes.IndexByte(ev, '\n'); i >= 0 {
			line, ev = ev[:i], ev[i+1:]
		} else {
			ev = nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		field, value := sseField(line)
		switch string(field) {
		case "data":
			switch {
			case several:
				s.data = append(append(s.data, '\n'), value...)
			case ok: // a second data line: join them
				s.data = append(append(append(s.data[:0], data...), '\n'), value...)
				several = true
			default:
				data, ok = value, true
			}
		case "id":
			s.lastID = append(s.lastID[:0], value...)
		}
		// "event" repeats the JSON's own type; "" is a comment (heartbeat);
		// "retry" and unknown fields are ignored, as the standard says.
	}
	if several {
		return s.data, true
	}
	return data, ok
}

// sseField splits a line into its field and value.
func sseField(line []byte) (field, value []byte) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return line, nil
	}
	value = line[i+1:]
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	return line[:i], value
}

// copyEvent reads an event too large for the buffer (a snapshot) into
// s.big, without its blank line.
func (s *sseClient) copyEvent() ([]byte, error) {
	s.big = s.big[:0]
	start := 0 // of the line being read
	for {
		piece, err := s.br.ReadSlice('\n')
		s.big = append(s.big, piece...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if blankLine(s.big[start : len(s.big)-1]) {
			return s.big[:start], nil
		}
		start = len(s.big)
	}
}

// blankLine reports whether a line, without its \n, ends an event.
func blankLine(line []byte) bool {
	return len(line) == 0 || (len(line) == 1 && line[0] == '\r')
}

func (s *sseClient) ended(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("the server ended the event stream")
	}
	return err
}

// LastID is the last event's id: the cursor to resume from.
func (s *sseClient) LastID() string { return string(s.lastID) }

func (s *sseClient) arrival() int64 { return s.c.last }
func (s *sseClient) reads() int64   { return s.c.reads }

// Close closes the connection only: closing a body that http.ReadResponse
// made reads it to its end, and an event stream has none.
func (s *sseClient) Close() error { return s.c.Close() }
