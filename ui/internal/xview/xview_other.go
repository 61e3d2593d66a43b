//go:build !linux || !cgo

package xview

import (
	"errors"
	"image"
)

// Conn is not available here: the caller draws through Fyne.
type Conn struct{}

// Dial always fails where X11 child windows are not built.
func Dial(uintptr) (*Conn, error) { return nil, errors.New("xview: X11 is not available") }

func (*Conn) NewView() (*View, error) { return nil, errors.New("xview: X11 is not available") }
func (*Conn) Close()                  {}
func (*Conn) Exposed() []*View        { return nil }

// View is never made here.
type View struct{}

func (*View) Place(image.Rectangle) error { return nil }
func (*View) Hide() error                 { return nil }
func (*View) Put(*image.RGBA) error       { return nil }
