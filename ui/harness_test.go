package ui

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// harness runs a controller headless. Fyne's test driver runs fyne.Do
// callbacks on the calling goroutine, so the harness serialises them on
// one goroutine instead, as the real driver does on its UI thread; the
// test reaches widgets and rows through onUI under the same lock.
type harness struct {
	t      *testing.T
	c      *controller
	mu     sync.Mutex
	queue  chan func()
	picks  chan string // what the stubbed open dialog returns
	opened []string    // URLs "opened in the browser" (UI thread)
}

func newHarness(t *testing.T, opt Options) *harness {
	t.Helper()
	opt.NoAudio = true
	return newHarnessAudio(t, opt, nil)
}

// newHarnessAudio runs the controller with dev as its audio device.
func newHarnessAudio(t *testing.T, opt Options, dev audioDevice) *harness {
	t.Helper()
	h := &harness{t: t, queue: make(chan func(), 4096), picks: make(chan string, 4)}
	done, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case f := <-h.queue:
				h.mu.Lock()
				f()
				h.mu.Unlock()
			case <-stop:
				return
			}
		}
	}()
	a := test.NewTempApp(t)
	e := env{
		openAudio: func(string) (audioDevice, error) { return dev, nil },
		do: func(f func()) {
			select {
			case h.queue <- f:
			case <-stop: // the test is over: drop
			}
		},
		pickFiles:    func() ([]string, error) { return []string{<-h.picks}, nil },
		pickFolder:   func() (string, error) { return <-h.picks, nil },
		saveFile:     func(string) (string, error) { return <-h.picks, nil },
		pickPlaylist: func() (string, error) { return <-h.picks, nil },
		savePlaylist: func(string) (string, error) { return <-h.picks, nil },
		openURL: func(u string) error {
			h.opened = append(h.opened, u)
			return nil
		},
		loopbackOnly: true,
	}
	h.mu.Lock()
	c, err := newController(context.Background(), a, opt, e)
	h.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	t.Cleanup(func() {
		c.close()
		close(stop)
		<-done
	})
	return h
}

// onUI runs f as if on the UI thread.
func (h *harness) onUI(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f()
}

// waitFor polls cond on the UI thread until it holds or 20 s pass.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	h.waitWithin(what, 20*time.Second, cond)
}

// waitWithin is waitFor with its own limit.
func (h *harness) waitWithin(what string, limit time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var ok bool
		h.onUI(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// key presses a key as the desktop driver delivers it: to the focused
// widget if any (with the rune for a printable key, as typing does), else
// to the canvas.
func (h *harness) key(name fyne.KeyName) {
	h.onUI(func() {
		cv := h.c.win.Canvas()
		ev := &fyne.KeyEvent{Name: name}
		if f := cv.Focused(); f != nil {
			f.TypedKey(ev)
			if r := keyRune(name); r != 0 {
				f.TypedRune(r)
			}
			return
		}
		cv.OnTypedKey()(ev)
	})
}

// keyRune is the character a key types (0: none).
func keyRune(name fyne.KeyName) rune {
	switch {
	case name == fyne.KeySpace:
		return ' '
	case len(name) == 1:
		return []rune(strings.ToLower(string(name)))[0]
	}
	return 0
}

// shortcut types a shortcut as the desktop driver does: a main menu item
// with that shortcut first, whatever has focus; else the focused widget;
// else the canvas.
func (h *harness) shortcut(s fyne.Shortcut) {
	h.onUI(func() {
		if it := menuItemFor(h.c.win.MainMenu(), s); it != nil {
			it.Action()
			return
		}
		if f, ok := h.c.win.Canvas().Focused().(fyne.Shortcutable); ok {
			f.TypedShortcut(s)
			return
		}
		h.c.win.Canvas().(fyne.Shortcutable).TypedShortcut(s)
	})
}

// menuItemFor finds the main menu item whose shortcut is s (nil: none).
func menuItemFor(m *fyne.MainMenu, s fyne.Shortcut) *fyne.MenuItem {
	var find func(items []*fyne.MenuItem) *fyne.MenuItem
	find = func(items []*fyne.MenuItem) *fyne.MenuItem {
		for _, it := range items {
			if it.Shortcut != nil && it.Shortcut.ShortcutName() == s.ShortcutName() && it.Action != nil {
				return it
			}
			if it.ChildMenu != nil {
				if f := find(it.ChildMenu.Items); f != nil {
					return f
				}
			}
		}
		return nil
	}
	for _, menu := range m.Items {
		if it := find(menu.Items); it != nil {
			return it
		}
	}
	return nil
}

func (h *harness) tap(b interface{ Tapped(*fyne.PointEvent) }) {
	h.onUI(func() { test.Tap(b) })
}

// missing stops a test whose real component is not there: it skips, or
// fails when CI is set, so that CI never passes without testing it.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set: "+format, args...)
	}
	t.Skipf(format, args...)
}
