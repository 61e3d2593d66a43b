package measure

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/internal/chromium"
	"segcast/rtc/internal/rtctest"
	"segcast/rtc/measure/avsync"
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
	const w, h = 1280, 720
	for range b.N {
		clock := engine.NewWallClock()
		loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: w, Height: h, Clock: clock, Lead: rtc.EncodeLead})
		loop.Add(pattern.New(w, h, engine.Rate30, time.Minute))
		loop.SetLoop(true)
		r, err := Run(context.Background(), loop, Options{
			Config:   rtc.Config{Width: w, Height: h, Rate: engine.Rate30, Clock: clock, Interceptors: im.interceptors()},
			Duration: dur, Settle: settle, OutDir: out, NoLipSync: noLipSync,
			Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("lip-sync trim %v, impairment %+v: %s (%d rows); send error %s", !noLipSync, im, r.OneLine(), r.Offset.Samples, fmtSendErr(r.SendError))
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
