package rtc

import (
	"context"
	"errors"
	"testing"
	"time"

	"segcast/engine"
)

// sleepUntilPrecise never wakes before the deadline on the wall clock,
// returns a cancelled ctx's error, and leaves a fake clock's sleeping to
// the clock (which jumps to the deadline).
func TestSleepUntilPrecise(t *testing.T) {
	ctx := context.Background()
	wall := engine.NewWallClock()
	for _, ahead := range []time.Duration{-time.Millisecond, 0, 300 * time.Microsecond, 3 * time.Millisecond, 70 * time.Millisecond} {
		d := wall.Now() + ahead
		if err := sleepUntilPrecise(ctx, wall, d); err != nil {
			t.Fatal(err)
		}
		if now := wall.Now(); now < d {
			t.Fatalf("deadline %v ahead: woke %v early", ahead, d-now)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := sleepUntilPrecise(cctx, wall, wall.Now()+time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled: %v", err)
	}
	fake := engine.NewFakeClock()
	if err := sleepUntilPrecise(ctx, fake, time.Hour); err != nil || fake.Now() != time.Hour {
		t.Fatalf("fake clock: err %v, now %v (want 1h)", err, fake.Now())
	}
}
