//go:build linux

package measure

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/internal/chromium"
	"segcast/rtc/internal/rtctest"
	"segcast/rtc/measure/avsync"
	"segcast/rtc/publish"
	"segcast/rtc/publish/lkserver"
)

// BenchmarkMeasure720p30 is `segcast measure --pattern` on the 720p30
// pattern: one Measure run into headless Chromium on loopback, its
// figures reported as metrics (run with -benchtime=1x). Environment:
//
//	SEGCAST_MEASURE_DURATION  measuring time after the settle (default 2m)
//	SEGCAST_MEASURE_SETTLE    warm-up left out (default 15s; "-1s" = none)
//	SEGCAST_MEASURE_OUT       directory for report.json and report.png
//	SEGCAST_MEASURE_LOSS      impaired case: packet loss 0..1 (e.g. 0.05)
//	SEGCAST_MEASURE_DELAY     impaired case: added delay (e.g. 30ms)
//	SEGCAST_MEASURE_JITTER    impaired case: ± jitter on it (e.g. 10ms)
//	SEGCAST_MEASURE_LIPSYNC   "off": the page's lip-sync trim off
//	SEGCAST_MEASURE_LIVEKIT   "1": through a LiveKit dev node on loopback
//	                          (started here; the LiveKit viewer page; the
//	                          impairment, if any, is not on this path)
func BenchmarkMeasure720p30(b *testing.B) {
	rtctest.RequireNetns(b)
	if _, err := os.Stat(chromium.DefaultPath); err != nil {
		rtctest.Missing(b, fmt.Sprintf("%s: %v", chromium.DefaultPath, err))
	}
	dur := envDuration(b, "SEGCAST_MEASURE_DURATION", 2*time.Minute)
	settle := envDuration(b, "SEGCAST_MEASURE_SETTLE", DefaultSettle)
	out := os.Getenv("SEGCAST_MEASURE_OUT")
	var im impairment
	if v := os.Getenv("SEGCAST_MEASURE_LOSS"); v != "" {
		loss, err := strconv.ParseFloat(v, 64)
		if err != nil || loss < 0 || loss > 1 {
			b.Fatalf("SEGCAST_MEASURE_LOSS=%q: want a fraction 0..1", v)
		}
		im.Loss = loss
	}
	im.Delay = envDuration(b, "SEGCAST_MEASURE_DELAY", 0)
	im.Jitter = envDuration(b, "SEGCAST_MEASURE_JITTER", 0)
	noLipSync := os.Getenv("SEGCAST_MEASURE_LIPSYNC") == "off"
	var lk *publish.LiveKitOptions
	if os.Getenv("SEGCAST_MEASURE_LIVEKIT") == "1" {
		c := lkserver.Start(b, lkserver.Options{})
		lk = &publish.LiveKitOptions{URL: c.Nodes[0].URL, APIKey: lkserver.APIKey, APISecret: lkserver.APISecret}
	}
	const w, h = 1280, 720
	for range b.N {
		clock := engine.NewWallClock()
		loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: w, Height: h, Clock: clock, Lead: rtc.EncodeLead})
		loop.Add(pattern.New(w, h, engine.Rate30, time.Minute))
		loop.SetLoop(true)
		r, err := Run(context.Background(), loop, Options{
			Config:   rtc.Config{Width: w, Height: h, Rate: engine.Rate30, Clock: clock, Interceptors: im.interceptors()},
			Duration: dur, Settle: settle, OutDir: out, NoLipSync: noLipSync, LiveKit: lk,
			Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("livekit %v, lip-sync trim %v, impairment %+v: %s (%d rows); send error %s", lk != nil, !noLipSync, im, r.OneLine(), r.Offset.Samples, fmtSendErr(r.SendError))
		b.ReportMetric(float64(r.Offset.Median), "offset_median_ms")
		b.ReportMetric(float64(r.Offset.P95), "offset_p95_ms")
		b.ReportMetric(float64(r.DriftMSPerMin), "drift_ms/min")
		b.ReportMetric(float64(r.Latency.P50), "latency_p50_ms")
		b.ReportMetric(float64(r.Freezes), "freezes")
	}
}

func fmtSendErr(e *avsync.SendError) string {
	if e == nil {
		return "none"
	}
	return fmt.Sprintf("audio p50 %.2f p99 %.2f ms, video p50 %.2f p99 %.2f ms",
		float64(e.AudioP50), float64(e.AudioP99), float64(e.VideoP50), float64(e.VideoP99))
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if secs, err2 := strconv.Atoi(s); err2 == nil {
			return time.Duration(secs) * time.Second
		}
		b.Fatalf("%s=%q: %v", name, s, err)
	}
	return d
}

