package rtctest

import (
	"context"
	"fmt"
	"os"
	"segcast/rtc/internal/chromium"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// StartChromium launches a fresh headless Chromium and returns a chromedp
// context for one tab; everything is torn down when the test ends. extra
// options come last, so they override the defaults.
func StartChromium(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	RequireNetns(t)
	if _, err := os.Stat(chromium.DefaultPath); err != nil {
		Missing(t, fmt.Sprintf("%s (Debian package chromium): %v", chromium.DefaultPath, err))
	}
	opts := chromium.Options(chromium.DefaultPath, t.TempDir())
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	// Bound the whole browser session so a hung page cannot hang the test.
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// PageStats is window.segcastStats, as the viewer page publishes it.
type PageStats struct {
	State                string  `json:"state"`
	CandidateType        string  `json:"candidateType"`
	Width                int     `json:"width"`
	Height               int     `json:"height"`
	FPS                  float64 `json:"fps"`
	VideoBitrate         float64 `json:"videoBitrate"`
	AudioBitrate         float64 `json:"audioBitrate"`
	PacketsLost          int     `json:"packetsLost"`
	JitterBufferMs       float64 `json:"jitterBufferMs"`
	AudioJitterBufferMs  float64 `json:"audioJitterBufferMs"`
	FreezeCount          int     `json:"freezeCount"`
	FramesDecoded        int     `json:"framesDecoded"`
	FramesDropped        int     `json:"framesDropped"`
	TotalSamplesReceived int     `json:"totalSamplesReceived"`
	ConcealedSamples     int     `json:"concealedSamples"`
	// Updated is when the page read these (Unix ms).
	Updated int64 `json:"updated"`
}

func ReadStats(ctx context.Context) (PageStats, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[PageStats](`window.segcastStats`))
}

// FrameLuma draws the current video frame on a canvas and returns its
// mean and maximum luma (0..255) and its size.
type FrameLuma struct {
	Mean, Max     float64
	Width, Height int
}

const sampleFrameJS = `(() => {
  const v = document.getElementById("video");
  const w = v.videoWidth, h = v.videoHeight;
  if (!w || !h) return {Mean: 0, Max: 0, Width: 0, Height: 0};
  const c = document.createElement("canvas");
  c.width = w; c.height = h;
  const g = c.getContext("2d", {willReadFrequently: true});
  g.drawImage(v, 0, 0, w, h);
  const d = g.getImageData(0, 0, w, h).data;
  let sum = 0, max = 0;
  for (let i = 0; i < d.length; i += 4) {
    const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    sum += y;
    if (y > max) max = y;
  }
  return {Mean: sum / (w * h), Max: max, Width: w, Height: h};
})()`

func SampleFrame(ctx context.Context) (FrameLuma, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[FrameLuma](sampleFrameJS))
}

