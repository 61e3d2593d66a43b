package ui

import (
	"math"
	"testing"
	"time"

	"segcast/rtc/measure/avsync"
)

// fullLocalLog is a local sync log at its cap, 5 min of 30 fps.
func fullLocalLog() *localSync {
	l := newLocalSync()
	h := &aheadHeard{ahead: 3 * time.Millisecond}
	l.setHeard(h)
	for k := range int64(localSyncCap) {
		l.record(shownFrame{seq: k, mediaNS: k * 1e9 / 30, dropped: k / 1000})
	}
	return l
}

// One refresh of a drift view over a full local log: summary, plot and
// send strip, as done twice a second off the UI thread.
func BenchmarkDriftRefreshFullLog(b *testing.B) {
	s := sendSample{audioP50: 0.2, audioP99: 1, videoP50: 0.4, videoP99: 2}
	v := newDriftView(&fakeFeed{rows: fullLocalLog().measurements(), send: &s}, syncDo, "Latency", "Freezes")
	for i := range sendHistoryCap {
		v.sends = append(v.sends, sendSample{atS: float64(i) / 2, audioP99: 1, videoP99: 2})
	}
	b.ReportAllocs()
	for b.Loop() {
		v.update()
	}
}

// The cost the preview pays per shown frame on the UI thread.
func BenchmarkLocalSyncRecord(b *testing.B) {
	l := fullLocalLog()
	b.ReportAllocs()
	k := int64(0)
	for b.Loop() {
		l.record(shownFrame{seq: k, mediaNS: k * 1e9 / 30})
		k++
	}
}

// Rows and send timing with any numbers (a page can send huge or
// negative values) draw without panicking, at the fixed size.
func FuzzRenderDrift(f *testing.F) {
	f.Add(10.0, 50.0, 1.0, 2.0, 1000.0)
	f.Add(-1e300, math.Inf(1), math.NaN(), -5.0, 0.0)
	f.Add(1e12, -1e12, 1e9, 1e-300, -1e15)
	f.Fuzz(func(t *testing.T, off, lat, ap99, vp99, video float64) {
		u := avsync.Unknown()
		var rows []avsync.Measurement
		for i := range 3 {
			rows = append(rows, avsync.Measurement{FlashIndex: int64(i), VideoMS: avsync.Opt(video + float64(i)),
				AudioMS: avsync.Opt(video + off), OffsetMS: avsync.Opt(off * float64(i)), LatencyMS: avsync.Opt(lat),
				AtMS: u, Stats: avsync.UnknownStats()})
			rows[len(rows)-1].Freezes = avsync.Opt(i)
		}
		sends := []sendSample{{atS: 0, audioP99: ap99, videoP99: vp99}, {atS: 1, audioP99: vp99, videoP99: ap99, lateVideo: 1}}
		img := renderDrift(avsync.Summarise(rows), sends)
		if b := img.Bounds(); b.Dx() != driftPlotW || b.Dy() != driftPlotH+sendStripH {
			t.Fatalf("picture %v", b.Size())
		}
		_ = summaryTexts(avsync.Summarise(rows))
	})
}