// BenchmarkLiveKitNodeSDK720p30 is the comparison beside
// SEGCAST_MEASURE_LIVEKIT=1: LiveKit's own Node SDK (@livekit/rtc-node,
// bench/lknode/publish.mjs; `npm ci` there first) publishes the same
// 720p30 flash/beep pattern into a room with sync streams on a LiveKit dev
// node, and headless Chromium measures it on the same LiveKit viewer page.
// The SDK sends the page no sync messages, so there is no latency and no
// trim: offset and freezes only. SEGCAST_MEASURE_DURATION,
// SEGCAST_MEASURE_SETTLE and SEGCAST_MEASURE_OUT as for
// BenchmarkMeasure720p30.
func BenchmarkLiveKitNodeSDK720p30(b *testing.B) {
	rtctest.RequireNetns(b)
	if _, err := os.Stat(chromium.DefaultPath); err != nil {
		rtctest.Missing(b, fmt.Sprintf("%s: %v", chromium.DefaultPath, err))
	}
	script, err := filepath.Abs("../../bench/lknode/publish.mjs")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "@livekit", "rtc-node")); err != nil {
		rtctest.Missing(b, "@livekit/rtc-node (npm ci in bench/lknode): "+err.Error())
	}
	dur := envDuration(b, "SEGCAST_MEASURE_DURATION", 2*time.Minute)
	settle := envDuration(b, "SEGCAST_MEASURE_SETTLE", DefaultSettle)
	out := os.Getenv("SEGCAST_MEASURE_OUT")
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for range b.N {
		c := lkserver.Start(b, lkserver.Options{})
		n := c.Nodes[0]
		room := randomName("sdk-")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+settle+dur)
		rc := lksdk.NewRoomServiceClient(strings.Replace(n.URL, "ws://", "http://", 1), lkserver.APIKey, lkserver.APISecret)
		if _, err := rc.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: room, SyncStreams: true}); err != nil {
			b.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, "node", script, n.URL, lkserver.Token(b, room, "sdk-node", true))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// The SDK logs to stdout too; the script's own line says it is up.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() && sc.Text() != "publishing" {
		}
		if sc.Err() != nil || sc.Text() != "publishing" {
			b.Fatalf("publish.mjs ended before publishing: %v", sc.Err())
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		bctx, stopBrowser, err := launchBrowser(ctx, chromium.DefaultPath, log)
		if err != nil {
			b.Fatal(err)
		}
		lk := &publish.LiveKitOptions{APIKey: lkserver.APIKey, APISecret: lkserver.APISecret}
		token, _, err := pageToken(Options{LiveKit: lk}, room, time.Hour+settle+dur)
		if err != nil {
			b.Fatal(err)
		}
		stopPage, err := openLiveKitPage(bctx, chromium.DefaultPath, n.URL, token, true)
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(settle)
		from, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`performance.now()`))
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(dur)
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](
			`(window.segcastMeasurer ? window.segcastMeasurer.rows : []).map((r) => JSON.stringify(r))`))
		if err != nil {
			b.Fatal(err)
		}
		var rows []avsync.Measurement
		for _, s := range raw {
			m, err := avsync.DecodePageMessage([]byte(s))
			if err != nil {
				b.Fatalf("page row %s: %v", s, err)
			}
			if row := m.(avsync.Measurement); float64(row.VideoMS) >= from {
				rows = append(rows, row)
			}
		}
		r := avsync.Summarise(rows)
		b.Logf("LiveKit Node SDK, trim off: %s (%d rows); page %s", r.OneLine(), r.Offset.Samples, pageState(bctx))
		if out != "" {
			if err := WriteReport(out, r); err != nil {
				b.Error(err)
			}
		}
		b.ReportMetric(float64(r.Offset.Median), "offset_median_ms")
		b.ReportMetric(float64(r.Offset.P95), "offset_p95_ms")
		b.ReportMetric(float64(r.DriftMSPerMin), "drift_ms/min")
		b.ReportMetric(float64(r.Freezes), "freezes")
		b.ReportMetric(float64(r.Offset.Samples), "flashes")
		stopPage()
		stopBrowser()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		cancel()
	}
}
