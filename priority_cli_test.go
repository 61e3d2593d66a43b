//go:build linux

package main

import (
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A session's two senders and its loop run at real-time priority where
// the user may have it (rtc/priority_linux.go, rtc/runloop.go), so a busy
// machine does not make them late; the rest of the process stays
// ordinary. Where the user may not, nothing is real-time and the stream
// starts all the same.
func TestCLIServeRunsSendersAndLoopAtRealTimePriority(t *testing.T) {
	want := map[string]int{"5": 2, "4": 1} // the video and the audio sender; the loop
	if err := probeRealTime(); err != nil {
		t.Logf("no real-time scheduling for this user (%v): everything must stay ordinary", err)
		want = map[string]int{}
	}
	bin := segcastBin(t)
	cmd, lines, stderr := startCLI(t, bin, nil, "serve", "--pattern", "--size", "160x120", "--listen", "127.0.0.1:0")
	if page := firstLine(t, lines, stderr); !strings.HasPrefix(page, "http") {
		t.Fatalf("page line %q", page)
	}
	// The loop starts after the banner: look until it is there (or 10 s).
	var got map[string]int
	var threads int
	for range 100 {
		got, threads = realTimeThreads(t, cmd.Process.Pid)
		if maps.Equal(got, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("threads at SCHED_FIFO by priority %v (of %d threads), want %v (the senders at 5, the loop at 4, where allowed)",
		got, threads, want)
}

// realTimeThreads counts pid's SCHED_FIFO threads by priority, and all
// its threads; a thread at any other real-time policy fails the test.
func realTimeThreads(t *testing.T, pid int) (map[string]int, int) {
	t.Helper()
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "stat"))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of pid %d: %v", pid, err)
	}
	fifo := map[string]int{}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		// Fields after the command's closing parenthesis: rt_priority is
		// the 40th field of stat, policy the 41st.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		switch prio, policy := f[37], f[38]; policy {
		case "1":
			fifo[prio]++
		case "2":
			t.Fatalf("%s: SCHED_RR priority %s: only SCHED_FIFO is asked for", p, prio)
		}
	}
	return fifo, len(tasks)
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
