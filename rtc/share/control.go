package share

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"segcast/engine"
)

// Control API limits. Uploads are spooled to disk (ffmpeg and zip need a
// file), so their cap is a disk cap; memory is the store's budget.
const (
	DefaultControlAddr = "127.0.0.1:0"
	DefaultMaxUpload   = 4 << 30
	maxUploads         = 4                // loads at once; more get 503
	maxLiveConns       = 8                // live producers at once
	bodyIdle           = 30 * time.Second // an upload that sends nothing this long is dropped
	loadTimeout        = 15 * time.Minute // one upload and its load
	maxOrigins         = 1024             // remembered origins before pruning
	maxProblems        = 64               // remembered watch errors
)

// Origin says where a queue entry came from.
type Origin string

const (
	OriginAPI    Origin = "api"    // POST segments
	OriginLive   Origin = "live"   // GET live
	OriginWatch  Origin = "watch"  // a file that appeared in the watched folder
	OriginWindow Origin = "window" // Control.Push from the window
)

// ControlOptions configures the control API.
type ControlOptions struct {
	// Addr is "host:port" to listen on; "" = 127.0.0.1:0 (loopback, any
	// free port). An unspecified host (0.0.0.0) is named by LANAddress().
	Addr string
	// Rate and Size are the loop's output: inputs are scaled to Size, and
	// Rate is the frame rate of inputs that don't say.
	Rate engine.Rate
	Size image.Point
	// Store holds what is loaded and pushed (nil: a store of its own with
	// engine.DefaultBudget); over its budget a push is refused with 413.
	Store *engine.FrameStore
	// MaxUpload caps one request's body and an archive's unpacked files,
	// bytes (0: DefaultMaxUpload).
	MaxUpload int64
	// TempDir holds uploads while they load ("": os.TempDir()).
	TempDir string
	// WatchDir, when set, is watched: see Control.Watch.
	WatchDir string
	// Token is the API's token ("": 128 random bits). A caller that
	// replaces one Control by another (the window, on a new loop) keeps
	// its URL by passing the same token; it must be at least 32 hex digits.
	Token string
	Log   *slog.Logger // nil = discard
}

// Problem is an input that could not be queued (a watched file), for the
// window to show; the log has them too.
type Problem struct {
	Time   time.Time
	Source string // the file or folder
	Err    string
}

// ControlEntry is a queue entry with where it came from. Entry.Live is
// also set for a POSTed Y4M (decoded into a live segment as it arrived);
// Origin tells producers apart.
type ControlEntry struct {
	engine.Entry
	Origin Origin
	// StartedUnix is when its first frame went on air (zero before).
	StartedUnix time.Time
}

// Control is the control API: producers push segments into the on-air
// queue of a running loop, set its idle clip and cut to it, over HTTP and
// a WebSocket, under a 128-bit token of its own (the viewers' token gives
// no control). `segcast serve` and the window share one Control per loop.
type Control struct {
	loop    *engine.Loop
	opt     ControlOptions
	log     *slog.Logger
	token   string
	handler http.Handler
	uploads chan struct{} // slots for loads in progress
	lives   chan struct{} // slots for live producers
	done    context.Context
	stop    context.CancelFunc // ends live producers at Close

	mu       sync.Mutex
	origins  map[engine.EntryID]Origin
	problems []Problem
	watch    *watcher
	srv      *http.Server
	baseURL  string
	closed   bool
}

