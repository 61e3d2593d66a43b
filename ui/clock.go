package ui

import (
	"context"
	"sync"
	"time"

	"segcast/engine"
)

// switchClock is the loop's clock. It runs on the audio device while only
// the preview plays, and on the wall clock once streaming starts; the
// switch keeps Now continuous (an offset absorbs the difference), so the
// loop's absolute deadlines stay valid across it.
type switchClock struct {
	mu      sync.Mutex
	cur     engine.Clock
	offset  time.Duration // added to cur.Now()
	changed chan struct{} // closed at each switch to wake sleepers
}

func newSwitchClock(c engine.Clock) *switchClock {
	return &switchClock{cur: c, changed: make(chan struct{})}
}

func (s *switchClock) Now() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.Now() + s.offset
}

// RealTime: whether the clock in use moves with the system's clock
// (engine.RealTime), e.g. the wall clock while streaming.
func (s *switchClock) RealTime() bool { return engine.RealTime(s.Current()) }

// Switch makes c the time source from now on.
func (s *switchClock) Switch(c engine.Clock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == s.cur {
		return
	}
	now := s.cur.Now() + s.offset
	s.cur, s.offset = c, now-c.Now()
	close(s.changed)
	s.changed = make(chan struct{})
}

// Current is the clock in use.
func (s *switchClock) Current() engine.Clock {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *switchClock) SleepUntil(ctx context.Context, t time.Duration) error {
	for {
		s.mu.Lock()
		c, off, changed := s.cur, s.offset, s.changed
		s.mu.Unlock()
		sctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-changed:
				cancel()
			case <-sctx.Done():
			}
		}()
		err := c.SleepUntil(sctx, t-off)
		cancel()
		select {
		case <-changed:
			if ctx.Err() == nil {
				continue // re-sleep on the new clock
			}
		default:
		}
		return err
	}
}
