package ui

import (
	"context"
	"fmt"
	"image"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
)

// previewRing is how many RGBA buffers of each kind the preview uses: one
// on screen, one queued for the UI thread, one being converted, one spare.
const previewRing = 4

// Preview load levels (preview.reduced): the stream's timing comes first,
// so under CPU pressure the preview gives way.
const (
	previewFull    = 0 // every frame at the size it is shown
	previewHalf    = 1 // every frame at half that size
	previewSkipOdd = 2 // half size, every other frame
	previewTrickle = 3 // half size, one frame in trickleEvery
)

// trickleEvery is the frames between those the preview shows at
// previewTrickle: two a second at 30 fps.
const trickleEvery = 15

// frameKey is what a frame shows: a frame equal to the last one queued
// (paused, stopped, a slower source) is not drawn again.
type frameKey struct {
	img         *image.YCbCr
	seg, source int
}

// preview is the engine.Sink that shows the loop's frames in one
// canvas.Image at their deadlines on the loop's clock, with a timecode,
// the waveform around the play head and the sound level. Conversion
// (scaled to the size the picture is shown at) happens on its own
// goroutine; the UI thread only swaps image pointers. Frames that show
// nothing new are skipped, so a paused window does no drawing.
type preview struct {
	clock  engine.Clock
	do     func(func()) // onto the UI thread
	pic    *pane
	native *nativePanes // set by the window before frames flow; nil: Fyne draws
	wave   *waveView
	label  *widget.Label
	frames chan engine.VideoFrame
	strip  *waveStrip
	local  *localSync // heard-vs-shown log of every frame put on screen
	levels levelRing

	// onShown runs on the UI thread after each frame is put on screen,
	// with the sound level (0..1) heard with it.
	onShown func(level float32)
	// full is the fullscreen view's image (UI thread), nil when closed.
	full *canvas.Image
	// The label's latest text, when it last changed and the timer of a
	// pending change (UI thread, setLabel); when the last frame went on
	// screen.
	labelText  string
	labelAt    time.Time
	labelTimer *time.Timer
	shownAt    time.Time

	delay     atomic.Int64 // ns added to deadlines (output latency when streaming)
	shown     atomic.Int64 // frames handed to the UI thread
	dropped   atomic.Int64 // frames the preview could not keep up with (playing only)
	reduced   atomic.Int32 // previewFull … previewTrickle
	showW     atomic.Int32 // pixels the picture is shown across (0: unknown)
	mediaBase atomic.Int64 // ns added to media times in the local sync log (see player.swap)

	mu   sync.Mutex
	segs []*engine.Segment // playlist snapshot for names, rates and sound

	pics, strips *bufPool

	// Owned by the loop's goroutine (WriteVideo).
	lastKey frameKey
	// Owned by the run goroutine.
	lastSrc  *image.YCbCr
	lastSize image.Point
	lastImg  *image.RGBA
}

func newPreview(clock engine.Clock, do func(func()), onSeek func(time.Duration)) *preview {
	p := &preview{
		clock:  clock,
		do:     do,
		wave:   newWaveView(onSeek),
		label:  widget.NewLabel("--:--:--:--"),
		frames: make(chan engine.VideoFrame, 8),

		local:   newLocalSync(),
		pics:    newBufPool(previewRing),
		strips:  newBufPool(previewRing),
		onShown: func(float32) {},
	}
	p.strip = newWaveStrip(p.envelopeReady)
	img := canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 16, 9)))
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScaleFastest
	img.SetMinSize(fyne.NewSize(320, 180))
	p.pic = newPane(img, true)
	p.label.TextStyle.Monospace = true
	p.label.Truncation = fyne.TextTruncateEllipsis
	return p
}

// setSegments updates the playlist snapshot used for labels.
func (p *preview) setSegments(s []*engine.Segment) {
	p.mu.Lock()
	p.segs = s
	p.mu.Unlock()
}

