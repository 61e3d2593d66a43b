// Package measure observes a stream from outside its send path: the sync
// DataChannel every viewer page opens (clock pings, flash send times, the
// RTP ↔ wall clock map its lip-sync trim needs, and the A/V rows it
// measures), the headless-Chromium driver behind `segcast measure`, and
// the report files. It imports rtc and rtc/share; nothing in rtc imports
// it.
package measure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"segcast/engine"
	"segcast/rtc"
	"segcast/rtc/internal/chromium"
	"segcast/rtc/measure/avsync"
	"segcast/rtc/share"
)

// DefaultBrowser is the Chromium `segcast measure` drives.
const DefaultBrowser = chromium.DefaultPath

// DefaultSettle is the warm-up before measuring: Chrome's lip sync takes
// about 15 s after connecting to converge (DESIGN.md, facts measured).
const DefaultSettle = 15 * time.Second

// measureConnectTimeout bounds browser start, page load and connection.
const measureConnectTimeout = 30 * time.Second

// Options configures `segcast measure`.
type Options struct {
	// Config sets up the session: the loop's size, rate and clock
	// (Clock is required). ICE is restricted to loopback.
	Config rtc.Config
	// Duration is how long to measure once the connection is up and
	// Settle has passed; it must be positive.
	Duration time.Duration
	// Settle is the warm-up after connecting whose rows are left out of
	// the report; 0 means DefaultSettle, negative means none.
	Settle time.Duration
	// OutDir receives report.json and report.png; "" writes nothing.
	OutDir string
	// Browser is the Chromium binary; "" means DefaultBrowser.
	Browser string
	// NoLipSync turns the page's lip-sync trim off (viewer page
	// ?lipsync=off), to measure Chrome's own lip sync alone.
	NoLipSync bool
	Log       *slog.Logger // nil = discard
}

// Measure streams loop to a headless Chromium running the viewer page on
// loopback, lets the page measure A/V sync and latency for Settle +
// Duration, and returns the report of the rows after Settle (with the
// send-time errors of the run). With OutDir set it writes report.json and
// report.png there. The loop must not be running; Measure runs it. A run
// that streamed returns its report whatever the numbers; errors are for
// runs that could not stream.
func Run(ctx context.Context, loop *engine.Loop, opt Options) (avsync.Report, error) {
	var none avsync.Report
	if loop == nil {
		return none, errors.New("measure: nil loop")
	}
	if opt.Config.Clock == nil {
		return none, errors.New("measure: Config.Clock must be set to the loop's clock")
	}
	if opt.Duration <= 0 {
		return none, fmt.Errorf("measure: duration %v must be positive", opt.Duration)
	}
	settle := opt.Settle
	switch {
	case settle == 0:
		settle = DefaultSettle
	case settle < 0:
		settle = 0
	}
	browser := opt.Browser
	if browser == "" {
		browser = DefaultBrowser
	}
	if st, err := os.Stat(browser); err != nil || st.IsDir() {
		return none, fmt.Errorf("measure: browser %s not found (install Debian's chromium or pass --browser PATH)", browser)
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.Config.Log == nil {
		opt.Config.Log = log
	}
	opt.Config.LoopbackOnly = true
	if opt.OutDir != "" {
		if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
			return none, fmt.Errorf("measure: out dir %s: %w", opt.OutDir, err)
		}
	}

	hub := NewHub(opt.Config.Clock, log)
	defer hub.Close()
	rows := &rowLog{}
	hub.OnMeasurement(func(_ string, m avsync.Measurement) { rows.add(m) })
	opt.Config.Observers = append(opt.Config.Observers[:len(opt.Config.Observers):len(opt.Config.Observers)], hub)
	sess, err := rtc.NewSession(opt.Config)
	if err != nil {
		return none, fmt.Errorf("measure: %w", err)
	}
	defer sess.Close() // before hub.Close
	remove := loop.AddSink(sess)
	defer remove() // before sess.Close: the loop stops calling first
	srv, err := share.New(sess, share.Options{Addr: "127.0.0.1:0", MaxViewers: 1, Log: log})
	if err != nil {
		return none, fmt.Errorf("measure: %w", err)
	}
	if err := srv.Start(); err != nil {
		return none, fmt.Errorf("measure: %w", err)
	}
	defer srv.Close()

	bctx, stopBrowser, err := launchBrowser(ctx, browser, log)
	if err != nil {
		return none, err
	}
	defer stopBrowser()
	// Set location instead of Navigate: a page playing media may hold
	// back the load event Navigate waits for.
	loadCtx, cancelLoad := context.WithTimeout(bctx, measureConnectTimeout)
	page := srv.PageURL()
	if opt.NoLipSync {
		page += "?lipsync=off"
	}
	_, err = chromedp.Run(loadCtx, chromedp.Evaluate[any](fmt.Sprintf("location.href = %q", page)))
	cancelLoad()
	if err != nil {
		return none, fmt.Errorf("measure: open the viewer page in %s: %w", browser, err)
	}
	connectCtx, cancelConnect := context.WithTimeout(ctx, measureConnectTimeout)
	v, err := sess.WaitViewer(connectCtx, "", rtc.ViewerConnected)
	cancelConnect()
	if err != nil {
		return none, fmt.Errorf("measure: the viewer page did not connect: %w", err)
	}
	log.Info("viewer connected; measuring", "viewer", v, "settle", settle, "duration", opt.Duration)

	runCtx, stopLoop := context.WithCancel(ctx)
	loopDone := make(chan error, 1)
	loop.Play()
	go func() { loopDone <- loop.Run(runCtx) }()
	defer func() { stopLoop(); <-loopDone }()
	start := opt.Config.Clock.Now()
	measureFrom := start + settle
	end := measureFrom + opt.Duration
	if err := waitRun(ctx, opt.Config.Clock, end, sess, v, loopDone); err != nil {
		return none, err
	}
	stopLoop()
	<-loopDone
	loopDone <- nil // for the deferred wait

	report := avsync.Summarise(rows.since(msOf(measureFrom)))
	report.SendError = avsync.NewSendError(sess.SendErrors())
	if info, ok := hub.Sync(v); ok {
		if info.BadMessages > 0 {
			log.Warn("the page sent bad sync messages", "count", info.BadMessages)
		}
		if report.Offset.Samples == 0 {
			log.Warn("no A/V rows from the page", "sync_open", info.Open, "clock_offset_ms", info.ClockOffsetMS)
		}
	}
	if opt.OutDir != "" {
		if err := WriteReport(opt.OutDir, report); err != nil {
			return report, fmt.Errorf("measure: %w", err)
		}
	}
	return report, nil
}

