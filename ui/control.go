package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
	"segcast/rtc/share"
)

// controlAPI is the window's control API: the calls of `segcast serve`'s
// (push segments, set the idle clip, cut to it, GET live), on the loop on
// air. It runs for the window's life, on loopback by default. The
// listener and the token stay while the share.Control behind them is
// made anew for each new loop (a new output format), so a producer's URL
// keeps working; what was queued on the old loop is dropped with it.
type controlAPI struct {
	log   *slog.Logger
	token string

	mu     sync.Mutex
	ctl    *share.Control // serves requests; nil while closed
	srv    *http.Server
	url    string
	loop   *engine.Loop
	size   image.Point
	watch  string
	unhook func() // ends counting the loop's events
	// refused are the latest pushes answered with an error (a producer's
	// bad input), beside the Control's own problems (watched files).
	refused []share.Problem

	// events counts the loop's queue events (started, underrun, ended):
	// the window's rows look again only when it moved.
	events atomic.Uint64
}

func newControlAPI(log *slog.Logger) (*controlAPI, error) {
	tok, err := share.NewControlToken()
	if err != nil {
		return nil, err
	}
	return &controlAPI{log: log, token: tok}, nil
}

// listen serves the API on addr ("" = 127.0.0.1:0), replacing the
// listener (and so the URL) it had.
func (a *controlAPI) listen(addr string) error {
	if addr == "" {
		addr = share.DefaultControlAddr
	}
	srv, url, err := share.ServeControl(addr, a.token, http.HandlerFunc(a.serveHTTP), a.log)
	if err != nil {
		return err
	}
	a.mu.Lock()
	old := a.srv
	a.srv, a.url = srv, url
	a.mu.Unlock()
	go shutdown(old) // its requests in flight may take a while; not on the UI thread
	return nil
}

func shutdown(srv *http.Server) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close()
	}
}

func (a *controlAPI) serveHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	ctl := a.ctl
	a.mu.Unlock()
	if ctl == nil {
		http.Error(w, "control API: not on a loop (starting or closing)", http.StatusServiceUnavailable)
		return
	}
	if r.Method == http.MethodGet {
		ctl.Handler().ServeHTTP(w, r) // GET live hijacks the connection: not wrapped
		return
	}
	rec := &errorRecorder{ResponseWriter: w}
	ctl.Handler().ServeHTTP(rec, r)
	if rec.code >= 400 && rec.code != http.StatusNotFound { // 404: a wrong token or ID, not input
		src := r.Method + " " + path.Base(r.URL.Path)
		if name := r.URL.Query().Get("name"); name != "" {
			src += " " + strconv.Quote(name)
		}
		a.refuse(share.Problem{Time: time.Now(), Source: src, Err: fmt.Sprintf("%d %s", rec.code, rec.message())})
	}
}

// maxRefused bounds the refused pushes kept.
const maxRefused = 64

func (a *controlAPI) refuse(p share.Problem) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.refused) == maxRefused {
		a.refused = append(a.refused[:0], a.refused[1:]...)
	}
	a.refused = append(a.refused, p)
}

// errorRecorder notes a response's status and the start of an error's
// body (the API answers {"error": "..."}).
type errorRecorder struct {
	http.ResponseWriter
	code int
	body []byte
}

func (e *errorRecorder) WriteHeader(code int) {
	e.code = code
	e.ResponseWriter.WriteHeader(code)
}

func (e *errorRecorder) Write(b []byte) (int, error) {
	if e.code == 0 {
		e.code = http.StatusOK
	}
	if e.code >= 400 && len(e.body) < 512 {
		e.body = append(e.body, b[:min(len(b), 512-len(e.body))]...)
	}
	return e.ResponseWriter.Write(b)
}

func (e *errorRecorder) message() string {
	var v struct{ Error string }
	if json.Unmarshal(e.body, &v) == nil && v.Error != "" {
		return v.Error
	}
	return strings.TrimSpace(string(e.body))
}

// attach puts the API on loop, whose output is f and whose segments go
// in store. The idle clip a producer set comes along when the size is
// unchanged (it was scaled to it). If the watched folder cannot be
// watched any more, the API runs without it and the error says so.
func (a *controlAPI) attach(loop *engine.Loop, f outFormat, store *engine.FrameStore) error {
	size := image.Pt(f.W, f.H)
	a.mu.Lock()
	watch, old, oldLoop, oldSize, unhook := a.watch, a.ctl, a.loop, a.size, a.unhook
	a.mu.Unlock()
	opt := share.ControlOptions{Rate: f.Rate, Size: size, Store: store, WatchDir: watch, Token: a.token, Log: a.log}
	ctl, err := share.NewControl(loop, opt)
	var watchErr error
	if err != nil && watch != "" { // the folder went away: serve the API without it
		watchErr, opt.WatchDir = err, ""
		ctl, err = share.NewControl(loop, opt)
	}
	if err != nil {
		return err
	}
	if oldLoop != nil {
		if idle := oldLoop.IdleClip(); idle != nil && oldSize == size {
			_ = loop.SetIdle(idle) // a loaded, not live, segment: never refused
		}
	}
	hook := loop.OnEvent(func(engine.Event) { a.events.Add(1) })
	a.mu.Lock()
	a.ctl, a.loop, a.size, a.unhook = ctl, loop, size, hook
	a.mu.Unlock()
	a.events.Add(1)
	if unhook != nil {
		unhook()
	}
	if old != nil {
		go old.Close() // stops its watcher, which may be loading a file
	}
	return watchErr
}

