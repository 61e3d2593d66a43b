package ui

import (
	"math"
	"sync"
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/audioout"
	"segcast/rtc/measure/avsync"
)

// aheadHeard is an audio position running a fixed distance ahead of the
// frame being shown (negative: behind).
type aheadHeard struct {
	mu    sync.Mutex
	shown int64
	ahead time.Duration
}

func (a *aheadHeard) HeardMediaNS() (int64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.shown + int64(a.ahead), true
}

// Audio heard N ms ahead of the picture is audio early: offset −N; behind
// is audio late: +N. Read back within 1 ms, for every frame.
func TestLocalSyncRecorderOffset(t *testing.T) {
	rate := engine.Rate{Num: 30000, Den: 1001}
	for _, ahead := range []time.Duration{80 * time.Millisecond, -120 * time.Millisecond, 0} {
		l := newLocalSync()
		h := &aheadHeard{ahead: ahead}
		l.setHeard(h)
		for k := range int64(90) {
			media := rate.FrameNS(k)
			h.mu.Lock()
			h.shown = media
			h.mu.Unlock()
			l.record(shownFrame{seq: k, mediaNS: media, at: time.Duration(media)})
		}
		rows := l.measurements()
		if len(rows) != 90 {
			t.Fatalf("ahead %v: %d rows, want 90", ahead, len(rows))
		}
		want := -float64(ahead) / 1e6
		for _, m := range rows {
			if d := float64(m.OffsetMS) - want; math.Abs(d) > 1 {
				t.Fatalf("ahead %v: frame %d offset %v ms, want %v", ahead, m.FlashIndex, m.OffsetMS, want)
			}
			if d := float64(m.AudioMS-m.VideoMS) - float64(m.OffsetMS); math.Abs(d) > 1e-9 {
				t.Fatalf("audio_ms − video_ms = %v, offset_ms %v", m.AudioMS-m.VideoMS, m.OffsetMS)
			}
		}
		r := avsync.Summarise(rows)
		if math.Abs(float64(r.Offset.Median)-want) > 1 || math.Abs(float64(r.DriftMSPerMin)) > 1 {
			t.Errorf("ahead %v: median %v drift %v, want %v and 0", ahead, r.Offset.Median, r.DriftMSPerMin, want)
		}
	}
}

// The log keeps the newest localSyncCap rows, oldest first.
func TestLocalSyncRingBounded(t *testing.T) {
	l := newLocalSync()
	l.setHeard(&aheadHeard{})
	total := localSyncCap + 250
	for k := range int64(total) {
		l.record(shownFrame{seq: k, mediaNS: k * 1e6})
	}
	rows := l.measurements()
	if len(rows) != localSyncCap {
		t.Fatalf("%d rows held, want %d", len(rows), localSyncCap)
	}
	if rows[0].FlashIndex != 250 || rows[len(rows)-1].FlashIndex != int64(total-1) {
		t.Fatalf("rows run %d…%d, want 250…%d", rows[0].FlashIndex, rows[len(rows)-1].FlashIndex, total-1)
	}
}

// Without a heard position nothing is recorded.
func TestLocalSyncNoSource(t *testing.T) {
	l := newLocalSync()
	l.record(shownFrame{seq: 1, mediaNS: 1e6})
	if n := len(l.measurements()); n != 0 || l.hasSource() {
		t.Fatalf("recorded %d rows without an audio position", n)
	}
}

// statsAudio is a fake device that also reports its sample counters, as
// *audioout.Output does.
type statsAudio struct {
	*fakeAudio
	mu sync.Mutex
	st audioout.Stats
	// followNow makes Played keep one 10 ms buffer ahead of Now, as a
	// device playing in real time does.
	followNow bool
}

func (s *statsAudio) Stats() audioout.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	if s.followNow {
		st.Played = durationToFrames(s.Now()) + 480
	}
	return st
}

