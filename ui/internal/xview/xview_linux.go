//go:build linux && cgo

package xview

/*
#cgo LDFLAGS: -lX11
#include <stdlib.h>
#include <string.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

// Errors on our connection are caught while our own requests run (the
// handler is swapped in and out around them, as GLFW does for its own),
// so an X error reaches the caller instead of Xlib's default handler,
// which exits the process.
static int xview_errors;
static unsigned char xview_lastError;

static int xview_onError(Display *d, XErrorEvent *e) {
	xview_errors++;
	xview_lastError = e->error_code;
	return 0;
}

typedef int (*xview_handler)(Display *, XErrorEvent *);

static xview_handler xview_begin(void) {
	xview_errors = 0;
	return XSetErrorHandler(xview_onError);
}

// xview_end waits until the server has handled our requests and returns
// the error code of the last that failed (0: none).
static int xview_end(Display *d, xview_handler old) {
	XSync(d, False);
	XSetErrorHandler(old);
	return xview_errors ? xview_lastError : 0;
}

static int xview_trueColor(Display *d) {
	Visual *v = DefaultVisual(d, DefaultScreen(d));
	return DefaultDepth(d, DefaultScreen(d)) == 24 && v->red_mask == 0xff0000 &&
		v->green_mask == 0xff00 && v->blue_mask == 0xff;
}

static Window xview_create(Display *d, Window parent) {
	XSetWindowAttributes a;
	memset(&a, 0, sizeof a);
	a.background_pixmap = None;  // no clearing to black between frames
	a.event_mask = ExposureMask; // no input: that goes to the Fyne window beneath
	return XCreateWindow(d, parent, 0, 0, 1, 1, 0, CopyFromParent, InputOutput,
		CopyFromParent, CWBackPixmap | CWEventMask, &a);
}

// xview_exposed returns the next window to draw again (one whose last
// Expose of a series has come), 0 when no event is waiting.
static Window xview_exposed(Display *d) {
	while (XPending(d) > 0) {
		XEvent e;
		XNextEvent(d, &e);
		if (e.type == Expose && e.xexpose.count == 0)
			return e.xexpose.window;
	}
	return 0;
}

static void xview_put(Display *d, Window w, GC gc, char *data, int width, int height) {
	Visual *v = DefaultVisual(d, DefaultScreen(d));
	XImage img;
	memset(&img, 0, sizeof img);
	img.width = width;
	img.height = height;
	img.format = ZPixmap;
	img.data = data;
	img.byte_order = LSBFirst;
	img.bitmap_unit = 32;
	img.bitmap_bit_order = LSBFirst;
	img.bitmap_pad = 32;
	img.depth = 24;
	img.bytes_per_line = width * 4;
	img.bits_per_pixel = 32;
	img.red_mask = v->red_mask;
	img.green_mask = v->green_mask;
	img.blue_mask = v->blue_mask;
	if (XInitImage(&img))
		XPutImage(d, w, gc, &img, 0, 0, 0, 0, width, height);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

// Conn is one connection to the X server of a parent window. Its methods
// and its views' run on one thread at a time (Fyne's UI thread), the
// thread GLFW makes its own X calls on.
type Conn struct {
	d      *C.Display
	parent C.Window
	gc     C.GC
	views  []*View
}

// Dial connects to $DISPLAY for children of the X window parent.
func Dial(parent uintptr) (*Conn, error) {
	if parent == 0 {
		return nil, errors.New("xview: no X11 window")
	}
	d := C.XOpenDisplay(nil)
	if d == nil {
		return nil, errors.New("xview: cannot open the X display")
	}
	if C.xview_trueColor(d) == 0 {
		C.XCloseDisplay(d)
		return nil, errors.New("xview: the X screen is not 24-bit TrueColor")
	}
	c := &Conn{d: d, parent: C.Window(parent)}
	if err := c.check("create a graphics context", func() { c.gc = C.XCreateGC(d, c.parent, 0, nil) }); err != nil {
		C.XCloseDisplay(d)
		return nil, err
	}
	return c, nil
}

// check runs requests and reports the X error any of them caused.
func (c *Conn) check(what string, requests func()) error {
	old := C.xview_begin()
	requests()
	if code := C.xview_end(c.d, old); code != 0 {
		return fmt.Errorf("xview: %s: X error %d", what, int(code))
	}
	return nil
}

// NewView makes a hidden child window.
func (c *Conn) NewView() (*View, error) {
	v := &View{c: c}
	err := c.check("create a child window", func() { v.w = C.xview_create(c.d, c.parent) })
	if err != nil {
		return nil, err
	}
	c.views = append(c.views, v)
	return v, nil
}

// Exposed returns the views the server asks to draw again (uncovered by
// another window while showing a still picture).
func (c *Conn) Exposed() []*View {
	if c.d == nil {
		return nil
	}
	var out []*View
	for w := C.xview_exposed(c.d); w != 0; w = C.xview_exposed(c.d) {
		for _, v := range c.views {
			if v.w == w {
				out = append(out, v)
			}
		}
	}
	return out
}

// Close destroys the views and the connection. Call it before the parent
// window is destroyed.
func (c *Conn) Close() {
	if c.d == nil {
		return
	}
	c.check("close", func() {
		for _, v := range c.views {
			C.XDestroyWindow(c.d, v.w)
		}
		C.XFreeGC(c.d, c.gc)
	})
	C.XCloseDisplay(c.d)
	c.d = nil
}

// View is a child window showing one picture at a time.
type View struct {
	c      *Conn
	w      C.Window
	r      image.Rectangle // where it is, in the parent's pixels
	mapped bool
	buf    []byte
}

// Place moves the view over r (pixels of the parent) and shows it.
func (v *View) Place(r image.Rectangle) error {
	if v.c.d == nil || r.Empty() {
		return nil
	}
	if r == v.r && v.mapped {
		return nil
	}
	return v.c.check("place a child window", func() {
		C.XMoveResizeWindow(v.c.d, v.w, C.int(r.Min.X), C.int(r.Min.Y), C.uint(r.Dx()), C.uint(r.Dy()))
		if !v.mapped {
			C.XMapWindow(v.c.d, v.w)
		}
		v.r, v.mapped = r, true
	})
}

// Hide takes the view off screen.
func (v *View) Hide() error {
	if v.c.d == nil || !v.mapped {
		return nil
	}
	v.mapped = false
	return v.c.check("hide a child window", func() { C.XUnmapWindow(v.c.d, v.w) })
}

// Put draws img scaled to the view's size.
func (v *View) Put(img *image.RGBA) error {
	if v.c.d == nil || !v.mapped || img == nil {
		return nil
	}
	w, h := v.r.Dx(), v.r.Dy()
	if cap(v.buf) < w*h*4 {
		v.buf = make([]byte, w*h*4)
	}
	v.buf = v.buf[:w*h*4]
	scaleBGRX(v.buf, w, h, img)
	return v.c.check("draw a picture", func() {
		C.xview_put(v.c.d, v.w, v.c.gc, (*C.char)(unsafe.Pointer(&v.buf[0])), C.int(w), C.int(h))
	})
}
