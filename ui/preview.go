package ui

import (
	"context"
	"fmt"
	"image"
	"image/draw"
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

// preview is the engine.Sink that shows the loop's frames in one
// canvas.Image at their deadlines on the loop's clock, with a timecode
// and a waveform strip. Conversion happens on its own goroutine; the UI
// thread only swaps the image pointer.
type preview struct {
	clock  engine.Clock
	do     func(func()) // onto the UI thread
	img    *canvas.Image
	strip  *canvas.Image
	label  *widget.Label
	frames chan engine.VideoFrame
	wave   *waveHistory
	local  *localSync // heard-vs-shown log of every frame put on screen

	delay   atomic.Int64 // ns added to deadlines (output latency when streaming)
	shown   atomic.Int64 // frames handed to the UI thread
	dropped atomic.Int64 // frames the preview could not keep up with

	mu   sync.Mutex
	segs []*engine.Segment // playlist snapshot for names and rates

	pics, strips *bufPool

	// Owned by the run goroutine.
	lastSrc *image.YCbCr
	lastImg *image.RGBA
}

func newPreview(clock engine.Clock, do func(func())) *preview {
	p := &preview{
		clock:  clock,
		do:     do,
		img:    canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 16, 9))),
		strip:  canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, waveWidth, waveHeight))),
		label:  widget.NewLabel("--:--:--:--"),
		frames: make(chan engine.VideoFrame, 8),
		wave:   newWaveHistory(),
		local:  newLocalSync(),
		pics:   newBufPool(previewRing),
		strips: newBufPool(previewRing),
	}
	p.img.FillMode = canvas.ImageFillContain
	p.img.ScaleMode = canvas.ImageScaleFastest
	p.img.SetMinSize(fyne.NewSize(320, 180))
	p.strip.FillMode = canvas.ImageFillStretch
	p.strip.ScaleMode = canvas.ImageScaleFastest
	p.strip.SetMinSize(fyne.NewSize(320, 48))
	p.label.TextStyle.Monospace = true
	return p
}

// setSegments updates the playlist snapshot used for labels.
func (p *preview) setSegments(s []*engine.Segment) {
	p.mu.Lock()
	p.segs = s
	p.mu.Unlock()
}

// setDelay delays what is shown by d (the audio output latency while the
// wall clock rules, so picture and sound match locally).
func (p *preview) setDelay(d time.Duration) { p.delay.Store(int64(d)) }

// WriteVideo queues the frame; when the preview is behind, it is dropped
// and counted rather than blocking the loop.
func (p *preview) WriteVideo(f *engine.VideoFrame) {
	select {
	case p.frames <- *f:
	default:
		p.dropped.Add(1)
	}
}

// WriteAudio feeds the waveform strip.
func (p *preview) WriteAudio(c *engine.AudioChunk) { p.wave.add(c) }

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
		p.wave.draw(strip, f.MediaNS)
		text := p.describe(&f)
		due := f.Deadline + time.Duration(p.delay.Load())
		if err := p.clock.SleepUntil(ctx, due); err != nil {
			return
		}
		p.do(func() {
			if rgba != nil {
				if old, ok := p.img.Image.(*image.RGBA); !ok || old != rgba {
					p.img.Image = rgba
					p.img.Refresh()
					if ok {
						p.pics.put(old)
					}
				}
			}
			if old, ok := p.strip.Image.(*image.RGBA); ok {
				p.strips.put(old)
			}
			p.strip.Image = strip
			p.strip.Refresh()
			p.label.SetText(text)
			p.shown.Add(1)
			now := p.clock.Now()
			p.local.record(shownFrame{seq: f.Seq, mediaNS: f.MediaNS, late: now - due, at: now, dropped: p.dropped.Load()})
		})
	}
}

// convert turns an I420 frame into RGBA in the next ring buffer, or
// returns the previous result when the loop repeats the same image
// (paused, idle, or a slower source rate).
func (p *preview) convert(ctx context.Context, src *image.YCbCr) (*image.RGBA, error) {
	if src == nil {
		return nil, nil
	}
	if src == p.lastSrc {
		return p.lastImg, nil
	}
	b := src.Bounds()
	dst, err := p.pics.get(ctx, b.Dx(), b.Dy())
	if err != nil {
		return nil, err
	}
	// image/draw has a fast path for YCbCr onto RGBA.
	draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Src)
	p.lastSrc, p.lastImg = src, dst
	return dst, nil
}

// describe is the label under the picture: segment, its timecode and
// frame number, and the session time.
func (p *preview) describe(f *engine.VideoFrame) string {
	session := time.Duration(f.MediaNS).Truncate(time.Millisecond)
	p.mu.Lock()
	var seg *engine.Segment
	if f.Segment >= 0 && f.Segment < len(p.segs) {
		seg = p.segs[f.Segment]
	}
	p.mu.Unlock()
	if seg == nil || f.SourceIndex < 0 {
		return fmt.Sprintf("idle   session %v", session)
	}
	return fmt.Sprintf("%s   %s   frame %d   session %v",
		seg.Name, timecode(seg.Rate, f.SourceIndex), f.SourceIndex, session)
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