func (p *preview) segment(i int) *engine.Segment {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i >= 0 && i < len(p.segs) {
		return p.segs[i]
	}
	return nil
}

// setDelay delays what is shown by d (the audio output latency while the
// wall clock rules, so picture and sound match locally).
func (p *preview) setDelay(d time.Duration) { p.delay.Store(int64(d)) }

// WriteVideo queues the frame unless it shows what the last one showed;
// when the preview is behind, the frame is dropped and counted rather than
// blocking the loop.
func (p *preview) WriteVideo(f *engine.VideoFrame) {
	key := frameKey{f.Image, f.Segment, f.SourceIndex}
	if key == p.lastKey {
		return
	}
	switch r := p.reduced.Load(); {
	case r >= previewTrickle && f.Seq%trickleEvery != 0, r == previewSkipOdd && f.Seq%2 == 1:
		return // given up for the stream's sake, not dropped
	}
	select {
	case p.frames <- *f:
		p.lastKey = key
	default:
		p.dropped.Add(1)
	}
}

// WriteAudio notes each chunk's level for the meter.
func (p *preview) WriteAudio(c *engine.AudioChunk) { p.levels.add(c) }

// run shows frames until ctx ends.
func (p *preview) run(ctx context.Context) {
	for {
		var f engine.VideoFrame
		select {
		case <-ctx.Done():
			return
		case f = <-p.frames:
		}
		rgba, err := p.convert(ctx, f.Image)
		if err != nil {
			return
		}
		strip, err := p.strips.get(ctx, waveWidth, waveHeight)
		if err != nil {
			return
		}
		seg := p.segment(f.Segment)
		var headNS, durNS int64
		if seg != nil && f.SourceIndex >= 0 {
			headNS, durNS = seg.Rate.FrameNS(int64(f.SourceIndex)), int64(seg.Duration())
		} else {
			seg = nil
		}
		p.strip.draw(strip, seg, headNS)
		text := describe(seg, &f)
		due := f.Deadline + time.Duration(p.delay.Load())
		level := p.levels.at(due)
		if err := p.clock.SleepUntil(ctx, due); err != nil {
			return
		}
		p.do(func() {
			if p.native != nil {
				p.native.sync()
			}
			p.show(rgba)
			if old := p.wave.pic.last; old != nil {
				p.strips.put(old)
			}
			p.wave.pic.set(strip)
			p.wave.seg, p.wave.headNS, p.wave.durNS = seg, headNS, durNS
			wall := time.Now()
			p.setLabel(text, wall.Sub(p.shownAt) < flowingGap)
			p.shownAt = wall
			p.shown.Add(1)
			now := p.clock.Now()
			p.local.record(shownFrame{seq: f.Seq, mediaNS: f.MediaNS + p.mediaBase.Load(), late: now - due, at: now,
				dropped: p.dropped.Load()})
			p.onShown(level)
		})
	}
}

// labelEvery bounds how often the label under the picture changes while
// frames flow: each new text is shaped, rasterised and drawn anew, which
// under software GL cost 0.1 core at four changes a second
// (BenchmarkPreviewXvfb). Frames flow when each comes within flowingGap
// of the last; a frame after a pause (a step, a seek) relabels at once,
// and the last text always shows.
const (
	labelEvery = time.Second
	flowingGap = 250 * time.Millisecond
)

// setLabel shows text now, or, while frames flow, at most labelEvery
// after the last change (UI thread).
func (p *preview) setLabel(text string, flowing bool) {
	p.labelText = text
	if p.labelTimer != nil && flowing {
		return // the pending change will show the latest text
	}
	if wait := labelEvery - time.Since(p.labelAt); wait > 0 && flowing {
		p.labelTimer = time.AfterFunc(wait, func() {
			p.do(func() {
				p.labelTimer = nil
				p.setLabel(p.labelText, false)
			})
		})
		return
	}
	p.labelAt = time.Now()
	if p.label.Text != text {
		p.label.SetText(text)
	}
}

