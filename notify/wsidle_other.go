//go:build !unix

package notify

import "net"

// waitSocket returns at once where peeking a socket is not available: the
// reader then waits inside gorilla's read, on a deeper stack.
func waitSocket(net.Conn) {}
