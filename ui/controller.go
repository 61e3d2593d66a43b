package ui

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc/measure/avsync"
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

// tickEvery is how often the window looks at the play head and viewers;
// every healthTicks-th tick it also looks at CPU and counters.
const (
	tickEvery   = 250 * time.Millisecond
	healthTicks = 4
)

// controller wires one window: the player and the panels, the menu, the
// keys, the title and the status bar. Widget state is touched only on the
// UI thread (callbacks and do); the engine is safe for concurrent use.
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
	api    *controlAPI
	queue  *queueRows
	output *outputMenu
	status *widget.Label
	full   fyne.Window // the fullscreen preview, nil when closed
	native *nativePanes

	ticks             int
	title, statusLine string
	lastLog           time.Time
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
	if e.openURL == nil {
		e.openURL = func(s string) error {
			u, err := url.Parse(s)
			if err != nil {
				return err
			}
			return a.OpenURL(u)
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
	c.player = newPlayer(c.set.format(), c.set.budget(), audio, r, func(d time.Duration) { c.tr.seekTo(d) })
	c.player.onLoop = func(l *engine.Loop, f outFormat) {
		if err := c.api.attach(l, f, c.player.store); err != nil {
			c.stream.control.showError(err)
		}
	}

	c.win = a.NewWindow("Segcast")
	c.tr = newTransport(c.player, r.log, c.handleKey)
	c.tr.changed = c.refresh
	c.player.preview.onShown = c.tr.level.set // the sound heard with each frame shown
	pv := c.player.preview
	c.native = newNativePanes(c.win, a.Driver(), r.log, pv.pic, pv.wave.pic, c.tr.level.pic)
	pv.native = c.native
	c.win.SetOnClosed(c.native.close) // before the window, its children's parent, goes
	c.list = newPlaylist(c.player, r, c.win, e, c.handleKey)
	c.list.onFirstClip = c.firstClip
	c.stream = newStreamPanel(a, c.win, c.player, &c.set, r, e)
	api, err := newControlAPI(r.log)
	if err != nil {
		cancel()
		return nil, err
	}
	c.api = api
	c.queue = newQueueRows(c.api, r)
	c.startControl()
	c.output = newOutputMenu(c)
	c.status = widget.NewLabel("")
	c.status.Truncation = fyne.TextTruncateEllipsis
	c.win.SetContent(c.layout())
	c.win.SetMainMenu(c.menu())
	c.win.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) { c.handleKey(e) })
	c.win.SetOnDropped(c.list.dropped)
	c.win.Resize(fyne.NewSize(1280, 760))

	c.tr.setLooping(opt.Loop)
	if opt.Pattern || len(opt.Inputs) == 0 {
		f := c.player.format
		c.list.addSegment(pattern.New(f.W, f.H, f.Rate, pattern.DefaultLength))
		if len(opt.Inputs) == 0 {
			c.tr.setLooping(true)
			c.player.loop.Play()
		}
	}
	c.list.autoplay = len(opt.Inputs) > 0 && !opt.Paused
	c.list.addPaths(opt.Inputs)
	if opt.Paused {
		c.player.loop.Pause()
	}
	// Started last, so the first frame shows what the options asked for.
	c.player.start()
	r.start(c.tick)
	if opt.Share {
		c.stream.toggleShare()
	}
	return c, nil
}

// startControl serves the control API where the settings say, on the
// loop on air, watching the settings' folder. A failure is shown in its
// section; the window runs on without it.
func (c *controller) startControl() {
	err := c.api.listen(c.set.ControlAddr)
	if err == nil {
		err = c.api.attach(c.player.loop, c.player.format, c.player.store)
	}
	if err == nil {
		err = c.api.setWatch(c.set.WatchDir)
	}
	if err != nil {
		c.stream.control.showError(err)
	}
}

// applyControl applies saved settings to the control API: a new address
// is a new URL (the token stays); a new folder is watched from now on.
func (c *controller) applyControl(was, now settings) {
	var err error
	if now.ControlAddr != was.ControlAddr {
		err = c.api.listen(now.ControlAddr)
	}
	if err == nil && now.WatchDir != was.WatchDir {
		err = c.api.setWatch(now.WatchDir)
	}
	if err != nil {
		c.stream.control.showError(err)
	}
}

