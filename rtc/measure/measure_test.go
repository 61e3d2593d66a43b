package measure

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/engine/stats"
	"segcast/rtc"
	"segcast/rtc/internal/chromium"
	"segcast/rtc/internal/rtctest"
	"segcast/rtc/measure/avsync"
)

// The injected-offset tests stream the pattern through Measure to real
// headless Chromium with the beep moved in the content (the engine's
// AudioOffset hook, or a sound track with beeps moved flash by flash).
// The viewer page's lip-sync trim works from timing alone, so it keeps the
// tracks' timelines together and the content's offset shows in full.
const (
	measureSettle = 20 * time.Second // Chrome's lip sync converging
	measureFor    = 12 * time.Second
	// injectTolerance is the issue's ±10 ms.
	injectTolerance = 10.0
	// timelineTolerance bounds how far the page's timing-only estimate
	// may sit from its flash/beep measurement (seen: within 1–2 ms).
	timelineTolerance = 5.0
)

// measureRun runs Measure on a fresh 640×360 pattern loop with audio
// shifted by offset, writing the report to a temporary directory.
func measureRun(t *testing.T, offset time.Duration) (avsync.Report, string) {
	t.Helper()
	return measureSegment(t, offset, pattern.New(rtctest.BrowserW, rtctest.BrowserH, engine.Rate30, time.Minute), true, measureFor)
}

// measureSegment is measureRun on a given 640×360 30 fps segment, with
// the page's lip-sync trim on or off, measuring for length.
func measureSegment(t *testing.T, offset time.Duration, seg *engine.Segment, lipSync bool, length time.Duration) (avsync.Report, string) {
	t.Helper()
	rtctest.RequireNetns(t)
	if _, err := os.Stat(chromium.DefaultPath); err != nil {
		rtctest.Missing(t, fmt.Sprintf("%s (Debian package chromium): %v", chromium.DefaultPath, err))
	}
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{
		Rate: engine.Rate30, Width: rtctest.BrowserW, Height: rtctest.BrowserH, Clock: clock, Lead: rtc.EncodeLead,
		AudioOffset: offset,
	})
	loop.Add(seg)
	loop.SetLoop(true)
	dir := t.TempDir()
	logs := &rtctest.LogBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Run(ctx, loop, Options{
		Config:   rtc.Config{Width: rtctest.BrowserW, Height: rtctest.BrowserH, Rate: engine.Rate30, Clock: clock},
		Duration: length, Settle: measureSettle, OutDir: dir, NoLipSync: !lipSync,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("Measure (audio offset %v): %v\nlog:\n%s", offset, err, logs)
	}
	t.Logf("injected %+v: %s", offset, r.OneLine())
	for _, m := range r.Measurements {
		t.Logf("  k %4d offset %6.1f timeline %6.1f trim a %5.1f v %5.1f latency %6.1f jb %5.1f", m.FlashIndex,
			float64(m.OffsetMS), float64(m.TimelineMS), float64(m.TrimAudioMS), float64(m.TrimVideoMS),
			float64(m.LatencyMS), float64(m.JitterBufferMS))
	}
	if r.Offset.Samples < int(length/time.Second)/2 {
		t.Fatalf("injected %v: only %d rows in %v of measuring; log:\n%s", offset, r.Offset.Samples, length, logs)
	}
	return r, dir
}

