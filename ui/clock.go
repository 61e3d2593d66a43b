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
	mu     sync.Mutex
	cur    engine.Clock
	offset time.Duration // added to cur.Now()
	// epoch ends at the next switch, waking sleepers (without a goroutine
	// per sleep: the loop sleeps 80 times a second, paused or not).
	epoch    context.Context
	endEpoch context.CancelFunc
}

func newSwitchClock(c engine.Clock) *switchClock {
	s := &switchClock{cur: c}
	s.epoch, s.endEpoch = context.WithCancel(context.Background())
	return s
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
	s.endEpoch()
	s.epoch, s.endEpoch = context.WithCancel(context.Background())
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
		c, off, epoch := s.cur, s.offset, s.epoch
		s.mu.Unlock()
		sctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(epoch, cancel)
		err := c.SleepUntil(sctx, t-off)
		stop()
		cancel()
		if epoch.Err() != nil && ctx.Err() == nil {
			continue // switched: re-sleep on the new clock
		}
		return err
	}
}
