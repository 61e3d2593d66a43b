//go:build smoke

package ui

// Window benchmarks under Xvfb (the real binary; software GL counts):
//
//	go test -tags smoke -run '^$' -bench 'PausedXvfb|StreamChromium|FourClips' -benchtime 1x ./ui/
//
// SEGCAST_BENCH_SECONDS sets how long each measures (default 300: the
// targets are over five minutes).

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"segcast/bench"
)

// rssBytes is the resident set of pid from /proc.
func rssBytes(t testing.TB, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no VmRSS")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// BenchmarkPausedXvfb: one window, paused on the pattern, no viewers:
// CPU share of one core and RSS at the start and end of the measured span
// (target ≤ 3 % and flat).
func BenchmarkPausedXvfb(b *testing.B) {
	needTools(b, "Xvfb")
	bin := buildBinary(b)
	display := startXvfbSize(b, 1280, 800)
	app, _, log := startAppHome(b, b.TempDir(), bin, display, "--no-audio", "--paused")
	time.Sleep(15 * time.Second) // up and settled
	if !strings.Contains(log(), "") {
		b.Fatal("no log")
	}
	b.ResetTimer()
	c0, r0, t0 := cpuTime(b, app.Process.Pid), rssBytes(b, app.Process.Pid), time.Now()
	var peak int64
	for end := t0.Add(bench.Span(5 * time.Minute)); time.Now().Before(end); time.Sleep(5 * time.Second) {
		peak = max(peak, rssBytes(b, app.Process.Pid))
	}
	c1, r1 := cpuTime(b, app.Process.Pid), rssBytes(b, app.Process.Pid)
	wall := time.Since(t0).Seconds()
	b.ReportMetric(100*(c1-c0).Seconds()/wall, "%core")
	b.ReportMetric(float64(r0)/(1<<20), "MB-rss-start")
	b.ReportMetric(float64(r1)/(1<<20), "MB-rss-end")
	b.ReportMetric(float64(peak)/(1<<20), "MB-rss-peak")
}

var (
	streamStatsRE  = regexp.MustCompile(`msg="stream stats" viewers=(\d+) audio_p99_ms=([\d.eE+-]+|NaN) video_p99_ms=([\d.eE+-]+|NaN)`)
	memoryStatsRE  = regexp.MustCompile(`msg="preview stats" .* memory_used=(\d+)`)
	previewStatsRE = regexp.MustCompile(`msg="preview stats" shown=(\d+) preview_dropped=(\d+) loop_frames=\d+ skipped=(\d+) late_audio=(\d+) reduced=(\d)`)
)

// BenchmarkStreamChromium: the window previewing the 720p30 pattern and
// sharing it on the LAN to one headless Chromium viewer: send-time error
// p99 from the app, A/V offset, drift and freezes as the viewer page
// measures them (after a 15 s settle), the app's CPU.
func BenchmarkStreamChromium(b *testing.B) {
	benchStream(b, "--no-audio", "--share", "--stats", "5s")
}

// BenchmarkServeChromium is the same measurement without the window
// (`segcast serve --pattern`), to tell the window's cost from the
// machine's load.
func BenchmarkServeChromium(b *testing.B) {
	benchStream(b, "serve", "--pattern")
}

func benchStream(b *testing.B, args ...string) {
	needTools(b, "Xvfb")
	bin := buildBinary(b)
	display := startXvfbSize(b, 1280, 800)
	app, _, log := startAppHome(b, b.TempDir(), bin, display, args...)
	var url string
	for deadline := time.Now().Add(60 * time.Second); url == ""; time.Sleep(500 * time.Millisecond) {
		if m := regexp.MustCompile(`(http://[0-9.:]+/[0-9a-f]+/)`).FindStringSubmatch(log()); m != nil {
			url = m[1]
		}
		if time.Now().After(deadline) {
			b.Fatalf("no share URL in the log:\n%s", tail(log(), 2000))
		}
	}
	ctx := startChromium(b, bench.Span(5*time.Minute)+3*time.Minute)
	if _, err := pageEval[any](ctx, fmt.Sprintf("location.href = %q", url)); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if ok, _ := pageEval[bool](ctx, `window.segcastSync && window.segcastSync.measuring === true`); ok {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("viewer page did not connect and measure\n%s", tail(log(), 2000))
		}
	}
	time.Sleep(15 * time.Second) // settle: the page's trim and Chrome's jitter buffers
	n0, _ := pageEval[int](ctx, `window.segcastSync.rowsList.length`)
	f0, _ := pageEval[int](ctx, `window.segcastStats.freezeCount || 0`)
	b.ResetTimer()
	c0, t0 := cpuTime(b, app.Process.Pid), time.Now()
	time.Sleep(bench.Span(5 * time.Minute))
	c1 := cpuTime(b, app.Process.Pid)
	wall := time.Since(t0).Seconds()
	type summary struct {
		Samples int     `json:"samples"`
		Median  float64 `json:"median"`
		P95     float64 `json:"p95"`
		Drift   float64 `json:"drift"`
	}
	s, err := pageEval[summary](ctx, fmt.Sprintf(`(() => { const s = SegcastMeasure.summarise(window.segcastSync.rowsList.slice(%d));
		return {samples: s.samples, median: s.median, p95: s.p95, drift: s.drift}; })()`, n0))
	if err != nil {
		b.Fatalf("page summary: %v", err)
	}
	f1, _ := pageEval[int](ctx, `window.segcastStats.freezeCount || 0`)
	if m := streamStatsRE.FindAllStringSubmatch(log(), -1); len(m) > 0 {
		last := m[len(m)-1]
		ap99, _ := strconv.ParseFloat(last[2], 64)
		vp99, _ := strconv.ParseFloat(last[3], 64)
		b.ReportMetric(ap99, "audio-p99-ms")
		b.ReportMetric(vp99, "video-p99-ms")
	}
	b.ReportMetric(s.P95, "offset-p95-ms")
	b.ReportMetric(s.Median, "offset-median-ms")
	b.ReportMetric(s.Drift, "drift-ms/min")
	b.ReportMetric(float64(f1-f0), "freezes")
	b.ReportMetric(float64(s.Samples), "flashes")
	b.ReportMetric((c1-c0).Seconds()/wall, "cores")
	if p := previewStatsRE.FindAllStringSubmatch(log(), -1); len(p) > 0 {
		l := p[len(p)-1]
		b.Logf("last preview stats: shown %s dropped %s skipped %s late audio %s reduced %s", l[1], l[2], l[3], l[4], l[5])
	}
}

