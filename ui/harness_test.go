package ui

import (
	"context"
	"os"
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
	t     *testing.T
	c     *controller
	mu    sync.Mutex
	queue chan func()
	picks chan string // what the stubbed open dialog returns
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
	deadline := time.Now().Add(20 * time.Second)
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

// key types a key on the window's canvas.
func (h *harness) key(name fyne.KeyName) {
	h.onUI(func() { h.c.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: name}) })
}

// shortcut types a shortcut on the window's canvas.
func (h *harness) shortcut(s fyne.Shortcut) {
	h.onUI(func() { h.c.win.Canvas().(fyne.Shortcutable).TypedShortcut(s) })
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
