package ui

import (
	"image"
	"image/color"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
	"segcast/engine/pattern"
)

// The strip shows the segment's own sound around the play head: waveWidth
// columns of waveColNS each, the head in the middle, from an envelope of
// the whole segment computed once. Paused, nothing moves, so nothing is
// redrawn; after a seek it shows the sound there at once.
const (
	waveColNS      = 5_000_000 // 5 ms per column
	waveColSamples = engine.AudioRate * waveColNS / 1e9
	waveWidth      = 800 // 4 s
	waveHeight     = 64
	waveHead       = waveWidth / 2
	waveCacheSegs  = 8 // envelopes kept (about 0.5 MB per 10 min of sound)
)

var (
	waveBG    = color.RGBA{0x14, 0x18, 0x22, 0xff}
	waveFG    = color.RGBA{0x38, 0xbd, 0xf8, 0xff}
	waveHeadC = color.RGBA{0xf9, 0x73, 0x16, 0xff}
	waveFlash = color.RGBA{0xff, 0xff, 0xff, 0xff}
	waveBeep  = color.RGBA{0xfa, 0xcc, 0x15, 0xff}
)

// envelope is the peak range of the left channel per waveColNS column of
// one segment's sound.
type envelope struct {
	lo, hi []int16
}

// envelopeOf reads a's samples once into columns.
func envelopeOf(a engine.Audio) *envelope {
	n := (a.Len() + waveColSamples - 1) / waveColSamples
	e := &envelope{lo: make([]int16, n), hi: make([]int16, n)}
	buf := make([]int16, 2*waveColSamples*200) // 1 s at a time
	per := int64(len(buf) / 2)
	for off := int64(0); off < a.Len(); off += per {
		a.Fill(buf, off)
		for i := int64(0); i < per && off+i < a.Len(); i++ {
			col, v := (off+i)/waveColSamples, buf[2*i]
			e.lo[col], e.hi[col] = min(e.lo[col], v), max(e.hi[col], v)
		}
	}
	return e
}

// waveStrip draws strips, caching envelopes by segment. Envelopes are
// computed off the drawing goroutine; until one is ready the strip shows
// no sound.
type waveStrip struct {
	mu    sync.Mutex
	env   map[*engine.Segment]*envelope
	order []*engine.Segment // oldest first
	busy  map[*engine.Segment]bool
	ready func(*engine.Segment) // called (on the computing goroutine) when an envelope is done
}

func newWaveStrip(ready func(*engine.Segment)) *waveStrip {
	return &waveStrip{env: map[*engine.Segment]*envelope{}, busy: map[*engine.Segment]bool{}, ready: ready}
}

// envelope returns seg's envelope, nil while it is being computed.
func (w *waveStrip) envelope(seg *engine.Segment) *envelope {
	if seg == nil || seg.Audio == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if e, ok := w.env[seg]; ok {
		return e
	}
	if !w.busy[seg] {
		w.busy[seg] = true
		go func() {
			e := envelopeOf(seg.Audio)
			w.mu.Lock()
			delete(w.busy, seg)
			if len(w.order) == waveCacheSegs {
				delete(w.env, w.order[0])
				w.order = w.order[1:]
			}
			w.env[seg] = e
			w.order = append(w.order, seg)
			w.mu.Unlock()
			if w.ready != nil {
				w.ready(seg)
			}
		}()
	}
	return nil
}

// draw renders the strip of seg around headNS (into the segment) into
// dst; seg nil draws the empty strip with the head.
func (w *waveStrip) draw(dst *image.RGBA, seg *engine.Segment, headNS int64) {
	h := dst.Bounds().Dy()
	pix := dst.Pix
	for i := 0; i < len(pix); i += 4 {
		pix[i], pix[i+1], pix[i+2], pix[i+3] = waveBG.R, waveBG.G, waveBG.B, 0xff
	}
	mid := h / 2
	headCol := headNS / waveColNS
	if e := w.envelope(seg); e != nil {
		for x := range dst.Bounds().Dx() {
			col := headCol - waveHead + int64(x)
			if col < 0 || col >= int64(len(e.lo)) {
				continue
			}
			y0 := mid - int(e.hi[col])*mid/32768
			y1 := mid - int(e.lo[col])*mid/32768
			for y := max(y0, 0); y <= min(y1, h-1); y++ {
				dst.SetRGBA(x, y, waveFG)
			}
		}
	}
	if seg != nil && seg.Source == "pattern" {
		drawPatternMarks(dst, seg.Rate, headNS)
	}
	for y := range h {
		dst.SetRGBA(waveHead, y, waveHeadC)
	}
}

// drawPatternMarks marks the sync pattern's flash frames (white, top) and
// the onsets of their beeps (yellow, bottom) within the strip.
func drawPatternMarks(dst *image.RGBA, r engine.Rate, headNS int64) {
	h := dst.Bounds().Dy()
	from := headNS - waveHead*waveColNS
	to := from + int64(dst.Bounds().Dx())*waveColNS
	for s := max(from/1e9, 0); s*1e9 <= to; s++ {
		flashNS := r.FrameNS(r.FramesIn(s * 1e9))
		beepNS := pattern.BeepOnsetSample(flashNS) * 1e9 / engine.AudioRate
		for _, m := range []struct {
			ns     int64
			y0, y1 int
			c      color.RGBA
		}{{flashNS, 0, h / 5, waveFlash}, {beepNS, h - h/5, h, waveBeep}} {
			x := int((m.ns - from) / waveColNS)
			if x < 0 || x >= dst.Bounds().Dx() {
				continue
			}
			for y := m.y0; y < m.y1; y++ {
				for dx := range 2 {
					if x+dx < dst.Bounds().Dx() {
						dst.SetRGBA(x+dx, y, m.c)
					}
				}
			}
		}
	}
}

// waveView is the strip on screen: a click seeks to the time under it.
type waveView struct {
	widget.BaseWidget
	pic    *pane
	onSeek func(time.Duration)
	seg    *engine.Segment // what the strip shows (UI thread)
	headNS int64
	durNS  int64 // the segment's length, 0 for none
}

func newWaveView(onSeek func(time.Duration)) *waveView {
	img := canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, waveWidth, waveHeight)))
	img.FillMode = canvas.ImageFillStretch
	img.ScaleMode = canvas.ImageScaleFastest
	img.SetMinSize(fyne.NewSize(200, 40))
	v := &waveView{onSeek: onSeek, pic: newPane(img, false)}
	v.ExtendBaseWidget(v)
	return v
}

func (v *waveView) Tapped(e *fyne.PointEvent) {
	w := v.Size().Width
	if v.durNS <= 0 || w <= 0 || v.onSeek == nil {
		return
	}
	col := int64(e.Position.X / w * waveWidth)
	t := v.headNS + (col-waveHead)*waveColNS
	v.onSeek(time.Duration(min(max(t, 0), v.durNS-1)))
}

func (v *waveView) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(v.pic.img) }
