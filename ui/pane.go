package ui

import (
	"image"
	"log/slog"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver"

	"segcast/ui/internal/xview"
)

// pane is a picture that changes with every frame: the preview, the
// waveform strip, the level meter. On X11 its pictures go to a child
// window at its place (package xview), so a new one repaints nothing
// else; Fyne repaints the whole window for any change, which on software
// GL was most of the playing preview's CPU (BenchmarkPreviewXvfb).
// Elsewhere, or while a dialog or menu lies over the window (it would
// be drawn under the child window), Fyne draws it in img. UI thread only.
type pane struct {
	img  *canvas.Image
	fit  bool            // letterboxed (contain) rather than stretched
	last *image.RGBA     // the picture shown
	view *xview.View     // nil: Fyne draws
	on   bool            // the view shows the pane (img draws nothing)
	area image.Rectangle // where Fyne laid img out, in the window's pixels
	at   image.Rectangle // where the view last drew
	err  error           // the view failed: Fyne draws until nativePanes.sync gives up
}

// blank is what img holds while the view shows the pane.
var blank = image.NewRGBA(image.Rect(0, 0, 1, 1))

func newPane(img *canvas.Image, fit bool) *pane {
	p := &pane{img: img, fit: fit}
	p.last, _ = img.Image.(*image.RGBA)
	return p
}

// set shows pic.
func (p *pane) set(pic *image.RGBA) {
	p.last = pic
	if p.on {
		p.at = p.rect()
		err := p.view.Place(p.at)
		if err == nil {
			err = p.view.Put(pic)
		}
		if err == nil {
			return
		}
		p.err, p.on = err, false
	}
	p.img.Image = pic
	p.img.Refresh()
}

// rect is where the picture goes in the window's pixels.
func (p *pane) rect() image.Rectangle {
	a := p.area
	if !p.fit || p.last == nil || p.last.Bounds().Empty() || a.Empty() {
		return a
	}
	pw, ph := p.last.Bounds().Dx(), p.last.Bounds().Dy()
	if a.Dx()*ph > a.Dy()*pw { // the area is wider: bars left and right
		w := a.Dy() * pw / ph
		x := a.Min.X + (a.Dx()-w)/2
		return image.Rect(x, a.Min.Y, x+w, a.Max.Y)
	}
	h := a.Dx() * ph / pw
	y := a.Min.Y + (a.Dy()-h)/2
	return image.Rect(a.Min.X, y, a.Max.X, y+h)
}

// nativePanes moves a window's panes into child windows and back as the
// window changes (sync, on every tick and every frame shown).
type nativePanes struct {
	win    fyne.Window
	driver fyne.Driver
	log    *slog.Logger
	panes  []*pane
	conn   *xview.Conn
	failed bool // no X11 here, or it failed once: Fyne draws from now on
}

func newNativePanes(win fyne.Window, d fyne.Driver, log *slog.Logger, panes ...*pane) *nativePanes {
	return &nativePanes{win: win, driver: d, log: log, panes: panes}
}

// sync puts each pane where Fyne laid out its image, in a child window
// when nothing covers the window, back in Fyne when something does.
func (n *nativePanes) sync() {
	if n.failed || !n.attach() {
		return
	}
	exposed := n.conn.Exposed()
	covered := n.win.Canvas().Overlays().Top() != nil
	scale := n.win.Canvas().Scale()
	for _, p := range n.panes {
		pos := n.driver.AbsolutePositionForObject(p.img)
		size := p.img.Size()
		p.area = image.Rect(int(pos.X*scale+0.5), int(pos.Y*scale+0.5),
			int((pos.X+size.Width)*scale+0.5), int((pos.Y+size.Height)*scale+0.5))
		show := !covered && p.img.Visible() && !p.area.Empty()
		switch {
		case show && !p.on:
			p.on = true
			p.img.Image = blank
			p.img.Refresh()
			p.set(p.last)
		case show:
			if p.rect() != p.at || slices.Contains(exposed, p.view) { // moved, resized, uncovered
				p.set(p.last)
			}
		case p.on:
			p.err = p.view.Hide()
			p.on = false
			p.set(p.last)
		}
		if p.err != nil {
			n.fail(p.err)
			return
		}
	}
}

// attach connects to X the first time the window has a native handle.
func (n *nativePanes) attach() bool {
	if n.conn != nil {
		return true
	}
	nw, ok := n.win.(driver.NativeWindow)
	if !ok {
		n.failed = true
		return false
	}
	var handle uintptr
	var x11 bool
	nw.RunNative(func(ctx any) {
		if c, ok := ctx.(driver.X11WindowContext); ok {
			handle, x11 = c.WindowHandle, true
		}
	})
	if !x11 {
		n.failed = true
		return false
	}
	if handle == 0 {
		return false // not shown yet
	}
	conn, err := xview.Dial(handle)
	if err != nil {
		n.fail(err)
		return false
	}
	n.conn = conn
	for _, p := range n.panes {
		if p.view, err = conn.NewView(); err != nil {
			n.fail(err)
			return false
		}
	}
	n.log.Info("preview draws in X11 child windows")
	return true
}

// fail gives every pane back to Fyne for good.
func (n *nativePanes) fail(err error) {
	n.log.Warn("preview draws through Fyne", "err", err)
	n.failed = true
	n.close()
	for _, p := range n.panes {
		if p.on {
			p.on = false
			p.set(p.last)
		}
		p.view, p.err = nil, nil
	}
}

// close destroys the child windows; the window must still exist.
func (n *nativePanes) close() {
	if n.conn != nil {
		n.conn.Close()
		n.conn = nil
	}
	n.failed = true
}
