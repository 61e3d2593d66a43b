package ui

import (
	"image"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// seekBar is the play head's bar over the current segment. It never takes
// focus (so the arrow keys stay the transport's) and never seeks by
// itself: a click or the end of a drag calls onSeek with the time under
// the pointer; set only moves the bar, and redraws only when the head
// moves by a pixel.
type seekBar struct {
	widget.BaseWidget
	onSeek func(time.Duration)

	pos, dur time.Duration
	drag     bool    // dragging: set leaves the bar alone
	dragX    float32 // where the drag is
	drawnX   float32 // the head's x as last drawn, -1 before
}

func newSeekBar(onSeek func(time.Duration)) *seekBar {
	b := &seekBar{onSeek: onSeek, drawnX: -1}
	b.ExtendBaseWidget(b)
	return b
}

// set shows the head at pos of dur (dur 0: nothing playing).
func (b *seekBar) set(pos, dur time.Duration) {
	b.pos, b.dur = pos, dur
	if b.drag {
		return
	}
	if x := b.headX(); x != b.drawnX {
		b.Refresh()
	}
}

// headX is the head's x in the bar's width.
func (b *seekBar) headX() float32 {
	w := b.Size().Width
	if b.dur <= 0 || w <= 0 {
		return 0
	}
	f := min(max(float32(float64(b.pos)/float64(b.dur)), 0), 1)
	return float32(int(f * w))
}

// at is the time under x.
func (b *seekBar) at(x float32) time.Duration {
	w := b.Size().Width
	if w <= 0 || b.dur <= 0 {
		return 0
	}
	f := min(max(float64(x/w), 0), 1)
	return time.Duration(f * float64(b.dur))
}

func (b *seekBar) Tapped(e *fyne.PointEvent) {
	if b.dur > 0 && b.onSeek != nil {
		b.onSeek(b.at(e.Position.X))
	}
}

func (b *seekBar) Dragged(e *fyne.DragEvent) {
	b.drag, b.dragX = true, e.Position.X
	b.Refresh()
}

func (b *seekBar) DragEnd() {
	b.drag = false
	if b.dur > 0 && b.onSeek != nil {
		b.onSeek(b.at(b.dragX))
	}
	b.Refresh()
}

func (b *seekBar) MinSize() fyne.Size { return fyne.NewSize(120, 22) }

func (b *seekBar) CreateRenderer() fyne.WidgetRenderer {
	r := &seekRenderer{b: b,
		track: canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)),
		done:  canvas.NewRectangle(theme.Color(theme.ColorNamePrimary)),
		head:  canvas.NewRectangle(theme.Color(theme.ColorNameForeground)),
	}
	r.track.CornerRadius = 3
	r.done.CornerRadius = 3
	return r
}

type seekRenderer struct {
	b                 *seekBar
	track, done, head *canvas.Rectangle
}

func (r *seekRenderer) Layout(size fyne.Size) {
	const barH = 8
	y := (size.Height - barH) / 2
	r.track.Move(fyne.NewPos(0, y))
	r.track.Resize(fyne.NewSize(size.Width, barH))
	x := r.b.headX()
	if r.b.drag {
		x = min(max(r.b.dragX, 0), size.Width)
	}
	r.b.drawnX = x
	r.done.Move(fyne.NewPos(0, y))
	r.done.Resize(fyne.NewSize(x, barH))
	r.head.Move(fyne.NewPos(max(x-2, 0), 0))
	r.head.Resize(fyne.NewSize(4, size.Height))
	if r.b.dur <= 0 {
		r.head.Hide()
	} else {
		r.head.Show()
	}
}

func (r *seekRenderer) MinSize() fyne.Size { return r.b.MinSize() }
func (r *seekRenderer) Refresh() {
	r.track.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.done.FillColor = theme.Color(theme.ColorNamePrimary)
	r.head.FillColor = theme.Color(theme.ColorNameForeground)
	r.Layout(r.b.Size())
	canvas.Refresh(r.b)
}
func (r *seekRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.track, r.done, r.head}
}
func (r *seekRenderer) Destroy() {}

// levelMeter is a horizontal bar for the sound level (0..1), a pane
// (pane.go) since it changes with nearly every frame; redrawn only when
// its drawn width changes.
type levelMeter struct {
	widget.BaseWidget
	level float32
	pic   *pane
	bufs  [2]*image.RGBA // drawn in turn: one on screen, one to draw
	next  int
}

// meterCols is the meter's resolution, stretched to its width.
const meterCols = 64

var meterColour = color.RGBA{R: 0x3c, G: 0xc0, B: 0x60, A: 0xff}

func newLevelMeter() *levelMeter {
	m := &levelMeter{}
	for i := range m.bufs {
		m.bufs[i] = image.NewRGBA(image.Rect(0, 0, meterCols, 1))
	}
	img := canvas.NewImageFromImage(m.draw(0))
	img.FillMode = canvas.ImageFillStretch
	img.ScaleMode = canvas.ImageScaleFastest
	m.pic = newPane(img, false)
	m.ExtendBaseWidget(m)
	return m
}

// set shows level v (0..1, peak of the sound now heard).
func (m *levelMeter) set(v float32) {
	v = min(max(v, 0), 1)
	same := int(v*meterCols) == int(m.level*meterCols)
	m.level = v
	if !same {
		m.pic.set(m.draw(v))
	}
}

// draw paints level v into the buffer not on screen.
func (m *levelMeter) draw(v float32) *image.RGBA {
	b := m.bufs[m.next]
	m.next = 1 - m.next
	bg := color.RGBAModel.Convert(theme.Color(theme.ColorNameDisabled)).(color.RGBA)
	for x := range meterCols {
		c := bg
		if x < int(v*meterCols) {
			c = meterColour
		}
		b.SetRGBA(x, 0, c)
	}
	return b
}

func (m *levelMeter) MinSize() fyne.Size { return fyne.NewSize(48, 10) }

func (m *levelMeter) CreateRenderer() fyne.WidgetRenderer {
	return &meterRenderer{m: m}
}

type meterRenderer struct{ m *levelMeter }

func (r *meterRenderer) Layout(size fyne.Size) {
	const h = 8
	r.m.pic.img.Move(fyne.NewPos(0, (size.Height-h)/2))
	r.m.pic.img.Resize(fyne.NewSize(size.Width, h))
}
func (r *meterRenderer) MinSize() fyne.Size { return r.m.MinSize() }
func (r *meterRenderer) Refresh() {
	r.Layout(r.m.Size())
	canvas.Refresh(r.m.pic.img)
}
func (r *meterRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.m.pic.img} }
func (r *meterRenderer) Destroy()                     {}
