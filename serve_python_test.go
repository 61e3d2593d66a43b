package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmePython is the README's Python example, as a user would copy it.
func readmePython(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n```python\n")
	code, _, ok2 := strings.Cut(rest, "\n```\n")
	if !ok || !ok2 {
		t.Fatal("README.md has no ```python block")
	}
	if n := strings.Count(code, "\n") + 1; n > 25 {
		t.Fatalf("the README's Python example has %d lines, the contract says at most 25", n)
	}
	return code
}

// The README's Python example pushes numpy frames and 24 kHz sound
// through GET live of a real `segcast serve` and prints the started event.
func TestREADMEPythonExamplePushesLive(t *testing.T) {
	code := readmePython(t)
	python := "/usr/bin/python3" // Debian's, where python3-websockets and python3-numpy install
	if _, err := os.Stat(python); err != nil {
		python = "python3"
	}
	if out, err := exec.Command(python, "-c", "import websockets, numpy").CombinedOutput(); err != nil {
		msg := "Python 3 with websockets and numpy (Debian: python3-websockets python3-numpy): " + strings.TrimSpace(string(out))
		if os.Getenv("CI") != "" {
			t.Fatalf("CI=%s and this test needs %s", os.Getenv("CI"), msg)
		}
		t.Skip("needs " + msg)
	}
	script := filepath.Join(t.TempDir(), "push.py")
	if err := os.WriteFile(script, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	serve := exec.CommandContext(ctx, segcastBin(t), "serve", "--listen", "127.0.0.1:0", "--size", "640x360", "--fps", "25")
	serve.Env = append(os.Environ(), "LANG=C.UTF-8")
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	serve.Stderr = &stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
		if t.Failed() {
			t.Logf("segcast serve stderr:\n%s", stderr.String())
		}
	}()
	rd := bufio.NewReader(stdout)
	var lines []string
	for range 3 {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("serve's banner: %v (got %q)", err, lines)
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	go rd.WriteTo(io.Discard)
	control := lines[2]
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/api/[0-9a-f]{32}/$`).MatchString(control) {
		t.Fatalf("third line %q, want the control API's URL", control)
	}
	out, err := exec.CommandContext(ctx, python, script, control).CombinedOutput()
	t.Logf("python: %s", out)
	if err != nil {
		t.Fatalf("the README's Python example failed: %v", err)
	}
	if !regexp.MustCompile(`\{'event': 'started', 'id': 1, 'media_ms': \d+, 'unix_ms': \d+\}`).Match(out) {
		t.Fatalf("the example printed %q, want the started event", out)
	}
}
