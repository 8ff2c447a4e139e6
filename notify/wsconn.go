package notify

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// snapshotTimeout bounds the snapshot read for a subscribe message.
const snapshotTimeout = 30 * time.Second

// How the reader ended, for the close frame; zero while it goes on.
const (
	readPeerClosed int32 = iota + 1 // the client sent a close frame
	readFailed                      // the connection broke or the client broke the protocol
)

// wsConn is one WebSocket client. Its reader goroutine lives as long as the
// connection; its pump writes (see pump), and a timer pings. The pump's
// writeMu orders every write: drained batches go out as one writev past
// gorilla's writer, pongs, pings and the close frame through it. (gorilla
// still writes a close frame from the reader on a protocol error or an
// oversized message; the connection is dying then, and a TCP writev is never
// split by another write, so the worst case is a close frame between two of
// our frames.)
type wsConn struct {
	pump
	conn                *websocket.Conn
	br                  *bufio.Reader // conn's read buffer; nil: gorilla's own
	src                 Source
	pingEvery, pongWait time.Duration
	closed              func() // once, when the connection is closed
	readEnd             atomic.Int32
	ends                atomic.Int32 // reader and goodbye done: the second closes the connection
	gone                atomic.Bool  // closed
	ping                *time.Timer
}

// start runs the connection once it is upgraded.
func (c *wsConn) start() {
	c.conn.SetReadLimit(readLimit)
	c.ping = time.AfterFunc(c.pingEvery, c.sendPing)
	go c.read()
	c.begin()
}

func (c *wsConn) frame(sc *scratch, m Message, _ bool) {
	var hdr [maxHeaderLen]byte
	sc.head(appendTextHeader(hdr[:0], len(m.JSON)))
	sc.bufs = append(sc.bufs, m.JSON)
}

// read handles client messages until the connection fails or closes.
func (c *wsConn) read() {
	alive := func() error { return c.conn.SetReadDeadline(time.Now().Add(c.pongWait)) }
	alive()
	c.conn.SetPongHandler(func(string) error { return alive() })
	c.conn.SetPingHandler(func(data string) error {
		c.writeControl(websocket.PongMessage, []byte(data))
		return alive()
	})
	// The goodbye answers the close frame (see closeFrame).
	c.conn.SetCloseHandler(func(int, string) error { return nil })
	for {
		c.waitReadable()
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			end := readFailed
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				end = readPeerClosed
			}
			c.readEnd.Store(end)
			c.sub.Close() // wakes a writer for the goodbye
			c.end()
			return
		}
		alive()
		c.handle(data)
	}
}

// handle applies one client message. A bad one is answered with an error
// message and the stream goes on.
func (c *wsConn) handle(data []byte) {
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
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	if err := c.sub.SetFilter(ctx, c.src, f); err != nil && !c.gone.Load() {
		// The subscriber is closed; the goodbye tells the client.
		c.log.Warn("notify: websocket resubscribe", "err", err)
	}
}

// goodbye sends the close frame, if one is worth sending, and lets the
// reader end: at once, or after the client's answering close frame (the
// close reason would otherwise be lost to a TCP reset).
func (c *wsConn) goodbye() {
	wait := time.Duration(0)
	if code, text, ok := c.closeFrame(); ok {
		if c.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text)) == nil {
			wait = c.writeTimeout
		}
	}
	c.conn.SetReadDeadline(time.Now().Add(wait))
	c.end()
}

// end is called by the reader and by goodbye when each is done; the second
// closes the connection.
func (c *wsConn) end() {
	if c.ends.Add(1) < 2 {
		return
	}
	c.gone.Store(true)
	c.ping.Stop()
	c.conn.Close()
	c.closed()
}

func (c *wsConn) sendPing() {
	if c.writeControl(websocket.PingMessage, nil) == nil && !c.gone.Load() {
		c.ping.Reset(c.pingEvery)
	}
}

func (c *wsConn) writeControl(kind int, data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.conn.WriteControl(kind, data, time.Now().Add(c.writeTimeout))
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
