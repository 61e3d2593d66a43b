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

// loopLead is how far ahead of its deadline the loop hands items over: the
// encoders' head start and the audio queue depth.
const loopLead = 100 * time.Millisecond

// controller owns one window's state. Widget state is touched only on the
// UI thread (callbacks and fyne.Do); the engine is safe for concurrent use.
type controller struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	app    fyne.App
	win    fyne.Window
	opt    Options
	env    env
	do     func(func()) // onto the UI thread
	log    *slog.Logger
	set    settings

	loop    *engine.Loop
	clock   *switchClock
	wall    engine.Clock
	audio   audioDevice // nil without a device
	store   *engine.FrameStore
	preview *preview
	rate    engine.Rate
	w, h    int

	rows     []*row
	list     *widget.List
	autoplay bool

	tr     transport
	status *widget.Label
	stream *streamPanel
}

func newController(parent context.Context, a fyne.App, opt Options, e env) (*controller, error) {
	ctx, cancel := context.WithCancel(parent)
	c := &controller{ctx: ctx, cancel: cancel, app: a, opt: opt, env: e, log: opt.Log}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.do == nil {
		// After close nothing more is queued for a UI that may be gone.
		e.do = func(f func()) {
			if ctx.Err() == nil {
				fyne.Do(f)
			}
		}
	}
	c.env, c.do = e, e.do
	c.set = loadSettings(a.Preferences())
	if err := c.set.override(opt); err != nil {
		cancel()
		return nil, err
	}
	c.rate, c.w, c.h = c.set.FPS, c.set.Width, c.set.Height
	c.wall = engine.NewWallClock()
	var base engine.Clock = c.wall
	if !opt.NoAudio && e.openAudio != nil {
		dev, err := e.openAudio(c.set.AudioDevice)
		if err != nil {
			c.log.Warn("no audio device; previewing on the wall clock", "err", err)
		} else {
			c.audio, base = dev, dev
		}
	}
	c.clock = newSwitchClock(base)
	c.loop = engine.NewLoop(engine.LoopConfig{Rate: c.rate, Width: c.w, Height: c.h, Clock: c.clock, Lead: loopLead,
		Idle: pattern.IdleCard(c.w, c.h)})
	c.preview = newPreview(c.clock, c.do)
	c.loop.AddSink(c.preview)
	if c.audio != nil {
		c.loop.AddSink(c.audio)
		c.preview.local.setHeard(heardFromDevice(c.audio))
	}
	c.store = engine.NewFrameStore(c.set.budget())

	c.win = a.NewWindow("Segcast")
	c.win.SetContent(c.build())
	c.win.SetMainMenu(c.menu())
	c.installShortcuts()
	c.win.SetOnDropped(c.dropped)
	c.win.Resize(fyne.NewSize(1280, 760))

	c.start(func() {
		if err := c.loop.Run(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("loop stopped", "err", err)
		}
	})
	c.start(func() { c.preview.run(ctx) })
	c.start(c.tick)

	c.loop.SetLoop(opt.Loop)
	c.tr.loop.SetChecked(opt.Loop)
	if opt.Pattern || len(opt.Inputs) == 0 {
		c.addSegment(pattern.New(c.w, c.h, c.rate, pattern.DefaultLength))
		if len(opt.Inputs) == 0 {
			c.tr.loop.SetChecked(true)
			c.loop.Play()
		}
	}
	c.autoplay = len(opt.Inputs) > 0
	c.addPaths(opt.Inputs)
	return c, nil
}

func (c *controller) start(f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// build lays out the window: playlist | preview and transport | stream.
func (c *controller) build() fyne.CanvasObject {
	c.status = widget.NewLabel("")
	c.status.Truncation = fyne.TextTruncateEllipsis
	previewArea := container.NewBorder(nil,
		container.NewVBox(c.preview.label, c.preview.strip, c.buildTransport()),
		nil, nil, c.preview.img)
	c.stream = newStreamPanel(c)
	right := container.NewHSplit(previewArea, container.NewVScroll(c.stream.content))
	right.Offset = 0.72
	main := container.NewHSplit(c.buildPlaylist(), right)
	main.Offset = 0.25
	return container.NewBorder(nil, c.status, nil, nil, main)
}

// close stops the loop and releases the device and the stream.
func (c *controller) close() {
	c.cancel()
	c.stream.close()
	c.wg.Wait()
	if c.audio != nil {
		if err := c.audio.Close(); err != nil {
			c.log.Warn("close audio", "err", err)
		}
	}
}

// tick refreshes the status bar, the seek slider and the viewer list.
func (c *controller) tick() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var lastLog time.Time
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			pos, st := c.loop.Position(), c.loop.Stats()
			frac := 0.0
			if s := c.currentSegment(pos); s != nil && s.Duration() > 0 {
				frac = float64(pos.Offset) / float64(s.Duration())
			}
			c.do(func() {
				c.status.SetText(c.statusText(st))
				c.tr.update(pos, frac)
				c.stream.refresh()
			})
			if c.opt.StatsEvery > 0 && now.Sub(lastLog) >= c.opt.StatsEvery {
				lastLog = now
				c.log.Info("preview stats", "shown", c.preview.shown.Load(),
					"preview_dropped", c.preview.dropped.Load(), "loop_frames", st.VideoFrames,
					"skipped", st.SkippedVideo, "late_audio", st.LateAudio)
			}
		}
	}
}

// statusText is the status bar line.
func (c *controller) statusText(st engine.LoopStats) string {
	dev := "no audio device"
	if c.audio != nil {
		dev = "audio: " + c.audio.Device()
	}
	return fmt.Sprintf("%d×%d @ %s fps  ·  skipped %d, late audio %d, preview dropped %d  ·  memory %s / %s  ·  %s  ·  viewers %d",
		c.w, c.h, c.rate, st.SkippedVideo, st.LateAudio, c.preview.dropped.Load(),
		mib(c.store.Used()), mib(c.store.Budget()), dev, c.stream.viewerCount())
}

func mib(n int64) string { return fmt.Sprintf("%d MiB", (n+1<<20-1)>>20) }
