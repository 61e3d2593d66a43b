package ui

import (
	"sync"
	"time"

	"segcast/engine/ring"
	"segcast/rtc/measure/avsync"
)

// localSyncCap bounds the local sync log: five minutes at 30 fps. Older
// rows are overwritten, so memory stays fixed however long the app runs
// (about 1.1 MB of rows).
const localSyncCap = 5 * 60 * 30

// heardPosition tells which media time the listener hears right now
// (*audioout.Output does).
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