// setWatch watches dir ("" stops): what appears there is queued.
func (a *controlAPI) setWatch(dir string) error {
	a.mu.Lock()
	ctl := a.ctl
	a.mu.Unlock()
	if ctl != nil {
		if err := ctl.Watch(dir); err != nil {
			return err
		}
	}
	a.mu.Lock()
	a.watch = dir
	a.mu.Unlock()
	return nil
}

// snapshot is what the window shows of the API.
func (a *controlAPI) snapshot() (ctl *share.Control, url, watch string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctl, a.url, a.watch
}

// currentLoop is the loop the API is on.
func (a *controlAPI) currentLoop() *engine.Loop {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.loop
}

// problems counts the inputs that could not be queued (refused pushes and
// watched files) and returns the latest.
func (a *controlAPI) problems() (n int, latest share.Problem) {
	a.mu.Lock()
	ctl := a.ctl
	ps := append([]share.Problem(nil), a.refused...)
	a.mu.Unlock()
	if ctl != nil {
		ps = append(ps, ctl.Problems()...)
	}
	for _, p := range ps {
		if !p.Time.Before(latest.Time) {
			latest = p
		}
	}
	return len(ps), latest
}

// close stops serving and watching; what producers queued stays queued.
func (a *controlAPI) close() {
	a.mu.Lock()
	ctl, srv, unhook := a.ctl, a.srv, a.unhook
	a.ctl, a.srv, a.unhook = nil, nil, nil
	a.mu.Unlock()
	if unhook != nil {
		unhook()
	}
	shutdown(srv)
	if ctl != nil {
		_ = ctl.Close()
	}
}

// controlSection is "Control API" on the stream side: the URL producers
// push to, with Copy, the watched folder, and the latest input that could
// not be queued (a red line, never a dialog).
type controlSection struct {
	s       *streamPanel
	url     *widget.Label
	copyURL *widget.Button
	watch   *widget.Label
	problem *widget.Label
	content fyne.CanvasObject

	shownURL, shownWatch string
	problems             int       // how many were shown
	lastProblem          time.Time // the latest shown
}

func newControlSection(s *streamPanel) *controlSection {
	c := &controlSection{s: s}
	c.url = widget.NewLabel("")
	c.url.Truncation = fyne.TextTruncateEllipsis
	c.url.Selectable = true
	c.copyURL = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), nil)
	c.copyURL.OnTapped = func() { s.copy(c.copyURL, "Copy", c.url.Text) }
	c.watch = widget.NewLabel("")
	c.watch.Truncation = fyne.TextTruncateEllipsis
	c.watch.Hide()
	c.problem = widget.NewLabel("")
	c.problem.Importance = widget.DangerImportance
	c.problem.Wrapping = fyne.TextWrapWord
	c.problem.Hide()
	title := widget.NewLabelWithStyle("Control API", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.content = container.NewVBox(container.NewBorder(nil, nil, title, c.copyURL, c.url), c.watch, c.problem)
	return c
}

// showError puts a failure of the API itself (its address is taken, the
// folder is gone) on the red line.
func (c *controlSection) showError(err error) {
	c.problem.SetText(err.Error())
	c.problem.Show()
}

// refresh shows the API's URL, the watched folder and the latest problem;
// nothing redraws unless it changed.
func (c *controlSection) refresh(a *controlAPI) {
	_, url, watch := a.snapshot()
	if url != c.shownURL {
		c.shownURL = url
		c.url.SetText(url)
	}
	if watch != c.shownWatch {
		c.shownWatch = watch
		c.watch.SetText("Watching " + watch)
		c.watch.Hidden = watch == ""
		c.watch.Refresh()
	}
	n, p := a.problems()
	if n == 0 || n == c.problems && p.Time.Equal(c.lastProblem) {
		return
	}
	c.problems, c.lastProblem = n, p.Time
	text := fmt.Sprintf("Not queued: %s: %s", p.Source, p.Err)
	if n > 1 {
		text += fmt.Sprintf(" (%d problems; the log has them all)", n)
	}
	c.problem.SetText(text)
	c.problem.Show()
}
