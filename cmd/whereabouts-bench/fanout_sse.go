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
// heartbeats. http.ReadResponse undoes the chunked encoding on the reading
// goroutine, so this costs no goroutine of its own.
type sseClient struct {
	c      *timedConn
	lines  *bufio.Reader
	data   []byte // the event being assembled
	line   []byte // a line longer than the buffer (snapshots)
	LastID string // the last event's id: the cursor to resume from
}

func dialSSE(ctx context.Context, addr, path string, epoch time.Time) (*sseClient, error) {
	c, _, resp, err := dialStream(ctx, addr, path, "Accept: text/event-stream\r\n", epoch)
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
	return newSSEReader(c, resp.Body), nil
}

func newSSEReader(c *timedConn, body io.Reader) *sseClient {
	return &sseClient{c: c, lines: bufio.NewReaderSize(body, 16<<10)}
}

// ReadMessage returns the data of the next event that has any.
func (s *sseClient) ReadMessage() ([]byte, error) {
	s.data = s.data[:0]
	have := false
	for {
		line, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the server ended the event stream")
			}
			return nil, err
		}
		if len(line) == 0 { // end of an event
			if have {
				return s.data, nil
			}
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if have {
				s.data = append(s.data, '\n')
			}
			s.data, have = append(s.data, value...), true
		case "id":
			s.LastID = string(value)
		}
		// "event" repeats the JSON's own type; "" is a comment (heartbeat);
		// "retry" and unknown fields are ignored, as the standard says.
	}
}

// readLine returns one line without its end (\n or \r\n), valid until the
// next call.
func (s *sseClient) readLine() ([]byte, error) {
	line, err := s.lines.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.line = append(s.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = s.lines.ReadSlice('\n')
			s.line = append(s.line, line...)
		}
		line = s.line
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func (s *sseClient) arrival() int64 { return s.c.last }
func (s *sseClient) reads() int64   { return s.c.reads }

// Close closes the connection only: closing a body that http.ReadResponse
// made reads it to its end, and an event stream has none.
func (s *sseClient) Close() error { return s.c.Close() }