// BenchmarkFourClipsXvfb: four 720p clips loaded in the window (paused):
// its RSS against the frame memory the status bar reports (target: RSS ≤
// that + 250 MB).
func BenchmarkFourClipsXvfb(b *testing.B) {
	needTools(b, "Xvfb")
	bin := buildBinary(b)
	display := startXvfbSize(b, 1280, 800)
	dir := b.TempDir()
	var clips []string
	for i := range 4 {
		p := filepath.Join(dir, fmt.Sprintf("clip%d.y4m", i))
		writeRampY4M(b, p, 1280, 720, 150, 30) // 5 s each
		clips = append(clips, p)
	}
	app, _, log := startAppHome(b, b.TempDir(), bin, display, append([]string{"--no-audio", "--paused", "--stats", "2s"}, clips...)...)
	var used int64
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(2 * time.Second) {
		if m := memoryStatsRE.FindAllStringSubmatch(log(), -1); len(m) > 0 {
			used, _ = strconv.ParseInt(m[len(m)-1][1], 10, 64)
		}
		if used >= 4*150*1280*720*3/2 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("clips not loaded (memory used %d)\n%s", used, tail(log(), 2000))
		}
	}
	time.Sleep(10 * time.Second)
	b.ResetTimer()
	rss := rssBytes(b, app.Process.Pid)
	b.ReportMetric(float64(used)/(1<<20), "MB-frames")
	b.ReportMetric(float64(rss)/(1<<20), "MB-rss")
	b.ReportMetric(float64(rss-used)/(1<<20), "MB-over")
}
