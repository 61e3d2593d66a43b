package avsync

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestClockSyncRecoversOffsetUnderAsymmetricQueueing(t *testing.T) {
	const trueOffset = 8123.25 // page clock − app clock, ms
	rng := rand.New(rand.NewPCG(5, 6))
	var c ClockSync
	var naive float64
	const n = 60
	for i := range n {
		t0 := 1000 + float64(i)*1000
		// 0.2 ms each way on the wire, then queueing: heavy and bursty
		// app→page (the video shares that way), light page→app.
		fwd := 0.2 + rng.ExpFloat64()*15
		back := 0.2 + rng.ExpFloat64()*1
		hold := rng.Float64() * 2 // page's own handling time
		t1 := t0 + fwd + trueOffset
		t2 := t1 + hold
		t3 := t2 - trueOffset + back
		c.Add(t0, t1, t2, t3)
		naive += ((t1 - t0) + (t2 - t3)) / 2
	}
	off, ok := c.Offset()
	if !ok || math.Abs(off-trueOffset) > 0.5 {
		t.Errorf("Offset = %v, %v; want %v ± 0.5", off, ok, trueOffset)
	}
	rtt, ok := c.RTT()
	if !ok || rtt < 0.4 || rtt > 3 {
		t.Errorf("RTT = %v, %v; want the quietest round trip, 0.4…3 ms", rtt, ok)
	}
	// The test data must be hard enough that averaging would fail.
	if bias := naive/n - trueOffset; math.Abs(bias) < 3 {
		t.Fatalf("naive mean bias only %.2f ms: queueing too gentle to test anything", bias)
	}
}

func TestClockSyncRejectsImpossibleSamples(t *testing.T) {
	var c ClockSync
	if _, ok := c.Offset(); ok {
		t.Fatal("Offset ok with no samples")
	}
	c.Add(10, 5, 4, 12)         // page sent before it received
	c.Add(10, 5, 6, 9)          // app received before it sent
	c.Add(10, 5, 9, 11)         // page held 4 ms of a 1 ms round trip
	c.Add(math.NaN(), 1, 2, 3)  // not a number
	c.Add(0, math.Inf(1), 2, 3) // infinite
	if c.Rejected() != 5 {
		t.Errorf("Rejected = %d, want 5", c.Rejected())
	}
	if _, ok := c.Offset(); ok {
		t.Error("Offset ok after only impossible samples")
	}
	c.AddPong(Pong{ID: 1, AppMS: 100, PageRxMS: 151, PageTxMS: 152}, 103)
	if off, ok := c.Offset(); !ok || off != 50 {
		t.Errorf("Offset = %v, %v; want 50", off, ok)
	}
}

func TestClockSyncFollowsWindow(t *testing.T) {
	// An old, very quiet sample must age out so a changed offset shows.
	var c ClockSync
	c.Add(0, 100, 100, 0.1) // offset 99.95 rtt 0.1
	for i := range clockWindow {
		t0 := float64(1000 + i)
		c.Add(t0, t0+1+20, t0+1+20, t0+2) // offset 20, rtt 2
	}
	if off, _ := c.Offset(); math.Abs(off-20) > 1e-9 {
		t.Errorf("Offset = %v after the window moved on, want 20", off)
	}
}
