//go:build unix

package notify

import (
	"errors"
	"net"
	"syscall"
)

// waitSocket parks until conn is readable, closed or past its read deadline,
// without consuming a byte: it peeks, and lets the runtime's poller wait
// while the peek would block.
func waitSocket(conn net.Conn) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	var one [1]byte
	rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK)
		return !errors.Is(err, syscall.EAGAIN)
	})
}