// The device's counters turn its heard position into media time: silence
// before the first sample and in underruns does not count, dropped
// samples do.
func TestDeviceHeardPosition(t *testing.T) {
	dev := &statsAudio{fakeAudio: &fakeAudio{manualClock: newManualClock()}}
	h := heardFromDevice(dev)
	if h == nil {
		t.Fatal("a device with Stats gives no heard position")
	}
	dev.st = audioout.Stats{FirstSample: -1}
	dev.Advance(time.Second)
	if _, ok := h.HeardMediaNS(); ok {
		t.Error("heard position known before the first sample played")
	}
	// First sample at device frame 4800 (0.1 s), 20 ms of underrun, 10 ms dropped.
	// Now says 1.5 s is heard; 1.52 s were handed over with 10 ms latency.
	dev.st = audioout.Stats{FirstSample: 4800, Underrun: 960, Dropped: 480, Played: 72960, Latency: 10 * time.Millisecond}
	dev.Advance(500 * time.Millisecond)
	got, ok := h.HeardMediaNS()
	want := (1500 - 100 - 20 + 10) * time.Millisecond
	if !ok || time.Duration(got) != want {
		t.Errorf("heard %v (ok %v), want %v", time.Duration(got), ok, want)
	}
	// Now never runs past what was handed over minus the latency.
	dev.st.Played = 72000 // 1.5 s handed, 10 ms of it still in the device
	got, _ = h.HeardMediaNS()
	if want := (1490 - 100 - 20 + 10) * time.Millisecond; time.Duration(got) != want {
		t.Errorf("heard %v, want %v (bounded by the frames handed over)", time.Duration(got), want)
	}
	// A device 3 s ahead of its Now (faster than real time): its count rules.
	dev.st.Played = 72000 + 3*48000
	got, _ = h.HeardMediaNS()
	if want := (4490 - 100 - 20 + 10) * time.Millisecond; time.Duration(got) != want {
		t.Errorf("heard %v, want %v (a device racing ahead is taken at its count)", time.Duration(got), want)
	}
	if heardFromDevice(&fakeAudio{manualClock: newManualClock()}) != nil {
		t.Error("a device without counters claims a heard position")
	}
}

// End to end in the window: the preview records each frame it shows
// against the device's heard position. The fake device says 100 ms of
// queued audio were dropped, so what is heard runs 100 ms ahead of the
// picture: audio early, offset −100 ms, on every frame.
func TestLocalSyncInPreview(t *testing.T) {
	dev := &statsAudio{fakeAudio: &fakeAudio{manualClock: newManualClock()},
		st: audioout.Stats{FirstSample: 0, Dropped: 4800}, followNow: true}
	h := newHarnessAudio(t, Options{}, dev)
	rate := h.c.rate
	last := func() int64 {
		rows := h.c.preview.local.measurements()
		if len(rows) == 0 {
			return -1
		}
		return rows[len(rows)-1].FlashIndex
	}
	for k := int64(0); k < 20; k++ {
		dev.Advance(time.Duration(rate.FrameNS(k)) - dev.Now())
		h.waitFor("frame shown", func() bool { return last() >= k })
	}
	rows := h.c.preview.local.measurements()
	if len(rows) < 20 {
		t.Fatalf("%d rows for 20 frames shown", len(rows))
	}
	onTime := 0
	for _, m := range rows {
		if !m.LatencyMS.Known() || m.LatencyMS != 0 {
			continue // shown late (not by this test's stepping): offset includes it
		}
		onTime++
		if d := float64(m.OffsetMS) + 100; math.Abs(d) > 1 {
			t.Errorf("frame %d: offset %v ms, want −100", m.FlashIndex, m.OffsetMS)
		}
	}
	if onTime < 15 {
		t.Errorf("only %d of %d frames shown on time", onTime, len(rows))
	}
	r := avsync.Summarise(rows)
	if math.Abs(float64(r.Offset.Median)+100) > 1 {
		t.Errorf("median offset %v ms, want −100", r.Offset.Median)
	}
}
