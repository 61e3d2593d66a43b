package share

import (
	"net"
	"net/http"
	"testing"

	"golang.org/x/sys/unix"
)

// A control connection's receive buffer is fixed at controlRecvBuffer
// (Linux reports twice what was set) instead of growing with the kernel's
// autotuning.
func TestControlRecvBufferBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	boundRecvBuffer(server, http.StateNew)
	raw, err := server.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var gerr error
	if err := raw.Control(func(fd uintptr) { got, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if got != 2*controlRecvBuffer {
		t.Errorf("SO_RCVBUF %d, want %d", got, 2*controlRecvBuffer)
	}
}
