package audioout

import (
	"context"
	"time"
)

// maxSpeed bounds how much faster than the wall clock Now may run. Real
// devices drift by parts per million; a device that swallows samples as
// fast as they come (an ALSA file PCM over "null") would otherwise drive
// the loop flat out. Held to this, the callback waits for audio instead
// and such a device plays in real time.
const maxSpeed = 1.01

// Now is the position the listener hears: samples handed to the device
// minus its output latency, interpolated on the wall clock between
// callbacks (never past one buffer), never faster than maxSpeed times the
// wall clock, and never going backwards.
func (o *Output) Now() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nowLocked()
}

func (o *Output) nowLocked() time.Duration {
	now := o.heardAt
	if !o.wallAt.IsZero() {
		now += min(time.Since(o.wallAt), o.bufDur)
	}
	wall := time.Now()
	if !o.lastWall.IsZero() {
		now = min(now, o.lastNow+time.Duration(maxSpeed*float64(wall.Sub(o.lastWall))))
	}
	if now > o.lastNow || o.lastWall.IsZero() {
		o.lastNow, o.lastWall = max(now, 0), wall
	}
	return o.lastNow
}

// SleepUntil returns once Now() >= t. It wakes on every device callback
// and on a wall-clock timer for the remaining time, re-reading the device
// position each time, so it follows the device however fast it runs.
func (o *Output) SleepUntil(ctx context.Context, t time.Duration) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		o.mu.Lock()
		now := o.nowLocked()
		tick := o.tick
		o.mu.Unlock()
		if now >= t {
			return nil
		}
		timer.Reset(t - now)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
		case <-timer.C:
		}
	}
}
