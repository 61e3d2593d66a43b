package share

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"time"

	"segcast/engine"
	"segcast/rtc"
)

// ServeOptions configures `segcast serve`.
type ServeOptions struct {
	// Config sets up the session. Its Width, Height and Rate must be the
	// loop's output, and Clock must be the loop's clock: item deadlines
	// are times on it. Config.Log also logs the share server.
	Config rtc.Config
	// Addr is "host:port" to listen on; "" = :8787, URLs on LANAddress().
	Addr string
	// MaxViewers caps the viewers (0 = 16).
	MaxViewers int
	// Duration ends serving after this long; 0 serves until ctx is done.
	Duration time.Duration
	// Out receives the page URL, the WHEP URL, the control API's URL and
	// the QR code; nil is os.Stdout.
	Out io.Writer
	// StatsFile, when set, gets a JSON summary (rtc.StreamSummary) at
	// exit, whatever the outcome.
	StatsFile string
	// Control configures the control API (producers push segments into
	// the loop's queue); its Rate and Size are taken from Config.
	Control ControlOptions
}

// Serve streams loop to browsers on the LAN without a window: it creates
// the Session, adds it to loop as a sink, starts the share server and the
// control API, prints the URLs and the QR code to opt.Out, and runs loop
// (the caller must not run it too) until opt.Duration has passed or ctx
// is done. Either end is a normal stop and returns nil.
func Serve(ctx context.Context, loop *engine.Loop, opt ServeOptions) error {
	return serveWithHook(ctx, loop, opt, nil)
}

// serveWithHook is Serve; started, when set, gets the session and the
// control API before the banner is written (tests look at them).
func serveWithHook(ctx context.Context, loop *engine.Loop, opt ServeOptions, started func(*rtc.Session, *Control)) (err error) {
	if loop == nil {
		return errors.New("serve: nil loop")
	}
	if opt.Config.Clock == nil {
		return errors.New("serve: Config.Clock must be set to the loop's clock")
	}
	if opt.Duration < 0 {
		return fmt.Errorf("serve: duration %v is negative", opt.Duration)
	}
	out := opt.Out
	if out == nil {
		out = os.Stdout
	}
	sess, err := rtc.NewSession(opt.Config)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	began := time.Now()
	var viewers []rtc.ViewerInfo // as they were while serving
	defer func() {
		if opt.StatsFile == "" {
			return
		}
		// After sess.Close, which waits for the senders.
		sum := rtc.StreamSummary{Session: sess.Stats(), Loop: loop.Stats(), Streamed: time.Since(began)}
		sum.Session.Viewers = viewers
		if err != nil {
			sum.Error = err.Error()
		}
		if werr := rtc.WriteSummary(opt.StatsFile, sum); err == nil {
			err = werr
		}
	}()
	defer sess.Close()
	remove := loop.AddSink(sess)
	defer remove() // runs before sess.Close: the loop stops calling first
	srv, err := New(sess, Options{Addr: opt.Addr, MaxViewers: opt.MaxViewers, Log: opt.Config.Log})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer srv.Close()
	if srv.LoopbackOnly() && opt.Config.Log != nil {
		opt.Config.Log.Warn("serve: listening on loopback only: only this machine can open the link, "+
			"not a phone scanning the QR code; listen on a LAN address to share it", "url", srv.PageURL())
	}
	copt := opt.Control
	copt.Rate, copt.Size = opt.Config.Rate, image.Pt(opt.Config.Width, opt.Config.Height)
	if copt.Log == nil {
		copt.Log = opt.Config.Log
	}
	ctl, err := NewControl(loop, copt)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if err := ctl.Start(); err != nil {
		ctl.Close()
		return fmt.Errorf("serve: %w", err)
	}
	defer ctl.Close()
	if started != nil {
		started(sess, ctl)
	}
	if err := writeShareBanner(out, srv.PageURL(), srv.WHEPURL(), ctl.URL()); err != nil {
		return fmt.Errorf("serve: write URLs: %w", err)
	}
	if opt.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Duration)
		defer cancel()
	}
	err = rtc.RunLoop(ctx, loop)
	viewers = sess.Viewers()
	if err == nil || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return nil // duration over or interrupted: the normal ends
	}
	return fmt.Errorf("serve: %w", err)
}
