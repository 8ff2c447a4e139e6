package notify

import (
	"bufio"
	"net"
	"net/http"
)

// idleReadBuffer is the read buffer the connection's reader owns (gorilla
// adopts a hijacked reader above 256 bytes). Owning it lets the reader see
// whether gorilla has bytes buffered before it waits on the socket.
const idleReadBuffer = 272

// hijacker hands gorilla's upgrader a connection whose read buffer we own.
type hijacker struct {
	http.ResponseWriter
	raw net.Conn
	br  *bufio.Reader
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return conn, brw, err // gorilla refuses a client that spoke too soon
	}
	h.raw = conn
	h.br = bufio.NewReaderSize(conn, idleReadBuffer)
	return conn, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// waitReadable blocks until the client sends something, in a call shallow
// enough that an idle connection's goroutine keeps the smallest stack (the
// deep gorilla read path runs only while a message arrives). It returns at
// once when bytes are buffered already; errors are left to the read that
// follows.
func (c *wsConn) waitReadable() {
	if c.br == nil || c.br.Buffered() > 0 {
		return
	}
	waitSocket(c.raw)
}
