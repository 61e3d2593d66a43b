package ui

import (
	"context"
	"sync"
	"testing"
	"time"

	"segcast/engine"
)

// Switching clocks keeps Now continuous, and a sleeper started on the old
// clock wakes by the new one.
func TestSwitchClockContinuity(t *testing.T) {
	a, b := newManualClock(), newManualClock()
	a.Advance(5 * time.Second)
	b.Advance(100 * time.Second)
	c := newSwitchClock(a)
	if got := c.Now(); got != 5*time.Second {
		t.Fatalf("Now = %v, want 5s", got)
	}
	done := make(chan error, 1)
	go func() { done <- c.SleepUntil(context.Background(), 7*time.Second) }()
	c.Switch(b)
	if got := c.Now(); got != 5*time.Second {
		t.Fatalf("after switch Now = %v, want 5s (continuous)", got)
	}
	a.Advance(10 * time.Second) // the old clock no longer counts
	select {
	case err := <-done:
		t.Fatalf("sleeper woke on the old clock: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	b.Advance(2 * time.Second)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sleeper did not wake when the new clock passed its deadline")
	}
	if got := c.Now(); got != 7*time.Second {
		t.Fatalf("Now = %v, want 7s", got)
	}
}

// manualClock only moves when told to; SleepUntil blocks until then.
type manualClock struct {
	mu    sync.Mutex
	now   time.Duration
	moved chan struct{}
}

func newManualClock() *manualClock { return &manualClock{moved: make(chan struct{})} }

func (m *manualClock) Now() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *manualClock) Advance(d time.Duration) {
	m.mu.Lock()
	m.now += d
	close(m.moved)
	m.moved = make(chan struct{})
	m.mu.Unlock()
}

func (m *manualClock) SleepUntil(ctx context.Context, t time.Duration) error {
	for {
		m.mu.Lock()
		now, moved := m.now, m.moved
		m.mu.Unlock()
		if now >= t {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-moved:
		}
	}
}

// The switch clock is RealTime exactly while the clock in use is.
func TestSwitchClockRealTime(t *testing.T) {
	c := newSwitchClock(newManualClock())
	if engine.RealTime(c) {
		t.Fatal("RealTime on a manual clock")
	}
	c.Switch(engine.NewWallClock())
	if !engine.RealTime(c) {
		t.Fatal("not RealTime on the wall clock")
	}
}
