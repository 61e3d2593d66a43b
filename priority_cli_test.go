//go:build linux

package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A session's two senders run at real-time priority where the user may
// have it (rtc/priority_linux.go), so a busy machine does not make them
// late; the rest of the process stays ordinary. Where the user may not,
// nothing is real-time and the stream starts all the same.
func TestCLIStreamSendersRunAtRealTimePriority(t *testing.T) {
	want := 2
	if err := probeRealTime(); err != nil {
		t.Logf("no real-time scheduling for this user (%v): the senders must stay ordinary", err)
		want = 0
	}
	bin := segcastBin(t)
	stdinR, stdinW, err := os.Pipe() // held open: the answer never comes
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	cmd, lines, stderr := startCLI(t, bin, stdinR, "stream", "--pattern", "--size", "160x120", "--offer")
	stdinR.Close()
	if offer := firstLine(t, lines, stderr); len(offer) < 100 {
		t.Fatalf("offer line %q", offer)
	}
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "task", "*", "stat"))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of pid %d: %v", cmd.Process.Pid, err)
	}
	var fifo, other int
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		// Fields after the command's closing parenthesis: rt_priority is
		// the 40th field of stat, policy the 41st.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		prio, policy := f[37], f[38]
		switch {
		case policy == "1" && prio == "5":
			fifo++
		case policy == "1" || policy == "2":
			t.Errorf("%s: policy %s priority %s: only the senders are real-time, at 5", p, policy, prio)
		default:
			other++
		}
	}
	if fifo != want {
		t.Fatalf("%d threads at SCHED_FIFO 5 (of %d), want %d (the video and the audio sender where allowed)",
			fifo, fifo+other, want)
	}
}

// probeRealTime asks for SCHED_FIFO on a thread that then ends.
func probeRealTime() error {
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread ends with the goroutine
		done <- unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 1}, 0)
	}()
	return <-done
}
