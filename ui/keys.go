package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Keys. The driver hands a plain key (no modifier) to the focused widget,
// and to the canvas only when nothing has focus; shortcuts with a modifier
// reach the main menu's items first, whatever has focus. So the transport
// keys are bound on the canvas, and the few widgets that take focus when
// clicked (list, slider, text boxes) pass them on: a list or slider keeps
// only its own arrows, a text box keeps every key for typing and gives
// focus back on Escape.

// keyHandler acts on a key and reports whether it did.
type keyHandler func(*fyne.KeyEvent) bool

// keyList is a widget.List whose ↑/↓ move through the rows while every
// other key goes to the transport.
type keyList struct {
	widget.List
	keys keyHandler
}

func newKeyList(keys keyHandler, length func() int, create func() fyne.CanvasObject,
	update func(widget.ListItemID, fyne.CanvasObject)) *keyList {
	l := &keyList{keys: keys}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.ExtendBaseWidget(l)
	return l
}

func (l *keyList) TypedKey(e *fyne.KeyEvent) {
	if e.Name == fyne.KeyUp || e.Name == fyne.KeyDown || !l.keys(e) {
		l.List.TypedKey(e)
	}
}

// keySlider is a widget.Slider (the volume) that keeps ↑/↓ and passes the
// rest on.
type keySlider struct {
	widget.Slider
	keys keyHandler
}

func newKeySlider(min, max float64, keys keyHandler) *keySlider {
	s := &keySlider{keys: keys}
	s.Min, s.Max, s.Step = min, max, (max-min)/20
	s.Orientation = widget.Horizontal
	s.ExtendBaseWidget(s)
	return s
}

func (s *keySlider) TypedKey(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeyUp:
		s.SetValue(s.Value + s.Step)
		s.fire()
	case fyne.KeyDown:
		s.SetValue(s.Value - s.Step)
		s.fire()
	default:
		s.keys(e)
	}
}

func (s *keySlider) fire() {
	if s.OnChangeEnded != nil {
		s.OnChangeEnded(s.Value)
	}
}

// keyEntry is a widget.Entry that types every key but Escape, which hands
// the keys back to the transport.
type keyEntry struct {
	widget.Entry
}

func newKeyEntry(multiLine bool) *keyEntry {
	e := &keyEntry{}
	e.MultiLine = multiLine
	if multiLine {
		e.Wrapping = fyne.TextWrapBreak
	}
	e.ExtendBaseWidget(e)
	return e
}

func (e *keyEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil {
			c.Unfocus()
		}
		return
	}
	e.Entry.TypedKey(k)
}
