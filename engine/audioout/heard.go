package audioout

import (
	"time"

	"segcast/engine"
)

// staleLimit is how far Now may trail the device's own frame count before
// the count is trusted instead: a second, far beyond any real buffering.
const staleLimit = engine.AudioRate

// HeardMediaNS is the session media time (ns) of the sample the listener
// hears now; ok is false until the first queued sample is heard. It is
// what the local sync view compares the picture on screen with.
//
// The loop feeds the output from chunk 0 (media time 0) on and never skips
// audio, so queued sample i is media time i/48 kHz; the counters say which
// queued sample is heard: device frames heard, minus the silence played
// before the first sample and in underruns, plus samples dropped from a
// full queue.
func (o *Output) HeardMediaNS() (ns int64, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return heardMediaNS(o.nowLocked(), o.stats)
}

// heardMediaNS is HeardMediaNS from the output's Now and counters.
//
// Device frames heard are Now (played minus output latency, interpolated
// between callbacks), never more than the frames handed over minus the
// latency. A device that swallows samples faster than real time (an ALSA
// file PCM over "null") counts frames far ahead of Now, which is held near
// the wall clock; its Now no longer says which sample it has, so past
// staleLimit the frame count decides: there "heard" is what the device
// has taken.
func heardMediaNS(now time.Duration, st Stats) (int64, bool) {
	if st.FirstSample < 0 {
		return 0, false
	}
	heard := durationToFrames(now)
	handed := st.Played - durationToFrames(st.Latency)
	frame := min(heard, handed)
	if handed-heard > staleLimit {
		frame = handed
	}
	q := frame - st.FirstSample - st.Underrun + st.Dropped
	if q < 0 {
		return 0, false // still hearing the silence before the first sample
	}
	return int64(framesToDuration(q)), true
}

// durationToFrames is d in 48 kHz sample frames (floor), without
// overflowing after days of playing.
func durationToFrames(d time.Duration) int64 {
	s, r := int64(d/time.Second), int64(d%time.Second)
	return s*engine.AudioRate + r*engine.AudioRate/int64(time.Second)
}
