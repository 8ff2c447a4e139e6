package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"strconv"
	"time"
)

// request is one HTTP/1.1 request as the load generator sends it.
type request struct {
	Method, Path, Token string
	Body                []byte // sent as application/json when not nil
}

// keepAlive is one worker's HTTP/1.1 connection, used by that worker alone:
// write a request, read its response, repeat. The load generator shares the
// 2 cores with the server and PostgreSQL while pgbench's C client is lean,
// so it must cost little CPU per request. Client CPU per request during
// single-position ingest: 35-55 us through net/http's Transport (which hands
// every request and response between three goroutines), 29-40 us with
// http.Request.Write and http.ReadResponse on this one connection, 21-28 us
// writing the request's bytes directly and reading only the status, the
// framing headers and the body: the kernel's share and little else.
type keepAlive struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	out  []byte
	stop func() bool // unregisters the close on cancellation
}

// do sends req and reads the answer's body into body; it returns the status.
func (k *keepAlive) do(ctx context.Context, req request, body *bytes.Buffer) (int, error) {
	if k.conn == nil {
		conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", k.addr)
		if err != nil {
			return 0, err
		}
		k.conn, k.r = conn, bufio.NewReaderSize(conn, 4096)
		// Cancellation (Ctrl-C) must interrupt a request in flight.
		k.stop = context.AfterFunc(ctx, func() { conn.Close() })
	}
	status, keep, err := k.roundTrip(req, body)
	if err != nil || !keep {
		k.close()
	}
	return status, err
}

func (k *keepAlive) roundTrip(req request, body *bytes.Buffer) (status int, keep bool, err error) {
	k.conn.SetDeadline(time.Now().Add(time.Minute))
	k.out = appendRequest(k.out[:0], k.addr, req)
	if _, err := k.conn.Write(k.out); err != nil {
		return 0, false, err
	}
	status, length, chunked, keep, err := readHead(k.r)
	if err != nil {
		return 0, false, err
	}
	body.Reset()
	switch {
	case chunked:
		_, err = body.ReadFrom(httputil.NewChunkedReader(k.r))
		if err == nil {
			err = skipTrailer(k.r)
		}
	case length >= 0:
		_, err = io.CopyN(body, k.r, length)
	default: // no framing: the body runs to the end of the connection
		_, err = body.ReadFrom(k.r)
		keep = false
	}
	return status, keep, err
}

func appendRequest(b []byte, host string, req request) []byte {
	b = append(append(append(b, req.Method...), ' '), req.Path...)
	b = append(append(append(b, " HTTP/1.1\r\nHost: "...), host...), "\r\n"...)
	if req.Token != "" {
		b = append(append(append(b, "Authorization: Bearer "...), req.Token...), "\r\n"...)
	}
	if req.Body != nil {
		b = append(b, "Content-Type: application/json\r\nContent-Length: "...)
		b = append(strconv.AppendInt(b, int64(len(req.Body)), 10), "\r\n"...)
	}
	return append(append(b, "\r\n"...), req.Body...)
}

var errBadResponse = errors.New("malformed HTTP response")

// readHead reads the status line and headers, keeping what frames the body.
func readHead(r *bufio.Reader) (status int, length int64, chunked, keep bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, 0, false, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, 0, false, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	length, keep = -1, true
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return status, length, chunked, keep, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, 0, false, false, fmt.Errorf("%w: header %q", errBadResponse, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, 0, false, false, fmt.Errorf("%w: Content-Length %q", errBadResponse, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
}

// skipTrailer reads the trailer section that ends a chunked body.
func skipTrailer(r *bufio.Reader) error {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}

func (k *keepAlive) close() {
	if k.conn != nil {
		k.stop()
		k.conn.Close()
		k.conn = nil
	}
}