// NewControl prepares the control API for loop; Start listens. Handler
// serves it without listening (the window may mount it elsewhere).
func NewControl(loop *engine.Loop, opt ControlOptions) (*Control, error) {
	if loop == nil {
		return nil, errors.New("control API: nil loop")
	}
	if opt.Addr == "" {
		opt.Addr = DefaultControlAddr
	}
	if _, _, err := net.SplitHostPort(opt.Addr); err != nil {
		return nil, fmt.Errorf("control API: address %q: %w", opt.Addr, err)
	}
	if err := opt.Rate.Valid(); err != nil {
		return nil, fmt.Errorf("control API: output rate: %w", err)
	}
	if opt.Size.X <= 0 || opt.Size.Y <= 0 {
		return nil, fmt.Errorf("control API: output size %dx%d: must be positive", opt.Size.X, opt.Size.Y)
	}
	if opt.MaxUpload < 0 {
		return nil, fmt.Errorf("control API: MaxUpload %d is negative", opt.MaxUpload)
	}
	if opt.MaxUpload == 0 {
		opt.MaxUpload = DefaultMaxUpload
	}
	if opt.Store == nil {
		opt.Store = engine.NewFrameStore(engine.DefaultBudget())
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	token, err := controlToken(opt.Token)
	if err != nil {
		return nil, err
	}
	done, stop := context.WithCancel(context.Background())
	c := &Control{
		loop: loop, opt: opt, log: log, token: token, done: done, stop: stop,
		uploads: make(chan struct{}, maxUploads),
		lives:   make(chan struct{}, maxLiveConns),
		origins: map[engine.EntryID]Origin{},
	}
	c.handler = c.routes()
	if opt.WatchDir != "" {
		if err := c.Watch(opt.WatchDir); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// NewControlToken is a fresh 128-bit token for ControlOptions.Token.
func NewControlToken() (string, error) { return controlToken("") }

// controlToken checks a given token, or makes one.
func controlToken(given string) (string, error) {
	if given != "" {
		if _, err := hex.DecodeString(given); err != nil || len(given) < 32 {
			return "", errors.New("control API: token must be at least 32 hex digits")
		}
		return given, nil
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return "", fmt.Errorf("control API: token: %w", err)
	}
	return hex.EncodeToString(tok[:]), nil
}

// Start listens on the configured address and serves in the background.
func (c *Control) Start() error {
	srv, url, err := ServeControl(c.opt.Addr, c.token, c.Handler(), c.log)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = srv.Close()
		return errors.New("control API: closed")
	}
	c.srv, c.baseURL = srv, url
	c.mu.Unlock()
	return nil
}

// controlRecvBuffer bounds the kernel's receive buffer on each control
// connection (Linux grows it to tcp_rmem's maximum, 32 MB here): a
// producer's write then completes about when the server has read it, so
// an upload's last byte leaves no backlog of frames still to decode
// (BenchmarkPushToAir), and a live producer far ahead is held back by
// its socket rather than by megabytes queued in the kernel. 1 MB still
// covers a gigabit LAN's bandwidth-delay product several times over.
const controlRecvBuffer = 1 << 20

// boundRecvBuffer is the control server's ConnState hook applying
// controlRecvBuffer to each new connection.
func boundRecvBuffer(conn net.Conn, st http.ConnState) {
	if tc, ok := conn.(*net.TCPConn); ok && st == http.StateNew {
		_ = tc.SetReadBuffer(controlRecvBuffer)
	}
}

// ServeControl listens on addr and serves h in the background as a
// control API with token: the server (Close or Shutdown it to stop) and
// the API's base URL, on the LAN address when addr names no host. The
// window serves its own handler in front of a Control this way.
func ServeControl(addr, token string, h http.Handler, log *slog.Logger) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("control API: listen %s: %w", addr, err)
	}
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = LANAddress()
	}
	srv := &http.Server{
		Handler: h,
		// No overall read or write timeout: uploads are large and live
		// sockets long. Bodies must keep moving (bodyIdle) and loads end
		// at loadTimeout; live sockets have their own timeouts.
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnState:         boundRecvBuffer,
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)) + "/api/" + token + "/"
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("control API stopped", "err", err)
		}
	}()
	log.Info("control API listening", "addr", ln.Addr().String())
	return srv, url, nil
}

// URL is the control API's base URL, token included ("" before Start).
func (c *Control) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.baseURL
}

// Close stops serving and watching. Live producers are disconnected;
// what they pushed stays queued.
func (c *Control) Close() error {
	c.mu.Lock()
	c.closed = true
	srv, w := c.srv, c.watch
	c.watch = nil
	c.mu.Unlock()
	if w != nil {
		w.stop()
	}
	c.stop()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx) // hijacked live sockets are not waited for
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	return err
}

// Handler serves the API under /api/<token>/; anything else is 404.
func (c *Control) Handler() http.Handler { return http.HandlerFunc(c.serveHTTP) }

func (c *Control) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	rest, ok := c.strip(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = rest, ""
	c.handler.ServeHTTP(w, r2)
}

// strip checks the token (in constant time) and returns the rest of the
// path from its "/" on.
func (c *Control) strip(path string) (string, bool) {
	p, ok := strings.CutPrefix(path, "/api/")
	if !ok {
		return "", false
	}
	tok, rest, _ := strings.Cut(p, "/")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(c.token)) != 1 {
		return "", false
	}
	return "/" + rest, true
}

