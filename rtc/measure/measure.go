// Package measure observes a stream from outside its send path: the sync
// channel to every viewer page (clock pings, flash send times, the RTP ↔
// wall clock map its lip-sync trim needs, and the A/V rows it measures),
// over each direct viewer's DataChannel or a LiveKit room's data
// messages; the headless-Chromium driver behind `segcast measure`; and
// the report files. It imports rtc, rtc/share and rtc/publish; nothing in
// rtc imports it.
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
	"segcast/rtc/publish"
	"segcast/rtc/share"
)

// DefaultBrowser is the Chromium `segcast measure` drives.
const DefaultBrowser = chromium.DefaultPath

// BrowserOptions are the flags `segcast measure` runs headless Chromium
// with (a fresh profile in profile); the window's browser tests use them
// too, so every Chromium this project drives is started alike.
func BrowserOptions(browser, profile string) []chromedp.ExecAllocatorOption {
	return chromium.Options(browser, profile)
}

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
	// LiveKit, when set, measures through a LiveKit room instead of a
	// direct viewer: the session publishes into the room
	// (publish.PublishLiveKit with these options; with an API key and no
	// Room, a fresh room) and the browser plays it on the LiveKit viewer
	// page, the sync messages travelling as data messages.
	LiveKit *publish.LiveKitOptions
	// ViewerToken is the page's token when LiveKit has a Token rather than
	// an API key (with the key, one is minted); it must let its identity
	// subscribe and publish data in the room.
	ViewerToken string
	Log         *slog.Logger // nil = discard
}

// Run streams loop to a headless Chromium running the viewer page on
// loopback (or, with LiveKit set, publishes it into a LiveKit room that
// the browser watches on the LiveKit viewer page), lets the page measure
// A/V sync and latency for Settle + Duration, and returns the report of
// the rows after Settle (with the send-time errors of the run). With
// OutDir set it writes report.json and report.png there. The loop must
// not be running; Run runs it. A run that streamed returns its report
// whatever the numbers; errors are for runs that could not stream.
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
	if opt.Browser == "" {
		opt.Browser = DefaultBrowser
	}
	browser := opt.Browser
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

	if opt.LiveKit != nil {
		if err := checkLiveKit(&opt); err != nil {
			return none, fmt.Errorf("measure: %w", err)
		}
	}

	hub := NewHub(opt.Config.Clock, log)
	defer hub.Close()
	rows := &rowLog{}
	hub.OnMeasurement(rows.add)
	opt.Config.Observers = append(opt.Config.Observers[:len(opt.Config.Observers):len(opt.Config.Observers)], hub)
	sess, err := rtc.NewSession(opt.Config)
	if err != nil {
		return none, fmt.Errorf("measure: %w", err)
	}
	defer sess.Close() // before hub.Close
	remove := loop.AddSink(sess)
	defer remove() // before sess.Close: the loop stops calling first

	bctx, stopBrowser, err := launchBrowser(ctx, browser, log)
	if err != nil {
		return none, err
	}
	defer stopBrowser()
	// The loop plays from before the page joins: an SFU offers a track to
	// subscribers once its media flows.
	runCtx, stopLoop := context.WithCancel(ctx)
	loopDone := make(chan error, 1)
	loop.Play()
	go func() { loopDone <- rtc.RunLoop(runCtx, loop) }()
	defer func() { stopLoop(); <-loopDone }()
	var pg *watchedPage
	if opt.LiveKit != nil {
		pg, err = watchLiveKit(ctx, bctx, hub, sess, opt, log)
	} else {
		pg, err = watchDirect(ctx, bctx, sess, opt, log)
	}
	if err != nil {
		return none, err
	}
	defer pg.close() // before sess.Close
	log.Info("viewer connected; measuring", "viewer", pg.id, "settle", settle, "duration", opt.Duration)
	start := opt.Config.Clock.Now()
	measureFrom := start + settle
	end := measureFrom + opt.Duration
	if err := waitRun(ctx, opt.Config.Clock, end, pg, loopDone); err != nil {
		return none, err
	}
	stopLoop()
	<-loopDone
	loopDone <- nil // for the deferred wait

	report := avsync.Summarise(rows.since(pg.id, msOf(measureFrom)))
	report.SendError = avsync.NewSendError(sess.SendErrors())
	if info, ok := hub.Sync(pg.id); ok {
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

// watchedPage is the viewer page being measured.
type watchedPage struct {
	id string // its Hub viewer id
	// gone says why the page no longer plays, "" while it does; waitRun
	// asks again whenever changed's channel fires.
	gone    func() string
	changed func() <-chan struct{}
	close   func()
}

// openPage points the browser's tab at url.
func openPage(bctx context.Context, browser, url string) error {
	// Set location instead of Navigate: a page playing media may hold
	// back the load event Navigate waits for.
	loadCtx, cancelLoad := context.WithTimeout(bctx, measureConnectTimeout)
	defer cancelLoad()
	if _, err := chromedp.Run(loadCtx, chromedp.Evaluate[any](fmt.Sprintf("location.href = %q", url))); err != nil {
		return fmt.Errorf("measure: open the viewer page in %s: %w", browser, err)
	}
	return nil
}

// watchDirect serves the viewer page on loopback and waits until the
// browser has connected to the session as its one viewer.
func watchDirect(ctx, bctx context.Context, sess *rtc.Session, opt Options, log *slog.Logger) (*watchedPage, error) {
	srv, err := share.New(sess, share.Options{Addr: "127.0.0.1:0", MaxViewers: 1, Log: log})
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	page := srv.PageURL()
	if opt.NoLipSync {
		page += "?lipsync=off"
	}
	if err := openPage(bctx, opt.Browser, page); err != nil {
		srv.Close()
		return nil, err
	}
	connectCtx, cancelConnect := context.WithTimeout(ctx, measureConnectTimeout)
	v, err := sess.WaitViewer(connectCtx, "", rtc.ViewerConnected)
	cancelConnect()
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("measure: the viewer page did not connect: %w", err)
	}
	return &watchedPage{
		id: v,
		gone: func() string {
			if vi, ok := sess.Viewer(v); !ok || !vi.State.Live() {
				return fmt.Sprintf("the viewer page has gone (%v)", vi.State)
			}
			return ""
		},
		changed: sess.Changed,
		close:   func() { _ = srv.Close() },
	}, nil
}

// rowLog collects the rows the page sends, safe for pion's goroutines.
type rowLog struct {
	mu   sync.Mutex
	rows []viewerRow
}

type viewerRow struct {
	viewer string
	avsync.Measurement
}

func (l *rowLog) add(viewer string, m avsync.Measurement) {
	l.mu.Lock()
	l.rows = append(l.rows, viewerRow{viewer, m})
	l.mu.Unlock()
}

// since is viewer's rows that arrived at or after fromMS (loop clock).
func (l *rowLog) since(viewer string, fromMS float64) []avsync.Measurement {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []avsync.Measurement
	for _, r := range l.rows {
		if r.viewer == viewer && float64(r.AtMS) >= fromMS {
			out = append(out, r.Measurement)
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

// waitRun waits until the loop clock reaches end; the page going or the
// loop stopping first is an error, ctx ending is not (an interrupted run
// still reports what it measured).
func waitRun(ctx context.Context, clock engine.Clock, end time.Duration, pg *watchedPage, loopDone chan error) error {
	timeout := make(chan struct{})
	sleepCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		if clock.SleepUntil(sleepCtx, end) == nil {
			close(timeout)
		}
	}()
	for {
		changed := pg.changed()
		if why := pg.gone(); why != "" {
			return fmt.Errorf("measure: %s", why)
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
