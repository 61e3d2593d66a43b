package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/tomnomnom/linkheader"

	"segcast/rtc"
)

// WHIP (RFC 9725): POST an SDP offer to the endpoint, get 201 Created
// with the answer and the session's URL in Location; DELETE that URL to
// end. The endpoint may name STUN/TURN servers in Link headers
// (rel="ice-server"), in the 201 and, for clients that gather before they
// POST as this one does, in the answer to an OPTIONS request.

// maxAnswer bounds the SDP answer read from the endpoint.
const maxAnswer = 64 << 10

// disconnectedGrace is how long ICE may stay disconnected before the
// session is published again.
const disconnectedGrace = 3 * time.Second

// maxErrorBody is how much of an error response is quoted.
const maxErrorBody = 200

// WHIPOptions says where to publish.
type WHIPOptions struct {
	URL    string // the WHIP endpoint (http:// or https://)
	Bearer string // sent as "Authorization: Bearer"; a secret, never logged
	// ICEServers from the settings; the endpoint's Link headers add theirs.
	ICEServers []rtc.ICEServer
	Log        *slog.Logger
	// ConnectTimeout bounds one connection attempt: the HTTP exchange and
	// ICE/DTLS (DefaultConnectTimeout when zero).
	ConnectTimeout time.Duration
	// Client makes the HTTP requests (http.DefaultClient's transport when
	// nil; ConnectTimeout bounds each exchange either way).
	Client *http.Client
}

func (o *WHIPOptions) check() error {
	u, err := url.Parse(o.URL)
	if err != nil {
		return fmt.Errorf("--whip %q: %v", o.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("--whip %q: want an http:// or https:// URL", o.URL)
	}
	if u.Host == "" {
		return fmt.Errorf("--whip %q: no host", o.URL)
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	return nil
}

// WHIP publishes a session's tracks to a WHIP endpoint, and publishes
// again (a new session, with backoff) when the connection fails.
type WHIP struct {
	opt      WHIPOptions
	sess     *rtc.Session
	log      *slog.Logger
	status   status
	lost     chan struct{} // the current PeerConnection failed
	cancel   context.CancelFunc
	done     chan struct{}
	unexpose func() // ends the session's count of this consumer

	mu       sync.Mutex
	pc       *webrtc.PeerConnection
	resource string // the session's URL (Location)
	// linked are the ICE servers the endpoint named in Link headers.
	linked []webrtc.ICEServer
}

// PublishWHIP publishes to the endpoint; it returns a *ConnectError if the
// first connection fails. Close it before the session.
func PublishWHIP(ctx context.Context, sess *rtc.Session, opt WHIPOptions) (*WHIP, error) {
	if err := opt.check(); err != nil {
		return nil, &ConnectError{Target: opt.URL, Err: err}
	}
	w := &WHIP{opt: opt, sess: sess, log: discardLog(opt.Log), lost: make(chan struct{}, 1), done: make(chan struct{})}
	w.status.st = Status{Kind: "whip", Target: opt.URL, State: StateConnecting, Since: time.Now()}
	if err := w.connect(ctx); err != nil {
		w.status.set(StateClosed, err)
		return nil, &ConnectError{Target: opt.URL, Err: err}
	}
	w.unexpose = sess.AddExternal() // until Close: see PublishLiveKit
	runCtx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go w.maintain(runCtx)
	return w, nil
}

// Status is a snapshot of the connection.
func (w *WHIP) Status() Status { return w.status.get() }

// Resource is the URL of the current WHIP session (the Location).
func (w *WHIP) Resource() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.resource
}

// Close ends the WHIP session (DELETE) and stops publishing.
func (w *WHIP) Close() error {
	w.cancel()
	<-w.done
	err := w.drop()
	w.unexpose()
	w.status.set(StateClosed, nil)
	return err
}

func (w *WHIP) maintain(ctx context.Context) {
	defer close(w.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.lost:
		}
		w.log.Warn("whip: connection lost; publishing again", "endpoint", w.opt.URL)
		if err := w.drop(); err != nil {
			w.log.Warn("whip: ending the lost session", "err", err)
		}
		w.status.set(StateReconnecting, nil)
		if err := retry(ctx, w.log, "whip", w.connect, func(err error) { w.status.set(StateReconnecting, err) }); err != nil {
			return
		}
	}
}

