package bench

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// Child is the running test binary started again as one of its own tests
// (a helper that hosts receivers or subscribers), so a benchmark can
// measure its own process's CPU alone. It talks over stdin and stdout;
// closing stdin asks it to finish.
type Child struct {
	cmd    *exec.Cmd
	Stdin  io.WriteCloser
	Out    *bufio.Scanner // the child's stdout, line by line
	stdout io.ReadCloser
}

// StartChild runs this test binary with -test.run=^test$ and env added.
func StartChild(tb testing.TB, ctx context.Context, test string, env ...string) *Child {
	tb.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return &Child{cmd: cmd, Stdin: stdin, Out: bufio.NewScanner(stdout), stdout: stdout}
}

// Counts closes the child's stdin, reads the n whole numbers it prints
// then (one a line) and waits for it to exit.
func (c *Child) Counts(n int) []int {
	c.Stdin.Close()
	var counts []int
	for len(counts) < n && c.Out.Scan() {
		v, _ := strconv.Atoi(c.Out.Text())
		counts = append(counts, v)
	}
	_, _ = io.Copy(io.Discard, c.stdout) // the test binary's "PASS"
	_ = c.cmd.Wait()
	return counts
}