// WaitPageConnected polls the page until the peer connection is up.
func WaitPageConnected(ctx context.Context, t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s, err := ReadStats(ctx)
		if err != nil {
			t.Fatalf("read page stats: %v", err)
		}
		if s.State == "connected" {
			return
		}
		if s.State == "failed" || s.State == "ended" || time.Now().After(deadline) {
			msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("error")))
			why, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("endedReason")))
			t.Fatalf("viewer page state %q (within %v); page error: %q; ended: %q", s.State, within, msg, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WatchPlayback samples the page's stats once a second for d and checks
// what a person would: frames keep decoding, no freezes, sound arrives,
// the picture is not black. It returns the samples for the notes.
//
// senderLate counts items the sending side handed over or wrote late
// (loop skips, late or dropped packets). A freeze is the browser's
// verdict on arrival gaps, so it is only the receiver's fault when the
// sender was on time: with senderLate growing (a starved 2-core machine
// running other tests) freezes are logged, not failed.
func WatchPlayback(ctx context.Context, t testing.TB, d time.Duration, senderLate func() int64) []PageStats {
	t.Helper()
	var samples []PageStats
	late0 := senderLate()
	start := time.Now()
	for i := 1; time.Since(start) < d; i++ {
		// Absolute deadlines: one sample per second from start.
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second)))
		s, err := ReadStats(ctx)
		if err != nil {
			t.Fatalf("read page stats: %v", err)
		}
		samples = append(samples, s)
	}
	if len(samples) < 2 {
		t.Fatalf("only %d stats samples", len(samples))
	}
	first, last := samples[0], samples[len(samples)-1]
	t.Logf("browser: %dx%d, %.1f fps, video %.0f kbit/s, jitter buffer %.0f ms video / %.0f ms audio, lost %d, freezes %d, decoded %d→%d, audio samples %d→%d, path %s",
		last.Width, last.Height, last.FPS, last.VideoBitrate/1000, last.JitterBufferMs, last.AudioJitterBufferMs,
		last.PacketsLost, last.FreezeCount, first.FramesDecoded, last.FramesDecoded,
		first.TotalSamplesReceived, last.TotalSamplesReceived, last.CandidateType)
	// Steady decoding: every one-second interval adds frames.
	for i := 1; i < len(samples); i++ {
		if samples[i].FramesDecoded <= samples[i-1].FramesDecoded {
			t.Errorf("framesDecoded stalled between second %d and %d: %d → %d",
				i, i+1, samples[i-1].FramesDecoded, samples[i].FramesDecoded)
		}
		if samples[i].TotalSamplesReceived <= samples[i-1].TotalSamplesReceived {
			t.Errorf("audio stalled between second %d and %d: totalSamplesReceived %d → %d",
				i, i+1, samples[i-1].TotalSamplesReceived, samples[i].TotalSamplesReceived)
		}
	}
	if late := senderLate() - late0; last.FreezeCount > first.FreezeCount && late == 0 {
		t.Errorf("freezeCount %d → %d while the sender was on time, want no freezes", first.FreezeCount, last.FreezeCount)
	} else if last.FreezeCount > first.FreezeCount {
		t.Logf("freezeCount %d → %d, but the sender was late %d times in the window (machine starved): not the viewer's fault",
			first.FreezeCount, last.FreezeCount, late)
	}
	span := float64(len(samples) - 1) // seconds from first to last sample
	if got := float64(last.FramesDecoded-first.FramesDecoded) / span; got < 10 {
		t.Errorf("decoded %.1f frames/s over %.0f s, want a steady stream", got, span)
	}
	// 48 kHz: about 48000 samples a second (concealment counts too; see
	// ConcealedSamples in the log).
	if got := float64(last.TotalSamplesReceived-first.TotalSamplesReceived) / span; got < 24000 {
		t.Errorf("received %.0f audio samples/s, want about 48000", got)
	}
	l, err := SampleFrame(ctx)
	if err != nil {
		t.Fatalf("sample video frame: %v", err)
	}
	t.Logf("picture: %dx%d, mean luma %.1f, max %.1f", l.Width, l.Height, l.Mean, l.Max)
	if l.Width == 0 || l.Max < 150 || l.Mean < 20 { // the pattern: luma 40 ground, 235 text
		t.Errorf("decoded picture looks black: %+v", l)
	}
	return samples
}

// FmtSamples is a compact per-second table for logs and notes.
func FmtSamples(ss []PageStats) string {
	out := "sec frames fps jb_ms freezes audio_samples concealed\n"
	for i, s := range ss {
		out += fmt.Sprintf("%3d %6d %4.1f %5.0f %d %9d %d\n", i+1, s.FramesDecoded, s.FPS, s.JitterBufferMs, s.FreezeCount, s.TotalSamplesReceived, s.ConcealedSamples)
	}
	return out
}

// ChromiumCPU is the CPU time (user+system) used so far by the browser
// and all its child processes (renderer, GPU, network, audio).
func ChromiumCPU(ctx context.Context) (time.Duration, error) {
	c := chromedp.FromContext(ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return 0, fmt.Errorf("no browser process")
	}
	root := c.Browser.Process().Pid
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	type proc struct {
		ppid  int
		ticks int64
	}
	procs := map[int]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// Fields after the parenthesised command: state ppid … utime(14) stime(15).
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		procs[pid] = proc{ppid, ut + st}
	}
	inTree := func(pid int) bool {
		for depth := 0; pid > 1 && depth < 64; depth++ {
			if pid == root {
				return true
			}
			pid = procs[pid].ppid
		}
		return false
	}
	var ticks int64
	for pid, p := range procs {
		if inTree(pid) {
			ticks += p.ticks
		}
	}
	const userHZ = 100 // Linux USER_HZ: /proc times are in 1/100 s
	return time.Duration(ticks) * time.Second / userHZ, nil
}