// fitScreen sizes the window to fit a screen of w×h pixels (0: unknown),
// at most 1280×1000, leaving room for a title bar and a panel.
func (c *controller) fitScreen(w, h int) {
	size := fyne.NewSize(1280, 800)
	if h > 0 {
		size.Height = 1000
	}
	if w > 0 && h > 0 {
		s := c.win.Canvas().Scale()
		size = fyne.NewSize(min(size.Width, float32(w)/s), min(size.Height, float32(h-60)/s))
	}
	c.win.Resize(size)
}

// layout is the window: playlist, preview and transport, stream side
// (windowLayout), over the status bar.
func (c *controller) layout() fyne.CanvasObject {
	pv := c.player.preview
	// The picture sits on the window's own background: a black
	// rectangle behind it cost 0.1 core under software GL, repainted with
	// every frame (BenchmarkPreviewXvfb).
	picture := pv.pic.img
	head := container.NewBorder(nil, nil, nil, c.output.button, pv.label)
	below := container.NewVBox(pv.wave, c.tr.content)
	previewArea := container.NewBorder(container.NewVBox(c.output.banner, head), below, nil, nil, picture)
	list := container.NewBorder(nil, c.queue.content, nil, nil, c.list.content)
	main := container.New(windowLayout{}, list, previewArea, c.stream.content)
	return container.NewBorder(nil, c.status, nil, nil, main)
}

// close tells viewers the stream ends, stops the loop and releases the
// device and the stream.
func (c *controller) close() {
	c.cancel()
	c.api.close()
	c.stream.close()
	c.run.wg.Wait()
	if err := c.player.close(); err != nil {
		c.run.log.Warn("close audio", "err", err)
	}
}

// tick refreshes the window from the player and the session until close.
func (c *controller) tick() {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		select {
		case <-c.run.ctx.Done():
			return
		case <-t.C:
			c.run.do(c.refreshTick)
		}
	}
}

// refreshTick is one tick on the UI thread: the play head every time,
// health and the status bar every healthTicks.
func (c *controller) refreshTick() {
	c.ticks++
	c.native.sync()
	c.refresh()
	c.stream.refresh()
	c.stream.control.refresh(c.api)
	c.stream.publish.refresh()
	c.stream.health.setOnAir(c.stream.sess != nil, c.stream.connected())
	if c.ticks%healthTicks != 0 {
		return
	}
	p := c.player
	st, streaming := c.stream.stats()
	ls := p.loop.Stats()
	level := c.stream.health.update(st, streaming, c.stream.connected(), ls, p.preview.reduced.Load())
	p.preview.reduced.Store(level)
	c.setStatus(c.statusText(ls, level))
	if c.statsEvery > 0 && time.Since(c.lastLog) >= c.statsEvery {
		c.lastLog = time.Now()
		c.run.log.Info("preview stats", "shown", p.preview.shown.Load(),
			"preview_dropped", p.preview.dropped.Load(), "loop_frames", ls.VideoFrames,
			"skipped", ls.SkippedVideo, "late_audio", ls.LateAudio, "reduced", level,
			"memory_used", p.store.Used())
		if streaming {
			e := avsync.NewSendError(c.stream.sess.SendErrors())
			c.run.log.Info("stream stats", "viewers", c.stream.connected(),
				"audio_p99_ms", float64(e.AudioP99), "video_p99_ms", float64(e.VideoP99),
				"late_audio", st.LateAudio, "late_video", st.LateVideo, "dropped", st.Dropped,
				"encoder_skipped", st.VideoSkipped)
		}
	}
}