// envelopeReady redraws the strip when the sound of the segment it shows
// has just been read (paused, no new frame would redraw it).
func (p *preview) envelopeReady(seg *engine.Segment) {
	p.do(func() {
		if p.wave.seg != seg {
			return
		}
		img := image.NewRGBA(image.Rect(0, 0, waveWidth, waveHeight))
		p.strip.draw(img, seg, p.wave.headNS)
		if old := p.wave.pic.last; old != nil {
			p.strips.put(old)
		}
		p.wave.pic.set(img)
	})
}

// show puts rgba on screen (UI thread), giving the old picture back.
func (p *preview) show(rgba *image.RGBA) {
	if rgba == nil {
		return
	}
	if p.full != nil {
		p.full.Image = rgba
		p.full.Refresh()
	}
	old := p.pic.last
	if old == rgba {
		return
	}
	p.pic.set(rgba)
	if old != nil {
		p.pics.put(old)
	}
}

// convert turns an I420 frame into RGBA in the next ring buffer, shrunk
// by a whole factor to about the size it is shown (never larger than the
// frame; half that when reduced), or returns the previous result for the
// same image at the same size.
func (p *preview) convert(ctx context.Context, src *image.YCbCr) (*image.RGBA, error) {
	if src == nil {
		return nil, nil
	}
	b := src.Bounds()
	f := shrinkFactor(b.Dx(), int(p.showW.Load()), p.reduced.Load() >= previewHalf)
	size := image.Pt(b.Dx()/f, b.Dy()/f)
	if src == p.lastSrc && size == p.lastSize {
		return p.lastImg, nil
	}
	dst, err := p.pics.get(ctx, size.X, size.Y)
	if err != nil {
		return nil, err
	}
	toRGBA(dst, src, f)
	p.lastSrc, p.lastSize, p.lastImg = src, size, dst
	return dst, nil
}

// describe is the label under the picture: segment, its timecode and
// frame number (nothing that changes while the picture does not). A
// segment from the control API's queue is named by its entry number (the
// ID its POST answered with), not "idle".
func describe(seg *engine.Segment, f *engine.VideoFrame) string {
	if seg == nil && f.Entry != 0 && f.SourceIndex >= 0 {
		return fmt.Sprintf("pushed segment %d   frame %d", f.Entry, f.SourceIndex)
	}
	if seg == nil || f.SourceIndex < 0 {
		return "idle"
	}
	// The name last: when the label is cut, the title bar still has it.
	return fmt.Sprintf("%s   frame %d   %s", timecode(seg.Rate, f.SourceIndex), f.SourceIndex, seg.Name)
}

// timecode is HH:MM:SS:FF of frame k at rate r (FF counts frames within
// the second, so 29.97 fps shows 00..29).
func timecode(r engine.Rate, k int) string {
	if r.Valid() != nil {
		r = engine.Rate30
	}
	ns := r.FrameNS(int64(k))
	sec := ns / 1e9
	ff := int64(k) - r.FramesIn(sec*1e9)
	return fmt.Sprintf("%02d:%02d:%02d:%02d", sec/3600, sec/60%60, sec%60, ff)
}

// levelRing keeps the peak level of the last chunks by deadline, for the
// meter: the loop writes, the preview reads what is heard with a frame.
type levelRing struct {
	mu    sync.Mutex
	due   [16]time.Duration
	level [16]float32
	n     int
}

func (r *levelRing) add(c *engine.AudioChunk) {
	var peak int16
	for _, v := range c.Samples {
		peak = max(peak, v, -max(v, -32767))
	}
	r.mu.Lock()
	i := r.n % len(r.due)
	r.due[i], r.level[i] = c.Deadline, float32(peak)/32767
	r.n++
	r.mu.Unlock()
}

// at is the level of the chunk playing at clock time t (0 if unknown).
func (r *levelRing) at(t time.Duration) float32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.due {
		if r.due[i] <= t && t < r.due[i]+engine.ChunkNS {
			return r.level[i]
		}
	}
	return 0
}
