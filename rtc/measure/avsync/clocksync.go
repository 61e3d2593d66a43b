package avsync

import (
	"math"
	"sync"
)

// clockWindow is how many recent ping/pong samples the estimate looks at:
// enough to catch one quiet moment on a busy link, few enough to follow
// the slow drift between the two clocks (a minute at one ping a second).
const clockWindow = 64

// ClockSync estimates the page clock's offset from the app clock from
// NTP-style ping/pong samples. Queueing only ever adds delay, so the sample
// with the smallest round trip bounds the error best: its offset is used
// (NTP's clock filter), not an average that queueing would bias.
// Safe for concurrent use.
type ClockSync struct {
	mu       sync.Mutex
	samples  [clockWindow]clockSample
	n        int // samples held, ≤ clockWindow
	next     int // slot to overwrite
	rejected int
}

type clockSample struct{ offset, rtt float64 }

// Add records one exchange, all in ms: t0 app send, t1 page receive,
// t2 page send, t3 app receive. Impossible samples (non-finite, t3 < t0,
// t2 < t1, or a page hold longer than the round trip) are dropped and
// counted.
func (c *ClockSync) Add(t0, t1, t2, t3 float64) {
	rtt := (t3 - t0) - (t2 - t1)
	off := ((t1 - t0) + (t2 - t3)) / 2
	c.mu.Lock()
	defer c.mu.Unlock()
	if math.IsNaN(rtt) || math.IsInf(rtt, 0) || math.IsNaN(off) || math.IsInf(off, 0) ||
		t3 < t0 || t2 < t1 || rtt < 0 {
		c.rejected++
		return
	}
	c.samples[c.next] = clockSample{off, rtt}
	c.next = (c.next + 1) % clockWindow
	c.n = min(c.n+1, clockWindow)
}

// AddPong records a pong received at app time t3Ms.
func (c *ClockSync) AddPong(p Pong, t3Ms float64) { c.Add(p.AppMS, p.PageRxMS, p.PageTxMS, t3Ms) }

// best is the minimum-RTT sample; ok is false with none.
func (c *ClockSync) best() (clockSample, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		return clockSample{}, false
	}
	b := c.samples[0]
	for _, s := range c.samples[1:c.n] {
		if s.rtt < b.rtt {
			b = s
		}
	}
	return b, true
}

// Offset is page clock − app clock in ms: page time = app time + Offset.
func (c *ClockSync) Offset() (ms float64, ok bool) {
	b, ok := c.best()
	return b.offset, ok
}

// RTT is the smallest round trip in the window, ms. Its half is the
// bound on Offset's error.
func (c *ClockSync) RTT() (ms float64, ok bool) {
	b, ok := c.best()
	return b.rtt, ok
}

// Rejected counts samples Add dropped as impossible.
func (c *ClockSync) Rejected() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rejected
}