// refresh shows the play head: transport, now-playing row, title, and
// the size the picture is converted at. Nothing redraws unless it changed.
func (c *controller) refresh() {
	p := c.player
	pos := p.loop.Position()
	seg := p.segmentAt(pos)
	c.tr.update(pos, seg)
	if pos.OnAir != 0 {
		c.list.setPlaying(-1) // a producer's entry is on air, not the playlist
	} else {
		c.list.setPlaying(pos.Segment)
	}
	c.queue.update(pos)
	title := "Segcast"
	if seg != nil {
		title = seg.Name + " — Segcast"
	}
	if title != c.title {
		c.title = title
		c.win.SetTitle(title)
	}
	if !pos.Playing {
		c.tr.level.set(0)
	}
	w := p.preview.pic.img.Size().Width
	if c.full != nil {
		w = max(w, c.full.Canvas().Size().Width)
	}
	p.preview.showW.Store(int32(w * c.win.Canvas().Scale()))
}

func (c *controller) setStatus(s string) {
	if s != c.statusLine {
		c.statusLine = s
		c.status.SetText(s)
	}
}

// statusText is the status bar: output format, the counters (the same
// figures every window shows), memory, audio device.
func (c *controller) statusText(st engine.LoopStats, level int32) string {
	p := c.player
	preview := fmt.Sprintf("preview dropped %d", p.preview.dropped.Load())
	if level > previewFull {
		preview += " (reduced for the stream)"
	}
	return fmt.Sprintf("%s  ·  skipped %d, late audio %d, %s  ·  memory %s / %s  ·  %s",
		c.output.describe(), st.SkippedVideo, st.LateAudio, preview,
		mib(p.store.Used()), mib(p.store.Budget()), p.device())
}

func mib(n int64) string { return fmt.Sprintf("%d MiB", (n+1<<20-1)>>20) }

// firstClip is called when the first clip of the session has loaded: the
// output rate follows it when set to match the source, and a portrait
// clip in a landscape output offers the portrait presets.
func (c *controller) firstClip(seg *engine.Segment) {
	f := c.player.format
	if c.set.MatchFPS && seg.Rate.Valid() == nil && seg.Rate != f.Rate {
		f.Rate = seg.Rate
		c.applyFormat(f)
	}
	if seg.SourceHeight > seg.SourceWidth && f.W > f.H {
		c.output.offerPortrait(seg)
	}
}

// applyFormat switches the output to f (a new loop; rows reload when the
// size or fit changed) and keeps it as the default.
func (c *controller) applyFormat(f outFormat) {
	if f == c.player.format {
		return
	}
	c.set.Width, c.set.Height, c.set.Fill = f.W, f.H, f.Fill
	if !c.set.MatchFPS {
		c.set.FPS = f.Rate
	}
	c.set.saveOutput(c.app.Preferences())
	c.list.reformat(f)
	c.output.refresh()
	c.refresh()
}

// toggleFullscreen (F) shows the preview alone on a fullscreen window;
// F or Escape there closes it.
func (c *controller) toggleFullscreen() {
	pv := c.player.preview
	if c.full != nil {
		c.full.Close()
		return
	}
	w := c.app.NewWindow("Segcast preview")
	img := canvas.NewImageFromImage(pv.pic.last)
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScaleFastest
	w.SetContent(container.NewStack(canvas.NewRectangle(color.Black), img))
	w.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		if e.Name == fyne.KeyEscape || e.Name == fyne.KeyF {
			w.Close()
			return
		}
		c.handleKey(e)
	})
	w.SetOnClosed(func() {
		pv.full = nil
		c.full = nil
	})
	pv.full, c.full = img, w
	w.SetFullScreen(true)
	w.Show()
}

// handleKey is the transport's keys, whatever has focus (keys.go).
func (c *controller) handleKey(e *fyne.KeyEvent) bool {
	t, loop := c.tr, c.player.loop
	switch e.Name {
	case fyne.KeySpace:
		t.togglePlay()
	case fyne.KeyLeft:
		t.step(-1)
	case fyne.KeyRight:
		t.step(+1)
	case fyne.KeyPageUp:
		loop.Prev()
	case fyne.KeyPageDown:
		loop.Next()
	case fyne.KeyHome:
		t.doStop()
	case fyne.KeyL:
		t.toggleLoop()
	case fyne.KeyM:
		t.toggleMute()
	case fyne.KeyF:
		c.toggleFullscreen()
	default:
		return false
	}
	c.refresh()
	return true
}