// connect makes a PeerConnection with the session's tracks, exchanges
// offer and answer with the endpoint, and waits until media can flow.
func (w *WHIP) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, w.opt.ConnectTimeout)
	defer cancel()
	w.mu.Lock()
	linked := w.linked
	w.mu.Unlock()
	if linked == nil {
		// Gathering happens before the POST: ask for the servers first,
		// within a part of the time (an endpoint may not answer OPTIONS).
		octx, ocancel := context.WithTimeout(ctx, w.opt.ConnectTimeout/4)
		linked = w.options(octx)
		ocancel()
	}
	pc, err := w.newPeerConnection(append(iceServers(w.opt.ICEServers), linked...))
	if err != nil {
		return err
	}
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateDisconnected:
			// ICE may come back by itself; if not, publish again.
			time.AfterFunc(disconnectedGrace, func() {
				if pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
					w.pcLost(pc)
				}
			})
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			w.pcLost(pc)
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		_ = pc.Close()
		return fmt.Errorf("offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		_ = pc.Close()
		return fmt.Errorf("offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		_ = pc.Close()
		return fmt.Errorf("gathering ICE candidates: no end within %v", w.opt.ConnectTimeout)
	}
	answer, resource, links, err := w.post(ctx, pc.LocalDescription().SDP)
	if err != nil {
		_ = pc.Close()
		return err
	}
	if len(links) > 0 {
		w.mu.Lock()
		w.linked = links
		w.mu.Unlock()
	}
	end := func(err error) error {
		_ = pc.Close()
		w.delete(resource)
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return end(fmt.Errorf("the endpoint's answer: %w", err))
	}
	select {
	case <-connected:
	case <-ctx.Done():
		return end(fmt.Errorf("no connection within %v (state %s)", w.opt.ConnectTimeout, pc.ConnectionState()))
	}
	w.mu.Lock()
	w.pc, w.resource = pc, resource
	w.mu.Unlock()
	w.sess.KeyframeNow()
	w.status.set(StateConnected, nil)
	w.log.Info("whip: publishing", "endpoint", w.opt.URL, "resource", resource)
	return nil
}

// newPeerConnection makes a sendonly PeerConnection carrying the
// session's two tracks, with pion's NACK responder and RTCP reports.
func (w *WHIP) newPeerConnection(servers []webrtc.ICEServer) (*webrtc.PeerConnection, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("codecs: %w", err)
	}
	reg := &interceptor.Registry{}
	reg.Add(keyframeOnPLI{request: w.sess.RequestKeyframe})
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, fmt.Errorf("interceptors: %w", err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg))
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: servers})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	video, audio := w.sess.Tracks()
	for _, tr := range []*webrtc.TrackLocalStaticRTP{video, audio} {
		t, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			_ = pc.Close()
			return nil, fmt.Errorf("add %s track: %w", tr.Kind(), err)
		}
		go drainRTCP(t.Sender())
	}
	return pc, nil
}

// pcLost tells maintain that pc, if it is the current one, is gone (we
// close only PeerConnections that are no longer current).
func (w *WHIP) pcLost(pc *webrtc.PeerConnection) {
	w.mu.Lock()
	current := w.pc == pc
	w.mu.Unlock()
	if current {
		select {
		case w.lost <- struct{}{}:
		default:
		}
	}
}

// drainRTCP reads a sender's RTCP so the interceptors see it.
func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

// request makes one bounded request to the endpoint (or a resource).
func (w *WHIP) request(ctx context.Context, method, target, contentType string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if w.opt.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+w.opt.Bearer)
	}
	resp, err := w.opt.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s %s: no answer within %v", method, target, w.opt.ConnectTimeout)
		}
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	return resp, nil
}

// options asks the endpoint for its ICE servers (RFC 9725 lets an
// endpoint answer OPTIONS with them); any failure just means none.
func (w *WHIP) options(ctx context.Context) []webrtc.ICEServer {
	resp, err := w.request(ctx, http.MethodOptions, w.opt.URL, "", nil)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode/100 != 2 {
		return nil
	}
	return parseICELinks(resp.Header.Values("Link"))
}

