// Package share is the HTTP side of streaming: it serves the viewer page
// and a WHEP endpoint (RFC 9725) under a random token on the LAN, draws
// the link's QR code, and runs `segcast serve`. It signals through an
// rtc.Session and never touches media; it must not import ui or
// rtc/measure.
package share

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"segcast/assets"
	"segcast/rtc"
)

// Share server limits. The body limit matches DecodeSignal's: an SDP offer
// from a browser is a few KiB.
const (
	DefaultSharePort  = 8787
	DefaultMaxViewers = 16
	maxWHEPBody       = 64 << 10
	// answerTimeout bounds one WHEP answer (ICE gathering included).
	answerTimeout = 15 * time.Second
)

// Options configures the LAN share server.
type Options struct {
	// Addr is "host:port" to listen on. Empty means ":8787" (every
	// interface), with URLs naming LANAddress().
	Addr string
	// MaxViewers caps the viewers joined through this server (default 16).
	MaxViewers int
	Log        *slog.Logger // nil = discard
}

// answerer is the part of *rtc.Session the share server uses: signalling and
// the viewers, nothing of the media path.
type answerer interface {
	AnswerSDP(ctx context.Context, offerSDP string) (*rtc.Viewer, string, error)
	CloseViewer(id string) error
	Viewer(id string) (rtc.ViewerInfo, bool)
}

// Server serves the viewer page and a WHEP endpoint (RFC 9725) on the
// LAN. Every path lives under a random 128-bit token, so only someone who
// got the URL (the QR code) can view.
type Server struct {
	sess  answerer
	opt   Options
	log   *slog.Logger
	token string

	joins joinLimiter // WHEP POSTs per source address

	// The viewers this server made, counted against the cap from the
	// reservation to their end. An ID leaves viewers only by DELETE, by
	// Close, or when the session no longer has it live (it closed or
	// failed by itself); a session viewer never comes back, so that
	// check is safe whenever it runs.
	mu      sync.Mutex
	viewers map[string]bool
	busy    int            // slots held by answers in progress and viewers a DELETE is ending
	work    sync.WaitGroup // the requests holding those slots; Close waits for them
	closed  bool           // after Close nothing new is made

	srv     *http.Server
	ln      net.Listener
	baseURL string // http://host:port/<token>/
}

// New prepares a share server for sess; Start listens.
func New(sess *rtc.Session, opt Options) (*Server, error) {
	if sess == nil {
		return nil, errors.New("share server: nil session")
	}
	return newServer(sess, opt)
}

func newServer(sess answerer, opt Options) (*Server, error) {
	if opt.Addr == "" {
		opt.Addr = ":" + strconv.Itoa(DefaultSharePort)
	}
	if _, _, err := net.SplitHostPort(opt.Addr); err != nil {
		return nil, fmt.Errorf("share server: address %q: %w", opt.Addr, err)
	}
	if opt.MaxViewers < 0 {
		return nil, fmt.Errorf("share server: MaxViewers %d is negative", opt.MaxViewers)
	}
	if opt.MaxViewers == 0 {
		opt.MaxViewers = DefaultMaxViewers
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("share server: token: %w", err)
	}
	s := &Server{
		sess:    sess,
		opt:     opt,
		log:     log,
		token:   hex.EncodeToString(tok[:]),
		viewers: map[string]bool{},
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      answerTimeout + 5*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Start listens on the configured address and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opt.Addr)
	if err != nil {
		return fmt.Errorf("share server: listen %s: %w", s.opt.Addr, err)
	}
	host, _, _ := net.SplitHostPort(s.opt.Addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = LANAddress()
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s.mu.Lock()
	s.ln = ln
	s.baseURL = "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/" + s.token + "/"
	s.mu.Unlock()
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("share server stopped", "err", err)
		}
	}()
	s.log.Info("sharing on LAN", "addr", ln.Addr().String())
	return nil
}

// PageURL is the viewer page's URL, token included ("" before Start).
func (s *Server) PageURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// WHEPURL is the WHEP endpoint's URL, token included ("" before Start).
func (s *Server) WHEPURL() string {
	if u := s.PageURL(); u != "" {
		return u + "whep"
	}
	return ""
}

// LoopbackOnly reports whether the page's URL names a loopback address:
// then only this machine can open it (a phone scanning the QR code
// cannot). False before Start.
func (s *Server) LoopbackOnly() bool {
	u, err := url.Parse(s.PageURL())
	if err != nil || u.Host == "" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
}

// Close stops the server and ends every viewer that joined through it:
// when it returns, none is left, answers that were in progress included.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	s.mu.Lock()
	s.closed = true
	ids := make([]string, 0, len(s.viewers))
	for id := range s.viewers {
		ids = append(ids, id)
	}
	clear(s.viewers)
	s.mu.Unlock()
	for _, id := range ids {
		_ = s.sess.CloseViewer(id) // it may have gone already
	}
	s.work.Wait() // answers finishing now end their own viewers
	return err
}