// rowLog collects the rows the page sends, safe for pion's goroutines.
type rowLog struct {
	mu   sync.Mutex
	rows []avsync.Measurement
}

func (l *rowLog) add(m avsync.Measurement) {
	l.mu.Lock()
	l.rows = append(l.rows, m)
	l.mu.Unlock()
}

// since is the rows that arrived at or after fromMS (loop clock).
func (l *rowLog) since(fromMS float64) []avsync.Measurement {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []avsync.Measurement
	for _, m := range l.rows {
		if float64(m.AtMS) >= fromMS {
			out = append(out, m)
		}
	}
	return out
}

// launchBrowser starts headless Chromium with a fresh profile, flags as
// the browser tests use them (autoplay with sound, no mDNS host names,
// no background throttling of the measuring page).
func launchBrowser(ctx context.Context, browser string, log *slog.Logger) (context.Context, func(), error) {
	profile, err := os.MkdirTemp("", "segcast-measure-")
	if err != nil {
		return nil, nil, fmt.Errorf("measure: browser profile: %w", err)
	}
	opts := chromium.Options(browser, profile)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) {
		log.Debug("chromedp: " + fmt.Sprintf(f, a...))
	}))
	stop := func() {
		cancelTab()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	}
	// The first action starts the browser, whose life is then tied to
	// the context it ran on: bctx, not a shorter-lived child.
	if err := chromedp.Do(bctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("measure: start browser %s: %w", browser, err)
	}
	return bctx, stop, nil
}

// waitRun waits until the loop clock reaches end; the viewer leaving or
// the loop stopping first is an error, ctx ending is not (an interrupted
// run still reports what it measured).
func waitRun(ctx context.Context, clock engine.Clock, end time.Duration, sess *rtc.Session, viewer string,
	loopDone chan error) error {
	timeout := make(chan struct{})
	sleepCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		if clock.SleepUntil(sleepCtx, end) == nil {
			close(timeout)
		}
	}()
	for {
		changed := sess.Changed()
		if vi, ok := sess.Viewer(viewer); !ok || !vi.State.Live() {
			return fmt.Errorf("measure: the viewer page has gone (%v)", vi.State)
		}
		select {
		case <-timeout:
			return nil
		case <-ctx.Done():
			return nil
		case err := <-loopDone:
			loopDone <- err
			return fmt.Errorf("measure: loop stopped: %w", err)
		case <-changed:
		}
	}
}
