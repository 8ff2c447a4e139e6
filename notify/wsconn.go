package notify

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// How the reader ended, for the writer's close frame.
const (
	readRunning    int32 = iota // zero value: the reader goes on
	readPeerClosed              // the client sent a close frame
	readFailed                  // the connection broke or the client broke the protocol
)

// wsConn is one WebSocket client. Only the writer goroutine writes to the
// connection, so it can send a whole drained batch as one writev past
// gorilla's writer; the reader hands pings and closes to it instead of
// answering them itself. (gorilla still writes a close frame from the reader
// on a protocol error or an oversized message; the connection is dying then,
// and a TCP writev is never split by another write, so the worst case is a
// close frame between two of our frames.)
type wsConn struct {
	conn                              *websocket.Conn
	sub                               *Subscriber
	src                               Source
	log                               *slog.Logger
	pingEvery, pongWait, writeTimeout time.Duration
	pongs                             chan string // ping payloads the writer must answer
	readEnd                           atomic.Int32

	// Writer-owned scratch, reused between batches.
	msgs    []Message
	headers []byte
	bufs    net.Buffers
}

// read handles client messages until the connection fails or closes.
func (c *wsConn) read(ctx context.Context) {
	alive := func() error { return c.conn.SetReadDeadline(time.Now().Add(c.pongWait)) }
	c.conn.SetReadLimit(readLimit)
	alive()
	c.conn.SetPongHandler(func(string) error { return alive() })
	c.conn.SetPingHandler(func(data string) error {
		select {
		case c.pongs <- data:
		default: // a pong is already due; one answer is enough
		}
		return alive()
	})
	// The writer answers the close frame (see closeFrame).
	c.conn.SetCloseHandler(func(int, string) error { return nil })
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			end := readFailed
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				end = readPeerClosed
			}
			c.readEnd.Store(end)
			return
		}
		alive()
		c.handle(ctx, data)
	}
}

// handle applies one client message. A bad one is answered with an error
// message and the stream goes on.
func (c *wsConn) handle(ctx context.Context, data []byte) {
	var m subscribeMessage
	if err := json.Unmarshal(data, &m); err != nil {
		c.sub.SendError("invalid_parameter", "message is not a valid subscribe message: "+err.Error())
		return
	}
	f, err := m.filter()
	if err != nil {
		c.sub.SendError("invalid_parameter", err.Error())
		return
	}
	if err := c.sub.SetFilter(ctx, c.src, f); err != nil && ctx.Err() == nil {
		// The subscriber is closed; the writer tells the client.
		c.log.Warn("notify: websocket resubscribe", "err", err)
	}
}

// write sends queued messages and pings until the stream ends, then says
// goodbye. It reports whether a close frame went out.
func (c *wsConn) write(ctx context.Context) bool {
	ping := time.NewTicker(c.pingEvery)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return c.sendClose()
		case <-c.sub.Done():
			return c.sendClose()
		case <-c.sub.Ready():
			err = c.flush()
		case data := <-c.pongs:
			err = c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.writeTimeout))
		case <-ping.C:
			err = c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.writeTimeout))
		}
		if err != nil {
			c.log.Debug("notify: websocket write", "err", err)
			return false
		}
	}
}

// flush drains the subscriber and writes every message as its own text
// frame, all in one writev: the payloads are the hub's shared bytes, only
// the few header bytes are this connection's.
func (c *wsConn) flush() error {
	c.msgs = c.sub.Next(c.msgs[:0])
	defer clear(c.msgs)
	if len(c.msgs) == 0 {
		return nil
	}
	// Grown up front so the header slices below never move.
	c.headers = slices.Grow(c.headers[:0], maxHeaderLen*len(c.msgs))
	bufs := c.bufs[:0]
	for _, m := range c.msgs {
		start := len(c.headers)
		c.headers = appendTextHeader(c.headers, len(m.JSON))
		bufs = append(bufs, c.headers[start:len(c.headers):len(c.headers)], m.JSON)
	}
	c.bufs = bufs
	defer clear(c.bufs)
	nc := c.conn.NetConn()
	if err := nc.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return err
	}
	_, err := bufs.WriteTo(nc) // consumes a copy of the slice header, not c.bufs
	return err
}

func (c *wsConn) sendClose() bool {
	code, text, ok := c.closeFrame()
	if !ok {
		return false
	}
	msg := websocket.FormatCloseMessage(code, text)
	return c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.writeTimeout)) == nil
}

const maxHeaderLen = 10

// appendTextHeader appends the header of a final, unmasked text frame of n
// bytes (RFC 6455 section 5.2; servers never mask).
func appendTextHeader(b []byte, n int) []byte {
	const finText = 0x81
	switch {
	case n <= 125:
		return append(b, finText, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, finText, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, finText, 127), uint64(n))
	}
}