func (c *Control) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.serveInfo)
	mux.HandleFunc("GET /segments", c.serveList)
	mux.HandleFunc("POST /segments", c.servePush)
	mux.HandleFunc("GET /segments/{id}", c.serveEntry)
	mux.HandleFunc("DELETE /segments/{id}", c.serveCancel)
	mux.HandleFunc("GET /idle", c.serveIdle)
	mux.HandleFunc("PUT /idle", c.serveSetIdle)
	mux.HandleFunc("DELETE /idle", c.serveClearIdle)
	mux.HandleFunc("POST /interrupt", c.serveInterrupt)
	mux.HandleFunc("GET /live", c.serveLive)
	return mux
}

// entryJSON is an entry as the API shows it.
type entryJSON struct {
	ID             engine.EntryID `json:"id"`
	Name           string         `json:"name"`
	Origin         Origin         `json:"origin,omitempty"`
	Mode           string         `json:"mode"`
	State          string         `json:"state"`
	Frames         int            `json:"frames"`
	DurationMS     int64          `json:"duration_ms"`
	StartedMediaMS *int64         `json:"started_media_ms"`
	StartedUnixMS  *int64         `json:"started_unix_ms"`
	Underruns      int            `json:"underruns"`
	UnderrunMS     int64          `json:"underrun_ms"`
	Error          string         `json:"error,omitempty"`
}

func (c *Control) toJSON(e ControlEntry) entryJSON {
	j := entryJSON{ID: e.ID, Name: e.Name, Origin: e.Origin, Mode: e.Mode.String(), State: e.State.String(),
		Frames: e.Frames, DurationMS: e.Duration.Milliseconds(), Underruns: e.Underruns,
		UnderrunMS: e.UnderrunTime.Milliseconds(), Error: e.Err}
	if e.Started {
		media, unix := e.StartedMediaNS/1e6, e.StartedUnix.UnixMilli()
		j.StartedMediaMS, j.StartedUnixMS = &media, &unix
	}
	return j
}

// unixAt is the wall-clock time of a deadline on the loop's clock.
func (c *Control) unixAt(deadline time.Duration) time.Time {
	return time.Now().Add(deadline - c.loop.Clock().Now())
}

func (c *Control) withOrigin(e engine.Entry) ControlEntry {
	c.mu.Lock()
	o := c.origins[e.ID]
	c.mu.Unlock()
	ce := ControlEntry{Entry: e, Origin: o}
	if e.Started {
		ce.StartedUnix = c.unixAt(e.StartedDeadline)
	}
	return ce
}

// Entries lists the loop's queue (finished, playing, queued) with where
// each entry came from: the window's rows.
func (c *Control) Entries() []ControlEntry {
	es := c.loop.Entries()
	out := make([]ControlEntry, len(es))
	for i, e := range es {
		out[i] = c.withOrigin(e)
	}
	return out
}

// Problems lists the latest inputs that could not be queued (at most 64).
func (c *Control) Problems() []Problem {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Problem(nil), c.problems...)
}

func (c *Control) problem(source string, err error) {
	c.log.Error("could not queue", "source", source, "err", err)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.problems) == maxProblems {
		c.problems = append(c.problems[:0], c.problems[1:]...)
	}
	c.problems = append(c.problems, Problem{Time: time.Now(), Source: source, Err: err.Error()})
}

// enqueue hands seg to the loop and remembers its origin.
func (c *Control) enqueue(seg *engine.Segment, opt engine.EnqueueOptions, o Origin) (engine.EntryID, error) {
	id, err := c.loop.Enqueue(seg, opt)
	if err != nil {
		seg.Release()
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.origins[id] = o
	if len(c.origins) > maxOrigins { // forget what the loop forgot
		known := map[engine.EntryID]bool{}
		for _, e := range c.loop.Entries() {
			known[e.ID] = true
		}
		for k := range c.origins {
			if !known[k] {
				delete(c.origins, k)
			}
		}
	}
	return id, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// statusError is an error with the HTTP status it answers.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func withStatus(code int, format string, a ...any) error {
	return &statusError{code, fmt.Errorf(format, a...)}
}

// statusOf maps an error to its status: over the budget or a size limit
// 413, a status the error carries, else 400 (bad media).
func statusOf(err error) int {
	var se *statusError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, new(*engine.BudgetError)), errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &se):
		return se.code
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

func writeError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func (c *Control) serveInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"width": c.opt.Size.X, "height": c.opt.Size.Y, "fps": c.opt.Rate.String(),
		"budget_bytes": c.opt.Store.Budget(), "used_bytes": c.opt.Store.Used(),
	})
}

