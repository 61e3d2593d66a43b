package ui

import (
	"sync"
	"time"

	"segcast/engine"
	"segcast/engine/audioout"
	"segcast/engine/ring"
	"segcast/rtc/measure/avsync"
)

// localSyncCap bounds the local sync log: five minutes at 30 fps. Older
// rows are overwritten, so memory stays fixed however long the app runs
// (about 1.1 MB of rows).
const localSyncCap = 5 * 60 * 30

// heardPosition tells which media time the listener hears right now.
type heardPosition interface {
	// HeardMediaNS is the session media time (ns) of the sample being
	// heard; ok is false while nothing has been heard yet.
	HeardMediaNS() (ns int64, ok bool)
}

// localSync records, for every frame the preview puts on screen, how far
// the sound heard at that moment is from the picture. Rows are
// avsync.Measurements so that avsync.Summarise and Plot work unchanged:
//
//   - VideoMS is the shown frame's media time (the plot's time axis);
//   - OffsetMS is shown − heard media time, which is audio − video in
//     presentation time (avsync's sign: positive = audio late). Hearing
//     media time m+d while frame m is shown means m's sound was heard d
//     earlier than its picture: audio early by d, offset −d;
//   - AudioMS is VideoMS + OffsetMS (when frame m's sound was heard, on
//     the same scale), so AudioMS − VideoMS = OffsetMS as avsync expects;
//   - LatencyMS is how late the frame reached the screen after its due
//     time (display delay);
//   - Freezes and FramesDropped are the preview's dropped-frame count, so
//     the plot marks drops as it marks a browser's freezes.
//
// Safe for concurrent use: the UI thread records, views read.
type localSync struct {
	mu    sync.Mutex
	heard heardPosition // nil: no device that reports its position
	rows  *ring.Buffer[avsync.Measurement]
}

func newLocalSync() *localSync {
	return &localSync{rows: ring.New[avsync.Measurement](localSyncCap)}
}

// setHeard chooses where the heard position comes from (nil stops recording).
func (l *localSync) setHeard(h heardPosition) {
	l.mu.Lock()
	l.heard = h
	l.mu.Unlock()
}

// hasSource reports whether anything can be recorded.
func (l *localSync) hasSource() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.heard != nil
}

// shownFrame is what the preview knows about a frame as it shows it.
type shownFrame struct {
	seq     int64
	mediaNS int64
	late    time.Duration // clock now − due time
	at      time.Duration // app clock now
	dropped int64         // preview frames dropped so far
}

// record logs one shown frame against the position heard now.
func (l *localSync) record(f shownFrame) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.heard == nil {
		return
	}
	heard, ok := l.heard.HeardMediaNS()
	if !ok {
		return
	}
	video := nsToMS(f.mediaNS)
	off := nsToMS(f.mediaNS - heard)
	st := avsync.UnknownStats()
	st.Freezes, st.FramesDropped = avsync.Opt(f.dropped), avsync.Opt(f.dropped)
	m := avsync.Measurement{
		FlashIndex: f.seq,
		VideoMS:    avsync.Opt(video),
		AudioMS:    avsync.Opt(video + off),
		OffsetMS:   avsync.Opt(off),
		LatencyMS:  avsync.Opt(nsToMS(int64(f.late))),
		AtMS:       avsync.Opt(nsToMS(int64(f.at))),
		Stats:      st,
	}
	l.rows.Add(m)
}

// measurements returns the rows held, oldest first, in a new slice.
func (l *localSync) measurements() []avsync.Measurement {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rows.All()
}

func nsToMS(ns int64) float64 { return float64(ns) / 1e6 }

// playedDevice is the part of *audioout.Output that says what is heard.
type playedDevice interface {
	Now() time.Duration // heard position in device time (played − latency)
	Stats() audioout.Stats
}

// The real output must offer it, or the local sync view stays empty.
var _ playedDevice = (*audioout.Output)(nil)

// deviceHeard turns the device's heard position into media time. The loop
// feeds the device from chunk 0 (media time 0) on and never skips audio,
// so queued sample i is media time i/48 kHz; the device's counters say
// which queued sample is heard: device frames heard, minus the silence it
// played before the first sample and in underruns, plus samples it
// dropped from a full queue.
//
// Device frames heard are the output's Now (played minus output latency,
// interpolated between callbacks), never more than the frames handed over
// minus the latency. A device that swallows samples faster than real time
// (an ALSA file PCM over "null") counts frames far ahead of Now, which is
// held near the wall clock; its Now no longer says which sample it has,
// so past staleLimit the frame count decides: there "heard" is what the
// device has taken.
type deviceHeard struct{ dev playedDevice }

// staleLimit is how far Now may trail the device's own frame count before
// the count is trusted instead: a second, far beyond any real buffering.
const staleLimit = engine.AudioRate

// heardFromDevice is the heard position of dev, or nil when dev does not
// report one (then the local sync view says so).
func heardFromDevice(dev audioDevice) heardPosition {
	if p, ok := dev.(playedDevice); ok {
		return deviceHeard{p}
	}
	return nil
}

func (d deviceHeard) HeardMediaNS() (int64, bool) {
	now := durationToFrames(d.dev.Now())
	st := d.dev.Stats()
	if st.FirstSample < 0 {
		return 0, false
	}
	handed := st.Played - durationToFrames(st.Latency)
	frame := min(now, handed)
	if handed-now > staleLimit {
		frame = handed
	}
	q := frame - st.FirstSample - st.Underrun + st.Dropped
	if q < 0 {
		return 0, false // still hearing the silence before the first sample
	}
	return framesToNS(q), true
}

// durationToFrames is d in 48 kHz sample frames, without overflowing
// after days of playing.
func durationToFrames(d time.Duration) int64 {
	s, r := int64(d/time.Second), int64(d%time.Second)
	return s*engine.AudioRate + r*engine.AudioRate/int64(time.Second)
}

// framesToNS is n 48 kHz sample frames in ns, exact to the nanosecond floor.
func framesToNS(n int64) int64 {
	return n/engine.AudioRate*int64(time.Second) + n%engine.AudioRate*int64(time.Second)/engine.AudioRate
}
