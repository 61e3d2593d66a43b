package measure

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"segcast/rtc/internal/rtctest"
	"segcast/rtc/measure/avsync"
)

// TestMeasureJSOnLocalPage runs assets/measure.js in headless Chromium on
// assets/measure_test.html, which plays a locally generated pattern whose
// beeps are delayed by known amounts, cycling flash by flash through
// injected = 0, +100, −60 ms. It checks the audio half of the measurement
// on its own: offset + latency is the beep's heard time minus its send
// time, which must move by the injection ± 10 ms. (The page's canvas
// video path jitters by frames under load, so offsets themselves are
// checked on a real stream: TestMeasureCycledOffsetInChromium.) The rows
// go through DecodePageMessage and Summarise as the app's do.
// displayFrameMS is one frame of a 60 Hz display, the grid rVFC's times
// are on.
const displayFrameMS = 1000.0 / 60

func TestMeasureJSOnLocalPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := rtctest.StartChromium(t,
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true))
	srv := httptest.NewServer(http.FileServer(http.Dir("../../assets")))
	defer srv.Close()

	injected := []float64{0, 100, -60}
	const perInjection = 5
	untilAccurate(t, "local page", func(int) (misses []string) {
		r := measureLocalPage(t, ctx, srv.URL+"/measure_test.html?offsets=0,100,-60", perInjection*len(injected)+1)
		t.Logf("all flashes: %s (%d rows)", r.OneLine(), r.Offset.Samples)
		heard := make([][]float64, len(injected))
		for _, m := range r.Measurements {
			i := int(m.FlashIndex/30) % len(injected)
			t.Logf("  k %d injected %+g: offset %.1f latency %.1f heard %.1f", m.FlashIndex, injected[i],
				float64(m.OffsetMS), float64(m.LatencyMS), float64(m.OffsetMS+m.LatencyMS))
			// On this page the "send" is the canvas draw and the present
			// time is rVFC's vsync-aligned expectedDisplayTime, so a frame
			// shown at once can read a hair below zero; more than one 60 Hz
			// display frame early would be a broken clock mapping.
			if !m.LatencyMS.Known() || m.LatencyMS < -displayFrameMS {
				t.Errorf("flash %d latency %v ms, want known and no more than one display frame below zero", m.FlashIndex, float64(m.LatencyMS))
				continue
			}
			heard[i] = append(heard[i], float64(m.OffsetMS+m.LatencyMS))
		}
		med := func(v []float64) float64 {
			s := slices.Sorted(slices.Values(v))
			return s[len(s)/2]
		}
		for i := 1; i < len(injected); i++ {
			if len(heard[i]) < 2 || len(heard[0]) < 2 {
				t.Fatalf("too few rows per injection: %d and %d", len(heard[0]), len(heard[i]))
			}
			want := injected[i] - injected[0]
			if moved := med(heard[i]) - med(heard[0]); math.Abs(moved-want) > injectTolerance {
				misses = append(misses, fmt.Sprintf("injecting %+g ms moved the beep's heard time by %+.1f ms, want %+g ± %.0f", injected[i], moved, want, injectTolerance))
			}
		}
		return misses
	})
}

// measureLocalPage loads url, waits for rows flash/beep rows and
// summarises them.
func measureLocalPage(t *testing.T, ctx context.Context, url string, rows int) avsync.Report {
	t.Helper()
	// Set location instead of Navigate: no waiting for a load event
	// that a page playing media may hold back.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open about:blank: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href = `+strconv.Quote(url))); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	var ms []avsync.Measurement
	step := ""
	deadline := time.Now().Add(40 * time.Second)
	for len(ms) < rows {
		if time.Now().After(deadline) {
			t.Fatalf("%s: only %d rows after 40 s (page at step %q)", url, len(ms), step)
		}
		time.Sleep(500 * time.Millisecond)
		state, err := chromedp.Run(ctx, chromedp.Evaluate[localPageState](`({failure: window.failure || '', step: window.step || '', msgs: window.msgs || []})`))
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if state.Failure != "" {
			t.Fatalf("%s: page failed: %s", url, state.Failure)
		}
		step = state.Step
		ms = ms[:0]
		for _, s := range state.Msgs {
			v, err := avsync.DecodePageMessage([]byte(s))
			if err != nil {
				t.Fatalf("page sent %s: %v", s, err)
			}
			m, ok := v.(avsync.Measurement)
			if !ok {
				continue
			}
			if m.FlashIndex%30 != 0 {
				t.Errorf("flash row with index %d: not a flash frame (k %% 30 != 0)", m.FlashIndex)
			}
			ms = append(ms, m)
		}
	}
	return avsync.Summarise(ms)
}

// localPageState is what measure_test.html publishes.
type localPageState struct {
	Failure string   `json:"failure"`
	Step    string   `json:"step"`
	Msgs    []string `json:"msgs"`
}
