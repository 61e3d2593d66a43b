package bench

import (
	"math"
	"os"
	"strings"
	"testing"
)

func TestSlope(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4}
	if s := Slope(x, []float64{5, 7, 9, 11, 13}); math.Abs(s-2) > 1e-12 {
		t.Errorf("slope of 2x+5: %v", s)
	}
	if s := Slope(x, []float64{3, 3, 3, 3, 3}); s != 0 {
		t.Errorf("flat: %v", s)
	}
	if s := Slope([]float64{1}, []float64{1}); s != 0 {
		t.Errorf("one point: %v", s)
	}
}

func TestRSSOfThisProcess(t *testing.T) {
	rss, err := RSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 || rss > 64<<30 {
		t.Fatalf("RSS %d bytes", rss)
	}
}

// A trace as Go 1.26 prints it, a log line in between.
const schedTrace = `SCHED 0ms: gomaxprocs=2 idleprocs=1 threads=5 spinningthreads=0 needspinning=0 idlethreads=2 runqueue=0 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false
  P0: status=0 schedtick=0 syscalltick=0 m=nil runqsize=0 gfreecnt=0 timerslen=0
  M0: p=nil curg=nil mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=true lockedg=nil
  G1: status=2(chan receive) m=0 lockedm=0
  G17: status=11() m=1 lockedm=1
  G2: status=4(force gc (idle)) m=nil lockedm=nil
time=2026-11-27T14:30:29.502Z level=INFO msg="sharing on LAN"
  G3: status=4100(GC sweep wait) m=nil lockedm=nil
  G9: status=6() m=nil lockedm=nil
SCHED 2000ms: gomaxprocs=2 idleprocs=1 threads=5 spinningthreads=0 needspinning=0 idlethreads=2 runqueue=0 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false
  G1: status=4(chan receive) m=nil lockedm=nil
SCHED 4000ms: gomaxprocs=2 idleprocs=1 threads=5 spinningthreads=0 needspinning=0 idlethreads=2 runqueue=0 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false
`

func TestGoroutinesFromSchedTrace(t *testing.T) {
	var counts []int
	var logs []string
	err := Goroutines(strings.NewReader(schedTrace), func(n int) { counts = append(counts, n) }, func(l string) { logs = append(logs, l) })
	if err != nil {
		t.Fatal(err)
	}
	// G1, G2, G3 (scan bit set) live; G17 a cgo callback's, G9 dead. The
	// last trace is incomplete until the next header.
	if len(counts) != 2 || counts[0] != 3 || counts[1] != 1 {
		t.Errorf("counts %v, want [3 1]", counts)
	}
	if len(logs) != 1 || !strings.HasPrefix(logs[0], "time=") {
		t.Errorf("other lines %q", logs)
	}
}
