package engine

import (
	"context"
	"sync"
	"time"
)

// wallClock reads Go's monotonic clock relative to its creation, so the
// loop's deadlines are immune to wall-clock steps (NTP, DST).
type wallClock struct{ origin time.Time }

// NewWallClock returns a Clock on the process's monotonic clock. Its zero
// is the moment it was created.
func NewWallClock() Clock { return &wallClock{origin: time.Now()} }

func (c *wallClock) Now() time.Duration { return time.Since(c.origin) }

// RealTime: the wall clock is the system's monotonic clock.
func (c *wallClock) RealTime() bool { return true }

// RealTime reports whether c moves with the system's monotonic clock (a
// clock with a RealTime method returning true), so that a caller may wait
// for its deadlines with OS sleeps instead of c.SleepUntil.
func RealTime(c Clock) bool {
	r, ok := c.(interface{ RealTime() bool })
	return ok && r.RealTime()
}

// SleepUntil sleeps to the absolute deadline t with one timer. It re-arms
// only if the timer fired before t (it should not on a monotonic clock),
// always aiming at t itself, so no error accumulates across calls.
func (c *wallClock) SleepUntil(ctx context.Context, t time.Duration) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := t - c.Now()
		if d <= 0 {
			return nil
		}
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// FakeClock is a Clock for tests and offline runs: SleepUntil jumps the
// time forward instead of sleeping, so a day of media runs in seconds.
type FakeClock struct {
	mu  sync.Mutex
	now time.Duration
}

// NewFakeClock returns a FakeClock at time 0.
func NewFakeClock() *FakeClock { return &FakeClock{} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SleepUntil moves the time to t if t is later, and returns at once.
func (c *FakeClock) SleepUntil(ctx context.Context, t time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if t > c.now {
		c.now = t
	}
	c.mu.Unlock()
	return nil
}

// Advance moves the time forward by d (a stall, as seen by the loop).
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now += d
	c.mu.Unlock()
}