// checkReportFiles checks report.json has the keys the issue names (in
// ms, numbers where a run has rows) and report.png is a PNG.
func checkReportFiles(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	for _, k := range []string{"offset_ms", "drift_ms_per_min", "latency_ms", "freezes", "measurements", "send_error_ms"} {
		if _, ok := top[k]; !ok {
			t.Errorf("report.json lacks %q", k)
		}
	}
	var r struct {
		Offset  map[string]*float64 `json:"offset_ms"`
		Latency map[string]*float64 `json:"latency_ms"`
		Rows    []map[string]any    `json:"measurements"`
		SendErr map[string]*float64 `json:"send_error_ms"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	for _, k := range []string{"median", "p95", "max_abs", "samples"} {
		if v, ok := r.Offset[k]; !ok || v == nil {
			t.Errorf("report.json offset_ms.%s missing or null", k)
		}
	}
	for _, k := range []string{"p50", "p95"} {
		if v, ok := r.Latency[k]; !ok || v == nil {
			t.Errorf("report.json latency_ms.%s missing or null: the page computed no latency", k)
		}
	}
	for _, k := range []string{"audio_p50", "video_p50"} {
		if v := r.SendErr[k]; v == nil {
			t.Errorf("report.json send_error_ms.%s missing or null", k)
		}
	}
	if len(r.Rows) == 0 {
		t.Error("report.json has no measurements")
	} else if _, ok := r.Rows[0]["offset_ms"]; !ok {
		t.Errorf("measurement rows lack offset_ms: %v", r.Rows[0])
	}
	f, err := os.Open(filepath.Join(dir, "report.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("report.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("report.png is %v", b)
	}
}

// TestMeasureAudioOffsetHookInChromium: audio delayed by 80 ms in the
// engine's test hook must measure +80 ± 10 ms, and no injection 0 ± 10
// ms, each in its own connection. What is compared is the content's
// offset: each row's flash/beep offset less the page's timing-only
// estimate of where the two tracks stand (timeline_ms). A single run's
// raw median also carries where Chrome's lip sync and the page's trim
// happen to stand (within a display frame or two 12 s after settling: one
// clean-clone CI run read −13.6 ms with nothing injected), which the
// estimate sees too; the content offset does not move with it.
func TestMeasureAudioOffsetHookInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("about a minute of streaming to Chromium")
	}
	for i, inj := range []time.Duration{0, 80 * time.Millisecond} {
		untilAccurate(t, fmt.Sprintf("injected %+v", inj), func(attempt int) (misses []string) {
			r, dir := measureRun(t, inj)
			if i == 0 && attempt == 1 {
				checkReportFiles(t, dir)
			}
			checkRows(t, r, true)
			want := float64(inj) / float64(time.Millisecond)
			content := medianOf(r.Measurements, func(m avsync.Measurement) float64 {
				return float64(m.OffsetMS) - float64(m.TimelineMS)
			})
			tl := medianOf(r.Measurements, func(m avsync.Measurement) float64 { return float64(m.TimelineMS) })
			t.Logf("injected %+.0f ms through LoopConfig.AudioOffset: content offset %+.1f ms (raw median %+.1f, timeline %+.1f)",
				want, content, float64(r.Offset.Median), tl)
			if math.IsNaN(content) || math.Abs(content-want) > injectTolerance {
				misses = append(misses, fmt.Sprintf("content offset %+.1f ms, want %+.0f ± %.0f", content, want, injectTolerance))
			}
			if want != 0 && math.Signbit(float64(r.Offset.Median)) != math.Signbit(want) {
				misses = append(misses, fmt.Sprintf("raw median %+.1f ms has the wrong sign", float64(r.Offset.Median)))
			}
			// The trim works from timing alone: it must not have taken the
			// content's offset for the tracks' (following it, it would
			// have moved the tracks the injection apart), so they stand
			// within 2 × injectTolerance of together. With nothing
			// injected there is nothing to follow; how far the trim has
			// converged 12 s after settling is not this test's business
			// (one clean-clone CI run read +34 ms, its content offset
			// −3.7 ms).
			if want != 0 && math.Abs(tl) > 2*injectTolerance {
				misses = append(misses, fmt.Sprintf("timeline offset median %+.1f ms: the trim followed the content", tl))
			}
			return misses
		})
	}
}

// measureAttempts is how many connections an accuracy check may take.
// Chrome shows a flash on a 60 Hz vsync, and where a stream's frames meet
// the vsyncs near a boundary, its rows flip a display frame (16.7 ms)
// back and forth, more often when the shared host steals time: a median
// of 8–12 rows then misses by a display frame (CI saw −69.7 ms for −80,
// row pairs exactly 80.2 or 63.5 apart). A fresh connection meets the
// vsyncs at a fresh phase; a measurement that is wrong misses in every
// one.
const measureAttempts = 2

// untilAccurate runs measure, which makes one measurement in a fresh
// connection and returns what it found out of tolerance, until an attempt
// finds nothing or measureAttempts have missed; then the test fails with
// every attempt's misses. Other checks inside measure fail the test
// directly, attempt or not.
func untilAccurate(t *testing.T, what string, measure func(attempt int) []string) {
	t.Helper()
	var all []string
	for attempt := 1; attempt <= measureAttempts; attempt++ {
		misses := measure(attempt)
		if len(misses) == 0 {
			if attempt > 1 {
				t.Logf("%s: attempt %d within tolerance after %d missed: %s", what, attempt, attempt-1, strings.Join(all, "; "))
			}
			return
		}
		for _, m := range misses {
			all = append(all, fmt.Sprintf("attempt %d: %s", attempt, m))
		}
		t.Logf("%s: attempt %d missed: %s", what, attempt, strings.Join(misses, "; "))
	}
	t.Errorf("%s: every attempt missed:\n  %s", what, strings.Join(all, "\n  "))
}

// medianOf is the median of f over rows (NaN for none).
func medianOf(rows []avsync.Measurement, f func(avsync.Measurement) float64) float64 {
	var v []float64
	for _, m := range rows {
		if x := f(m); !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	slices.Sort(v)
	return stats.Quantile(v, 0.5)
}

func checkRows(t *testing.T, r avsync.Report, lipSync bool) {
	t.Helper()
	for _, m := range r.Measurements {
		if m.FlashIndex%30 != 0 {
			t.Errorf("row for frame %d, which is no flash frame of the 30 fps pattern", m.FlashIndex)
		}
		if !m.AtMS.Known() {
			t.Errorf("row for frame %d has no arrival time", m.FlashIndex)
		}
		// Chromium reads the track itself (MediaStreamTrackProcessor) and
		// reports the output delay that path adds (media-playout).
		if m.AudioPath != avsync.AudioPathTrack || !m.PlayoutDelayMS.Known() {
			t.Errorf("row for frame %d: audio path %q, playout delay %v ms; want %q and a delay",
				m.FlashIndex, m.AudioPath, m.PlayoutDelayMS, avsync.AudioPathTrack)
		}
		// Past the settle the page has its timeline estimate, and its trim,
		// when on, has reported its targets.
		if !m.TimelineMS.Known() || m.TrimAudioMS.Known() != lipSync || m.TrimVideoMS.Known() != lipSync {
			t.Errorf("row for frame %d: timeline %v ms, trim audio %v video %v: want a timeline, trim targets only with the trim on (%v)",
				m.FlashIndex, m.TimelineMS, m.TrimAudioMS, m.TrimVideoMS, lipSync)
		}
	}
}

// cycleShifts are the beep offsets injected flash by flash: second s of
// the segment gets cycleShifts[s%3].
var cycleShifts = [...]time.Duration{0, 80 * time.Millisecond, -80 * time.Millisecond}

// TestMeasureCycledOffsetInChromium injects 0, +80 and −80 ms in turn,
// flash by flash, in one stream (the pattern's picture with beeps moved
// by cycleShifts), so every injection meets the same Chrome state. The
// median content offset of the +80/−80 rows less that of the 0 rows must
// be the injection ± 10 ms. And the page's
// timeline estimate, from timing alone, must agree with the flash/beep
// measurement less the injection: it is what the trim steers by. Run
// with the trim off (?lipsync=off), which this also checks.
func TestMeasureCycledOffsetInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("about 40 s of streaming to Chromium")
	}
	untilAccurate(t, "cycled injections", func(int) (misses []string) {
		seg := pattern.New(rtctest.BrowserW, rtctest.BrowserH, engine.Rate30, time.Minute)
		seg.Audio = &cycledBeeps{rate: engine.Rate30, samples: seg.Audio.Len()}
		// Trim off: it may move the picture a display frame between the
		// rows compared; that it leaves content offsets alone is the hook
		// test's. Twice the usual rows: about 8 per injection.
		r, _ := measureSegment(t, 0, seg, false, 2*measureFor)
		checkRows(t, r, false)
		shiftOf := func(m avsync.Measurement) time.Duration { return cycleShifts[(m.FlashIndex/30)%3] }
		gap := medianOf(r.Measurements, func(m avsync.Measurement) float64 {
			return float64(m.OffsetMS-m.TimelineMS) - float64(shiftOf(m))/float64(time.Millisecond)
		})
		t.Logf("offset − injection − timeline estimate: median %+.1f ms", gap)
		if !(math.Abs(gap) <= timelineTolerance) {
			misses = append(misses, fmt.Sprintf("timeline estimate is %+.1f ms from the flash/beep offset less the injection, want within ±%.0f", gap, timelineTolerance))
		}
		// Each injection against the rows with none, as content offsets
		// (each row's flash/beep offset less the page's timing-only
		// estimate, as in TestMeasureAudioOffsetHookInChromium): a row's
		// raw offset also moves with the display frame Chrome shows the
		// flash on, which the estimate sees too.
		content := func(inj time.Duration) float64 {
			return medianOf(r.Measurements, func(m avsync.Measurement) float64 {
				if shiftOf(m) != inj {
					return math.NaN()
				}
				return float64(m.OffsetMS) - float64(m.TimelineMS)
			})
		}
		base := content(0)
		for _, inj := range cycleShifts[1:] {
			want := float64(inj) / float64(time.Millisecond)
			got := content(inj) - base
			t.Logf("injected %+.0f ms: content offset moved %+.1f ms", want, got)
			if math.IsNaN(got) || math.Abs(got-want) > injectTolerance {
				misses = append(misses, fmt.Sprintf("injected %+.0f ms: measured %+.1f ms, want %+.0f ± %.0f", want, got, want, injectTolerance))
			}
		}
		return misses
	})
}

// cycledBeeps is the pattern's sound (a 40 ms 1 kHz cosine beep per
// flash, 48 kHz mono) with the beep of second s moved by cycleShifts[s%3].
type cycledBeeps struct {
	rate    engine.Rate
	samples int64
}

func (a *cycledBeeps) Len() int64    { return a.samples }
func (a *cycledBeeps) Channels() int { return 1 }
func (a *cycledBeeps) Bytes() int64  { return 0 }

func (a *cycledBeeps) Fill(dst []int16, off int64) {
	clear(dst)
	n := int64(len(dst) / 2)
	const beep = engine.AudioRate * 40 / 1000
	for sec := max(0, off/engine.AudioRate-1); sec*engine.AudioRate < off+n+engine.AudioRate; sec++ {
		k := a.rate.FramesIn(sec * 1e9)
		shift := int64(cycleShifts[sec%3]) * engine.AudioRate / int64(time.Second)
		onset := pattern.BeepOnsetSample(a.rate.FrameNS(k)) + shift
		for s := max(onset, off, 0); s < min(onset+beep, off+n, a.samples); s++ {
			v := int16(math.Round(16384 * math.Cos(2*math.Pi*float64(s-onset)/48)))
			dst[2*(s-off)], dst[2*(s-off)+1] = v, v
		}
	}
}