// Handler is the server's HTTP handler (page, WHEP, DELETE), for tests and
// for mounting elsewhere.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	rest, ok := s.strip(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case rest == "":
		s.servePage(w, r)
	case rest == "whep":
		s.serveWHEP(w, r)
	case strings.HasPrefix(rest, "whep/"):
		s.serveResource(w, r, strings.TrimPrefix(rest, "whep/"))
	default:
		http.NotFound(w, r)
	}
}

// strip checks the token (in constant time) and returns the path after
// "/<token>/". "/<token>" alone is taken as the page.
func (s *Server) strip(path string) (string, bool) {
	p, ok := strings.CutPrefix(path, "/")
	if !ok {
		return "", false
	}
	tok, rest, _ := strings.Cut(p, "/")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		return "", false
	}
	return rest, true
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		// The page resolves "whep" against its own URL: it must end in "/".
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(assets.ViewerPageWHEP("whep"))
}

// allowCORS lets a viewer page opened elsewhere (a saved file with
// ?whep=URL) use the endpoint; the token in the URL is the credential.
func allowCORS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Expose-Headers", "Location")
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

func (s *Server) serveWHEP(w http.ResponseWriter, r *http.Request) {
	allowCORS(w)
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Accept-Post", "application/sdp")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		methodNotAllowed(w, "POST, OPTIONS")
		return
	}
	if ok, retry := s.joins.allow(r.RemoteAddr, time.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		http.Error(w, fmt.Sprintf("WHEP: too many joins from this address; at most %d at once, then one per %v", joinBurst, joinEvery),
			http.StatusTooManyRequests)
		return
	}
	if ct := r.Header.Get("Content-Type"); !isSDP(ct) {
		http.Error(w, fmt.Sprintf("WHEP offer: Content-Type %q, want application/sdp", ct), http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWHEPBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("WHEP offer: body over %d bytes", maxWHEPBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "WHEP offer: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch err := s.reserve(); {
	case errors.Is(err, errStopped):
		http.Error(w, "WHEP: "+err.Error(), http.StatusServiceUnavailable)
		return
	case err != nil:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "WHEP: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer s.work.Done() // after the viewer is tracked or ended
	ctx, cancel := context.WithTimeout(r.Context(), answerTimeout)
	defer cancel()
	v, answer, err := s.sess.AnswerSDP(ctx, string(body))
	if err != nil {
		_ = s.release("")
		http.Error(w, "WHEP offer: "+err.Error(), http.StatusBadRequest)
		return
	}
	id := v.ID()
	if !s.release(id) {
		_ = v.Close()
		http.Error(w, "WHEP: "+errStopped.Error(), http.StatusServiceUnavailable)
		return
	}
	// The answer goes straight back: the peer has everything it needs.
	v.StartConnectDeadline()
	s.log.Info("viewer joined over WHEP", "viewer", id, "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", r.URL.Path+"/"+url.PathEscape(id))
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, id string) {
	allowCORS(w)
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodDelete:
	default:
		methodNotAllowed(w, "DELETE, OPTIONS")
		return
	}
	s.mu.Lock()
	known := s.viewers[id]
	if known {
		// Its slot stays taken until the viewer has ended.
		delete(s.viewers, id)
		s.busy++
		s.work.Add(1)
	}
	s.mu.Unlock()
	if !known {
		http.NotFound(w, r)
		return
	}
	if err := s.sess.CloseViewer(id); err != nil {
		s.log.Debug("closing viewer", "viewer", id, "err", err)
	}
	s.mu.Lock()
	s.busy--
	s.mu.Unlock()
	s.work.Done()
	s.log.Info("viewer left over WHEP", "viewer", id)
	w.WriteHeader(http.StatusNoContent)
}

// isSDP reports whether a Content-Type is application/sdp (any case,
// parameters allowed).
func isSDP(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/sdp"
}

var errStopped = errors.New("the share has stopped")

// reserve takes a viewer slot for an answer in progress, first forgetting
// viewers that have closed or failed on their own. On success the caller
// must call release, then s.work.Done.
func (s *Server) reserve() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStopped
	}
	for id := range s.viewers {
		if vi, ok := s.sess.Viewer(id); !ok || !vi.State.Live() {
			delete(s.viewers, id)
		}
	}
	if len(s.viewers)+s.busy >= s.opt.MaxViewers {
		return fmt.Errorf("already %d viewers", s.opt.MaxViewers)
	}
	s.busy++
	s.work.Add(1)
	return nil
}

// release ends a reservation; id is the viewer it became, or "". It
// reports false when the server closed meanwhile: the caller ends the
// viewer, which Close could not see.
func (s *Server) release(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy--
	if s.closed {
		return false
	}
	if id != "" {
		s.viewers[id] = true
	}
	return true
}
