package ui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
	"segcast/engine/pattern"
)

// runner is how window code runs things: on the UI thread (do), in the
// background until the window closes (start; ctx ends at close, which
// waits for them), and where diagnostics go.
type runner struct {
	ctx context.Context
	wg  sync.WaitGroup
	do  func(func())
	log *slog.Logger
}

func (r *runner) start(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
}

// controller wires one window: the player and the panels, the menu, the
// keys and the status bar. Widget state is touched only on the UI thread
// (callbacks and do); the engine is safe for concurrent use.
type controller struct {
	run        *runner
	cancel     context.CancelFunc
	app        fyne.App
	win        fyne.Window
	set        settings
	statsEvery time.Duration

	player *player
	list   *playlist
	tr     *transport
	stream *streamPanel
	status *widget.Label
}

func newController(parent context.Context, a fyne.App, opt Options, e env) (*controller, error) {
	ctx, cancel := context.WithCancel(parent)
	r := &runner{ctx: ctx, do: e.do, log: opt.Log}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.do == nil {
		// After close nothing more is queued for a UI that may be gone.
		r.do = func(f func()) {
			if ctx.Err() == nil {
				fyne.Do(f)
			}
		}
	}
	c := &controller{run: r, cancel: cancel, app: a, statsEvery: opt.StatsEvery}
	c.set = loadSettings(a.Preferences())
	if err := c.set.override(opt); err != nil {
		cancel()
		return nil, err
	}
	var audio audioDevice
	if !opt.NoAudio && e.openAudio != nil {
		dev, err := e.openAudio(c.set.AudioDevice)
		if err != nil {
			r.log.Warn("no audio device; previewing on the wall clock", "err", err)
		} else {
			audio = dev
		}
	}
	c.player = newPlayer(c.set, audio, r.do)

	c.win = a.NewWindow("Segcast")
	c.list = newPlaylist(c.player, r, c.win, e.pickFiles, e.pickFolder)
	c.tr = newTransport(c.player, r.log)
	c.stream = newStreamPanel(a, c.win, c.player, &c.set, r, e.saveFile, e.loopbackOnly)
	c.status = widget.NewLabel("")
	c.status.Truncation = fyne.TextTruncateEllipsis
	c.win.SetContent(c.layout())
	c.win.SetMainMenu(c.menu())
	c.installShortcuts()
	c.win.SetOnDropped(c.list.dropped)
	c.win.Resize(fyne.NewSize(1280, 760))

	c.player.start(r)
	r.start(c.tick)

	c.player.loop.SetLoop(opt.Loop)
	c.tr.loop.SetChecked(opt.Loop)
	if opt.Pattern || len(opt.Inputs) == 0 {
		c.list.addSegment(pattern.New(c.player.w, c.player.h, c.player.rate, pattern.DefaultLength))
		if len(opt.Inputs) == 0 {
			c.tr.loop.SetChecked(true)
			c.player.loop.Play()
		}
	}
	c.list.autoplay = len(opt.Inputs) > 0
	c.list.addPaths(opt.Inputs)
	return c, nil
}

// layout is the window: playlist | preview and transport | stream, over
// the status bar.
func (c *controller) layout() fyne.CanvasObject {
	pv := c.player.preview
	previewArea := container.NewBorder(nil, container.NewVBox(pv.label, pv.strip, c.tr.content), nil, nil, pv.img)
	right := container.NewHSplit(previewArea, container.NewVScroll(c.stream.content))
	right.Offset = 0.72
	main := container.NewHSplit(c.list.content, right)
	main.Offset = 0.25
	return container.NewBorder(nil, c.status, nil, nil, main)
}

// close stops the loop and releases the device and the stream.
func (c *controller) close() {
	c.cancel()
	c.stream.close()
	c.run.wg.Wait()
	if err := c.player.close(); err != nil {
		c.run.log.Warn("close audio", "err", err)
	}
}

// tick refreshes the status bar, the seek slider and the viewer list.
func (c *controller) tick() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var lastLog time.Time
	p := c.player
	for {
		select {
		case <-c.run.ctx.Done():
			return
		case now := <-t.C:
			pos, st := p.loop.Position(), p.loop.Stats()
			frac := 0.0
			if s := p.segmentAt(pos); s != nil && s.Duration() > 0 {
				frac = float64(pos.Offset) / float64(s.Duration())
			}
			c.run.do(func() {
				c.status.SetText(c.statusText(st))
				c.tr.update(pos, frac)
				c.stream.refresh()
			})
			if c.statsEvery > 0 && now.Sub(lastLog) >= c.statsEvery {
				lastLog = now
				c.run.log.Info("preview stats", "shown", p.preview.shown.Load(),
					"preview_dropped", p.preview.dropped.Load(), "loop_frames", st.VideoFrames,
					"skipped", st.SkippedVideo, "late_audio", st.LateAudio)
			}
		}
	}
}

// statusText is the status bar line.
func (c *controller) statusText(st engine.LoopStats) string {
	p := c.player
	return fmt.Sprintf("%d×%d @ %s fps  ·  skipped %d, late audio %d, preview dropped %d  ·  memory %s / %s  ·  %s  ·  viewers %d",
		p.w, p.h, p.rate, st.SkippedVideo, st.LateAudio, p.preview.dropped.Load(),
		mib(p.store.Used()), mib(p.store.Budget()), p.device(), c.stream.viewerCount())
}

func mib(n int64) string { return fmt.Sprintf("%d MiB", (n+1<<20-1)>>20) }
