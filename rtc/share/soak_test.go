package share

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"segcast/bench"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// Soak: `segcast serve --pattern --loop`, the real binary, for
// SEGCAST_SOAK (default 1h) with one pion viewer staying throughout and
// another joining every 10 s and leaving 5 s later, over WHEP. It reports
// the slopes of the server's RSS and goroutine count (sampled every 2 s
// from the runtime's own scheduler trace, GODEBUG=schedtrace; the samples
// taken while the churning viewer is away are the ones fitted), and
// whether the staying viewer ever froze (its longest wait between
// complete frames; a freeze is a wait over 200 ms, about Chrome's rule
// at 30 fps). SEGCAST_SOAK_CSV=FILE keeps the samples.
//
//	SEGCAST_SOAK=20m go test -run '^$' -bench ServeSoak -benchtime 1x -timeout 0 ./rtc/share/
func BenchmarkServeSoak(b *testing.B) {
	length := time.Hour
	if s := os.Getenv("SEGCAST_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Minute {
			b.Fatalf("SEGCAST_SOAK=%q: want a duration of a minute or more", s)
		}
		length = d
	}
	const churnEvery, churnStays, traceMS = 10 * time.Second, 5 * time.Second, 2000
	bin := os.Getenv("SEGCAST_BIN")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "segcast")
		if out, err := exec.Command("go", "build", "-o", bin, "segcast").CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
	}
	for range b.N { // -benchtime 1x: one soak
		statsFile := filepath.Join(b.TempDir(), "stats.json")
		cmd := exec.Command(bin, "serve", "--pattern", "--loop", "--listen", "127.0.0.1:0", "--stats", statsFile)
		cmd.Env = append(os.Environ(), bench.SchedTraceEnv(traceMS))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cmd.Process.Kill() })
		pid, t0 := cmd.Process.Pid, time.Now()

		// Samples, each marked with whether the churning viewer was away
		// (gone for at least 1.5 s: its goroutines have ended).
		type sample struct {
			at         time.Duration
			rss        int64
			goroutines int
			clean      bool
		}
		var (
			mu        sync.Mutex
			samples   []sample
			problems  []string // the server's WARN/ERROR lines
			churnIn   atomic.Bool
			churnLeft atomic.Int64 // time.Since(t0) at the last leave
		)
		traced := make(chan error, 1)
		go func() {
			var pending *sample
			traced <- bench.Goroutines(stderr, func(n int) {
				// n counts the trace that began at pending's time.
				if pending != nil {
					pending.goroutines = n
					mu.Lock()
					samples = append(samples, *pending)
					mu.Unlock()
				}
				rss, _ := bench.RSS(pid)
				at := time.Since(t0)
				pending = &sample{at: at, rss: rss,
					clean: !churnIn.Load() && at-time.Duration(churnLeft.Load()) > 1500*time.Millisecond}
			}, func(line string) {
				if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
					mu.Lock()
					problems = append(problems, line)
					mu.Unlock()
				}
			})
		}()
		sc := bufio.NewScanner(stdout)
		var banner []string
		for len(banner) < 2 && sc.Scan() {
			banner = append(banner, sc.Text())
		}
		if len(banner) < 2 {
			b.Fatalf("no banner from serve")
		}
		go func() { // the QR code and nothing else
			for sc.Scan() {
			}
		}()
		whep := banner[1]

		staying := rtctest.NewReceiver(b, false)
		if _, err := whepJoin(http.DefaultClient, whep, staying, b); err != nil {
			b.Fatal(err)
		}
		ctx := b.Context()
		staying.WaitConnected(b, ctx)

		// The staying viewer's waits between complete frames.
		var maxGap time.Duration
		var freezes int
		var nearJoin int // freezes ending within 1 s of a churn join
		var freezeAt []time.Duration
		start := time.Now()
		watchDone := make(chan struct{})
		stopWatch := make(chan struct{})
		go func() {
			defer close(watchDone)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			last, lastN := time.Now(), 0
			for {
				select {
				case <-stopWatch:
					return
				case now := <-tick.C:
					n, _ := staying.Counts()
					gap := now.Sub(last)
					maxGap = max(maxGap, gap)
					if n != lastN {
						if gap > 200*time.Millisecond {
							freezes++
							freezeAt = append(freezeAt, now.Sub(start))
							if phase := now.Sub(start) % churnEvery; phase < time.Second+gap {
								nearJoin++
							}
						}
						last, lastN = now, n
					}
				}
			}
		}()

		loadBefore, _ := os.ReadFile("/proc/loadavg")
		end := start.Add(length)
		joins, joinFails := 0, 0
		var load1 []float64 // the machine's 1-minute load average, every 10 s
		for k := 1; start.Add(time.Duration(k)*churnEvery + churnStays).Before(end); k++ {
			at := start.Add(time.Duration(k) * churnEvery)
			time.Sleep(time.Until(at))
			if la, err := os.ReadFile("/proc/loadavg"); err == nil {
				var l float64
				fmt.Sscan(string(la), &l)
				load1 = append(load1, l)
			}
			churnIn.Store(true)
			rx := rtctest.NewReceiver(b, false)
			loc, err := whepJoin(http.DefaultClient, whep, rx, b)
			if err == nil {
				select {
				case <-ctx.Done():
				case <-time.After(time.Until(at.Add(churnStays))):
				}
				if frames, _ := rx.Counts(); frames == 0 {
					err = fmt.Errorf("join %d: no frame in %v", k, churnStays)
				}
				req, _ := http.NewRequest(http.MethodDelete, loc, nil)
				if resp, derr := http.DefaultClient.Do(req); derr != nil || resp.StatusCode != http.StatusNoContent {
					err = fmt.Errorf("join %d: DELETE %s: %v %v", k, loc, resp, derr)
				} else {
					resp.Body.Close()
				}
			}
			_ = rx.PC.Close()
			churnLeft.Store(int64(time.Since(t0)))
			churnIn.Store(false)
			joins++
			if err != nil {
				joinFails++
				b.Logf("churn: %v", err)
			}
		}
		time.Sleep(time.Until(end))
		close(stopWatch)
		<-watchDone
		frames, _ := staying.Counts()
		broken := staying.BrokenFrames()
		loadAfter, _ := os.ReadFile("/proc/loadavg")

		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			b.Fatal(err)
		}
		<-traced
		if err := cmd.Wait(); err != nil {
			b.Errorf("serve after SIGTERM: %v", err)
		}
		// What the server itself did late: frames skipped or sent late
		// mean it was starved, not the viewer.
		var sum rtc.StreamSummary
		if data, err := os.ReadFile(statsFile); err != nil {
			b.Error(err)
		} else if err := json.Unmarshal(data, &sum); err != nil {
			b.Errorf("%s: %v", statsFile, err)
		}
		ls, ss := sum.Loop, sum.Session
		b.Logf("server: %d frames sent; loop skipped %d frames, %d late audio chunks, latest hand-over %v late; "+
			"session skipped %d frames, wrote %d video and %d audio items late, dropped %d; send error p99 video %v audio %v (last %d items)",
			ss.VideoFramesSent, ls.SkippedVideo, ls.LateAudio, ls.MaxLateness, ss.VideoSkipped, ss.LateVideo, ss.LateAudio, ss.Dropped,
			ss.VideoSendErr.P99, ss.AudioSendErr.P99, ss.VideoSendErr.N)

		mu.Lock()
		defer mu.Unlock()
		// Fit the clean samples after a warm-up (2 min, or the first
		// fifth of a shorter soak).
		warm := min(2*time.Minute, length/5)
		var hours, mib, gor []float64
		minG, maxG := 1<<30, 0
		for _, s := range samples {
			if !s.clean || s.at < warm {
				continue
			}
			hours = append(hours, s.at.Hours())
			mib = append(mib, float64(s.rss)/(1<<20))
			gor = append(gor, float64(s.goroutines))
			minG, maxG = min(minG, s.goroutines), max(maxG, s.goroutines)
		}
		if len(hours) < 5 {
			b.Fatalf("only %d clean samples", len(hours))
		}
		rssSlope, gSlope := bench.Slope(hours, mib), bench.Slope(hours, gor)
		b.ReportMetric(rssSlope, "RSS-MiB/h")
		b.ReportMetric(gSlope, "goroutines/h")
		b.ReportMetric(mib[0], "RSS-first-MiB")
		b.ReportMetric(mib[len(mib)-1], "RSS-last-MiB")
		b.ReportMetric(float64(maxGap.Milliseconds()), "max-gap-ms")
		b.ReportMetric(float64(freezes), "freezes")
		b.Logf("soak %v: %d churn joins (%d failed); staying viewer %d frames (%.1f/s), %d broken, longest wait %v, %d freezes; "+
			"%d clean samples: RSS %.1f → %.1f MiB, slope %+.2f MiB/h; goroutines %d–%d, slope %+.2f/h; %d WARN/ERROR lines",
			length, joins, joinFails, frames, float64(frames)/length.Seconds(), broken, maxGap, freezes,
			len(hours), mib[0], mib[len(mib)-1], rssSlope, minG, maxG, gSlope, len(problems))
		b.Logf("%d of the freezes within 1 s after a churn join; load average before %s, after %s",
			nearJoin, strings.TrimSpace(string(loadBefore)), strings.TrimSpace(string(loadAfter)))
		// Freezes and the machine's load, five minutes at a time.
		const span = 5 * time.Minute
		for from := time.Duration(0); from < length; from += span {
			n := 0
			for _, at := range freezeAt {
				if at >= from && at < from+span {
					n++
				}
			}
			i, j := min(int(from/churnEvery), len(load1)), min(int((from+span)/churnEvery), len(load1))
			var sum float64
			for _, l := range load1[i:j] {
				sum += l
			}
			b.Logf("minutes %2.0f–%2.0f: %3d freezes, load average %.1f", from.Minutes(), (from + span).Minutes(), n, sum/float64(max(j-i, 1)))
		}
		for _, p := range problems[:min(len(problems), 10)] {
			b.Logf("server: %s", p)
		}
		if path := os.Getenv("SEGCAST_SOAK_CSV"); path != "" {
			var csv strings.Builder
			csv.WriteString("seconds,rss_bytes,goroutines,clean\n")
			for _, s := range samples {
				fmt.Fprintf(&csv, "%.1f,%d,%d,%v\n", s.at.Seconds(), s.rss, s.goroutines, s.clean)
			}
			if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
				b.Error(err)
			}
		}
		if joinFails > 0 {
			b.Errorf("%d of %d churn joins failed", joinFails, joins)
		}
	}
}
