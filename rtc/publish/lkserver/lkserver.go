//go:build linux

// Package lkserver runs real LiveKit dev servers on loopback for tests and
// benchmarks: the binary .ci/livekit.sh builds once per machine, one node
// or two sharing a redis-server, on free ports, with the dev keys.
// Linux only, like the tests that use it: children die with the test
// (Pdeathsig) and Pause is SIGSTOP.
package lkserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The dev keys every node accepts.
const (
	APIKey    = "devkey"
	APISecret = "secret"
)

// startTimeout bounds a node's start (a busy 2-core machine included).
const startTimeout = 60 * time.Second

// Options choose the cluster.
type Options struct {
	// Nodes is 1 (default) or more; more than one share a redis-server.
	Nodes int
	// SyncStreams sets the server's room.sync_streams.
	SyncStreams bool
}

// Cluster is a running set of nodes.
type Cluster struct {
	Nodes []*Node
	redis *exec.Cmd
}

// Node is one livekit-server process.
type Node struct {
	URL     string // ws://127.0.0.1:PORT
	Port    int
	UDPPort int
	script  string
	args    []string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Start runs the cluster for the test and stops it at cleanup. Without the
// server (it could not be built) the test skips, or fails under CI=1.
func Start(t testing.TB, opt Options) *Cluster {
	t.Helper()
	script := script(t)
	if opt.Nodes < 1 {
		opt.Nodes = 1
	}
	dir := t.TempDir()
	c := &Cluster{}
	t.Cleanup(c.stop)
	var redisAddr string
	if opt.Nodes > 1 {
		if _, err := exec.LookPath("redis-server"); err != nil {
			unavailable(t, "redis-server: %v (.ci/deps.sh test installs it)", err)
		}
		port := freePort(t, "tcp")
		redisAddr = "127.0.0.1:" + strconv.Itoa(port)
		c.redis = exec.Command(script, "redis", strconv.Itoa(port))
		c.redis.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.redis.Start(); err != nil {
			t.Fatalf("redis-server: %v", err)
		}
		waitTCP(t, redisAddr)
	}
	for i := range opt.Nodes {
		n := &Node{script: script, logPath: filepath.Join(dir, fmt.Sprintf("node%d.log", i+1))}
		n.Port, n.UDPPort = freePort(t, "tcp"), freePort(t, "udp")
		n.URL = fmt.Sprintf("ws://127.0.0.1:%d", n.Port)
		n.args = []string{"node", filepath.Join(dir, fmt.Sprintf("node%d", i+1)),
			strconv.Itoa(n.Port), strconv.Itoa(n.UDPPort)}
		if redisAddr != "" {
			n.args = append(n.args, "--redis", redisAddr)
		}
		if opt.SyncStreams {
			n.args = append(n.args, "--sync-streams")
		}
		c.Nodes = append(c.Nodes, n)
		n.Start(t)
	}
	return c
}

// Start (re)starts the node on its ports and waits until it serves.
func (n *Node) Start(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(n.script, n.args...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("livekit node: %v", err)
	}
	n.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}(n.cmd, n.exited)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		if err := ping(ctx, n.Port); err == nil {
			return
		}
		select {
		case <-n.exited:
			t.Fatalf("livekit node on port %d exited at start; its log:\n%s", n.Port, n.Log())
		case <-ctx.Done():
			t.Fatalf("livekit node on port %d did not serve within %v; its log:\n%s", n.Port, startTimeout, n.Log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Kill ends the node at once (SIGKILL), as a crash would.
func (n *Node) Kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.exited
}

// Pause stops the node (SIGSTOP): to its peers the network has gone
// silent. Resume undoes it.
func (n *Node) Pause()  { _ = n.cmd.Process.Signal(syscall.SIGSTOP) }
func (n *Node) Resume() { _ = n.cmd.Process.Signal(syscall.SIGCONT) }

// CPU is the user+system time the node's process has used so far (from
// /proc; USER_HZ is 100 on Linux), or 0 if it cannot be read.
func (n *Node) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // f[0] is field 3, state
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// Log returns what the node has logged so far (its last 8 KiB).
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.logPath)
	if len(b) > 8<<10 {
		b = b[len(b)-8<<10:]
	}
	return string(b)
}

func (c *Cluster) stop() {
	for _, n := range c.Nodes {
		n.Resume()
		n.Kill()
	}
	if c.redis != nil && c.redis.Process != nil {
		_ = c.redis.Process.Kill()
		_ = c.redis.Wait()
	}
}

func ping(ctx context.Context, port int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

func waitTCP(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within %v", addr, startTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort asks the kernel for a port that is free now.
func freePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// unavailable skips the test, or fails it under CI.
func unavailable(t testing.TB, format string, a ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, a...)
	if os.Getenv("CI") != "" {
		t.Fatalf("LiveKit server unavailable under CI: %s", msg)
	}
	t.Skipf("LiveKit server unavailable (set CI=1 to make this a failure): %s", msg)
}

// script finds .ci/livekit.sh, makes sure the server is built (once per
// machine; callers wait for a build in progress) and returns the script's
// path.
func script(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		unavailable(t, "%v", err)
	}
	s := filepath.Join(root, ".ci", "livekit.sh")
	var stderr bytes.Buffer
	cmd := exec.Command(s, "build")
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil {
		unavailable(t, "%s build: %v\n%s", s, err, stderr.String())
	} else if _, err := os.Stat(string(bytes.TrimSpace(out))); err != nil {
		unavailable(t, "%s build printed %q: %v", s, out, err)
	}
	return s
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, ".ci", "livekit.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no .ci/livekit.sh above the working directory")
		}
		dir = parent
	}
}