func (c *Control) serveList(w http.ResponseWriter, r *http.Request) {
	es := c.Entries()
	out := make([]entryJSON, len(es))
	for i, e := range es {
		out[i] = c.toJSON(e)
	}
	writeJSON(w, http.StatusOK, out)
}

// entryID reads the {id} path value; false has answered 404.
func entryID(w http.ResponseWriter, r *http.Request) (engine.EntryID, bool) {
	n, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || n == 0 {
		http.NotFound(w, r)
		return 0, false
	}
	return engine.EntryID(n), true
}

func (c *Control) serveEntry(w http.ResponseWriter, r *http.Request) {
	id, ok := entryID(w, r)
	if !ok {
		return
	}
	e, ok := c.loop.Entry(id)
	if !ok {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, c.toJSON(c.withOrigin(e)))
}

func (c *Control) serveCancel(w http.ResponseWriter, r *http.Request) {
	id, ok := entryID(w, r)
	if !ok {
		return
	}
	switch err := c.loop.Cancel(id); {
	case errors.Is(err, engine.ErrNoEntry):
		http.NotFound(w, r)
	case errors.Is(err, engine.ErrFinished):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	case err != nil:
		writeError(w, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (c *Control) serveInterrupt(w http.ResponseWriter, r *http.Request) {
	clear := false
	switch v := r.URL.Query().Get("clear"); v {
	case "", "0", "false":
	case "1", "true":
		clear = true
	default:
		writeError(w, withStatus(http.StatusBadRequest, "clear=%q: want 1 or 0", v))
		return
	}
	c.loop.Interrupt(clear)
	w.WriteHeader(http.StatusNoContent)
}

func (c *Control) serveIdle(w http.ResponseWriter, r *http.Request) {
	seg := c.loop.IdleClip()
	if seg == nil {
		writeJSON(w, http.StatusOK, map[string]any{"builtin": true})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"builtin": false, "name": seg.Name,
		"frames": seg.Frames.Len(), "duration_ms": seg.Duration().Milliseconds()})
}

func (c *Control) serveClearIdle(w http.ResponseWriter, r *http.Request) {
	if err := c.loop.SetIdle(nil); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// acquire takes one of slots or answers 503; the caller releases it.
func acquire(w http.ResponseWriter, slots chan struct{}, what string) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
		writeError(w, withStatus(http.StatusServiceUnavailable, "already %d %s in progress; retry", cap(slots), what))
		return false
	}
}

func (c *Control) serveSetIdle(w http.ResponseWriter, r *http.Request) {
	if !acquire(w, c.uploads, "uploads") {
		return
	}
	defer func() { <-c.uploads }()
	ctx, cancel := context.WithTimeout(r.Context(), loadTimeout)
	defer cancel()
	seg, err := c.readUpload(ctx, w, r, false)
	if err != nil {
		writeError(w, err)
		return
	}
	if name := r.URL.Query().Get("name"); name != "" {
		seg.Name = cleanName(name)
	}
	if err := c.loop.SetIdle(seg); err != nil {
		seg.Release()
		writeError(w, err)
		return
	}
	c.log.Info("idle clip set", "name", seg.Name)
	writeJSON(w, http.StatusOK, map[string]any{"builtin": false, "name": seg.Name,
		"frames": seg.Frames.Len(), "duration_ms": seg.Duration().Milliseconds()})
}

func (c *Control) servePush(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	mode, err := engine.ParseMode(q.Get("mode"))
	if err != nil {
		writeError(w, err)
		return
	}
	if !acquire(w, c.uploads, "uploads") {
		return
	}
	defer func() { <-c.uploads }()
	ctx, cancel := context.WithTimeout(r.Context(), loadTimeout)
	defer cancel()
	seg, err := c.readUpload(ctx, w, r, true)
	if err != nil {
		writeError(w, err)
		return
	}
	if name := q.Get("name"); name != "" {
		seg.Name = cleanName(name)
	}
	id, err := c.enqueue(seg, engine.EnqueueOptions{Mode: mode}, OriginAPI)
	if err != nil {
		writeError(w, err)
		return
	}
	e, _ := c.loop.Entry(id)
	c.log.Info("segment pushed", "id", id, "name", e.Name, "mode", mode, "frames", e.Frames)
	w.Header().Set("Location", "segments/"+formatID(id))
	writeJSON(w, http.StatusCreated, c.toJSON(c.withOrigin(e)))
}

// formatID writes an entry ID as the API's paths do.
func formatID(id engine.EntryID) string { return strconv.FormatUint(uint64(id), 10) }

// cleanName keeps a name printable and short.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '\uFFFD' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}
