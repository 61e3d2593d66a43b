package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFakeClockJumps(t *testing.T) {
	c := NewFakeClock()
	ctx := context.Background()
	if err := c.SleepUntil(ctx, 5*time.Second); err != nil || c.Now() != 5*time.Second {
		t.Fatalf("SleepUntil(5s): err %v, now %v", err, c.Now())
	}
	// A deadline in the past leaves the time alone.
	if err := c.SleepUntil(ctx, time.Second); err != nil || c.Now() != 5*time.Second {
		t.Fatalf("SleepUntil(past): err %v, now %v", err, c.Now())
	}
	c.Advance(250 * time.Millisecond)
	if c.Now() != 5250*time.Millisecond {
		t.Fatalf("Advance: now %v", c.Now())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.SleepUntil(cctx, time.Hour); !errors.Is(err, context.Canceled) || c.Now() != 5250*time.Millisecond {
		t.Fatalf("cancelled SleepUntil: err %v, now %v", err, c.Now())
	}
}

func TestWallClockSleepsToDeadline(t *testing.T) {
	c := NewWallClock()
	ctx := context.Background()
	a := c.Now()
	if a < 0 {
		t.Fatalf("Now() = %v before the origin", a)
	}
	// Never early: after SleepUntil(t), Now() ≥ t, for a few deadlines.
	for i := 1; i <= 3; i++ {
		d := a + time.Duration(i)*5*time.Millisecond
		if err := c.SleepUntil(ctx, d); err != nil {
			t.Fatal(err)
		}
		if now := c.Now(); now < d {
			t.Fatalf("woke at %v before deadline %v", now, d)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := c.SleepUntil(cctx, c.Now()+time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SleepUntil with a cancelled ctx: %v", err)
	}
}

func TestRealTime(t *testing.T) {
	if !RealTime(NewWallClock()) {
		t.Error("the wall clock is not RealTime")
	}
	if RealTime(NewFakeClock()) {
		t.Error("a FakeClock is RealTime")
	}
}