// post sends the offer and returns the answer, the session's URL and
// the ICE servers in Link headers.
func (w *WHIP) post(ctx context.Context, offer string) (answer, resource string, links []webrtc.ICEServer, err error) {
	resp, err := w.request(ctx, http.MethodPost, w.opt.URL, "application/sdp", []byte(offer))
	if err != nil {
		return "", "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return "", "", nil, fmt.Errorf("POST %s: reading the answer: %w", w.opt.URL, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", "", nil, statusError(resp, body)
	}
	if len(body) > maxAnswer {
		return "", "", nil, fmt.Errorf("POST %s: the answer is over %d bytes", w.opt.URL, maxAnswer)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/sdp") {
		return "", "", nil, fmt.Errorf("POST %s: the answer is %q, want application/sdp", w.opt.URL, ct)
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", "", nil, fmt.Errorf("POST %s: 201 without a Location", w.opt.URL)
	}
	base, _ := url.Parse(w.opt.URL) // checked in check
	res, err := base.Parse(loc)
	if err != nil {
		return "", "", nil, fmt.Errorf("POST %s: Location %q: %w", w.opt.URL, loc, err)
	}
	return string(body), res.String(), parseICELinks(resp.Header.Values("Link")), nil
}

// statusError says what a refused POST means.
func statusError(resp *http.Response, body []byte) error {
	var what string
	switch c := resp.StatusCode; {
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		what = "the endpoint rejected the bearer token"
	case c == http.StatusNotFound:
		what = "no such WHIP endpoint"
	case c == http.StatusUnprocessableEntity || c == http.StatusBadRequest || c == http.StatusUnsupportedMediaType:
		what = "the endpoint rejected the offer"
	case c >= 500:
		what = "the endpoint failed"
	default:
		what = "unexpected answer"
	}
	detail := strings.Join(strings.Fields(string(body)), " ") // one line
	if len(detail) > maxErrorBody {
		detail = detail[:maxErrorBody] + "…"
	}
	if detail != "" {
		detail = ": " + detail
	}
	return fmt.Errorf("POST %s: %s (%s)%s", resp.Request.URL, what, resp.Status, detail)
}

// delete ends a WHIP session; failures are only logged (the endpoint
// times the session out anyway).
func (w *WHIP) delete(resource string) {
	ctx, cancel := context.WithTimeout(context.Background(), min(w.opt.ConnectTimeout, 5*time.Second))
	defer cancel()
	resp, err := w.request(ctx, http.MethodDelete, resource, "", nil)
	if err != nil {
		w.log.Warn("whip: end session", "err", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		w.log.Warn("whip: end session", "resource", resource, "status", resp.Status)
	}
}

// drop ends the current session, if any.
func (w *WHIP) drop() error {
	w.mu.Lock()
	pc, resource := w.pc, w.resource
	w.pc, w.resource = nil, ""
	w.mu.Unlock()
	if pc == nil {
		return nil
	}
	w.delete(resource)
	if err := pc.Close(); err != nil {
		return fmt.Errorf("whip: close: %w", err)
	}
	return nil
}

// parseICELinks reads the rel="ice-server" Link headers (RFC 9725 §4.6):
// <turn:host:port?transport=udp>; rel="ice-server"; username="u";
// credential="c". URLs may come percent-escaped.
func parseICELinks(headers []string) []webrtc.ICEServer {
	var out []webrtc.ICEServer
	for _, l := range linkheader.ParseMultiple(headers).FilterByRel("ice-server") {
		u := l.URL
		if un, err := url.PathUnescape(u); err == nil {
			u = un
		}
		scheme, _, _ := strings.Cut(u, ":")
		switch scheme {
		case "stun", "stuns", "turn", "turns":
		default:
			continue
		}
		s := webrtc.ICEServer{URLs: []string{u}, Username: l.Param("username")}
		if c := l.Param("credential"); c != "" {
			s.Credential = c
		}
		out = append(out, s)
	}
	return out
}

func iceServers(in []rtc.ICEServer) []webrtc.ICEServer {
	out := make([]webrtc.ICEServer, 0, len(in))
	for _, s := range in {
		out = append(out, webrtc.ICEServer{URLs: []string{s.URL}, Username: s.Username, Credential: s.Credential})
	}
	return out
}
