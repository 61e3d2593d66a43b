package measure

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livekit/protocol/auth"

	"segcast/assets"
	"segcast/rtc"
	"segcast/rtc/measure/avsync"
	"segcast/rtc/publish"
)

// The sync channel over LiveKit: a page in a room the session publishes
// into cannot open a DataChannel to the app (the SFU sits between), so the
// same messages go as LiveKit data messages on SyncTopic. The page says
// {"t":"hello"} to the publisher's identity; from then on the app's
// messages are addressed to that page alone and the page's come back
// addressed to the publisher. The server vouches for each sender's
// identity, so a page is its identity; a page silent for pageSilence (it
// answers a ping every second) is forgotten, and says hello again when it
// hears nothing (after the app joined the room again, say).

// SyncTopic is the LiveKit data topic the sync messages travel on.
const SyncTopic = SyncChannelLabel

const (
	// maxLiveKitPages bounds the pages one publisher talks to: each costs
	// an outbox and two goroutines.
	maxLiveKitPages = 256
	// pageSilence is how long a page may say nothing before it is
	// forgotten.
	pageSilence = 30 * time.Second
)

// LiveKitViewerID is the Hub's viewer id (for Sync and Measurements) of
// the page that joined a LiveKit room as identity.
func LiveKitViewerID(identity string) string { return "livekit:" + identity }

// LiveKitSync runs the Hub's sync protocol with the measuring pages in the
// room a LiveKit publisher is in.
type LiveKitSync struct {
	h      *Hub
	send   func(payload []byte, to string) error
	stop   func() // ends the data messages' delivery
	cancel context.CancelFunc
	done   chan struct{}
	// strangers counts messages dropped because their sender had not said
	// hello (or more pages than maxLiveKitPages did).
	strangers atomic.Int64

	mu    sync.Mutex
	pages map[string]*livekitPage // by identity
}

type livekitPage struct {
	vs    *viewerSync
	heard time.Duration // loop clock of the last message
}

// ServeLiveKit runs the sync protocol over p's room until Close (before
// p's and the Hub's).
func (h *Hub) ServeLiveKit(p *publish.LiveKit) *LiveKitSync {
	s := h.newLiveKitSync(func(payload []byte, to string) error { return p.SendData(SyncTopic, payload, to) })
	p.HandleData(SyncTopic, s.receive)
	s.stop = func() { p.HandleData(SyncTopic, nil) }
	return s
}

func (h *Hub) newLiveKitSync(send func(payload []byte, to string) error) *LiveKitSync {
	ctx, cancel := context.WithCancel(h.ctx)
	s := &LiveKitSync{h: h, send: send, stop: func() {}, cancel: cancel, done: make(chan struct{}),
		pages: map[string]*livekitPage{}}
	go s.forgetSilent(ctx)
	return s
}

// Close stops talking to the pages and forgets them.
func (s *LiveKitSync) Close() {
	s.stop()
	s.cancel()
	<-s.done
	s.mu.Lock()
	for id := range s.pages {
		s.h.remove(LiveKitViewerID(id))
	}
	s.pages = map[string]*livekitPage{}
	s.mu.Unlock()
}

// Strangers is how many data messages were dropped because their sender
// had not said hello (or the page limit was reached). Bad messages from a
// page count in its SyncInfo.BadMessages.
func (s *LiveKitSync) Strangers() int64 { return s.strangers.Load() }

// Pages is how many pages the app talks to.
func (s *LiveKitSync) Pages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pages)
}

// receive takes one data message on SyncTopic from identity from.
func (s *LiveKitSync) receive(from string, payload []byte) {
	now := s.h.clock.Now()
	s.mu.Lock()
	pg := s.pages[from]
	if pg == nil {
		if len(s.pages) >= maxLiveKitPages || !isHello(payload) {
			s.mu.Unlock()
			if n := s.strangers.Add(1); n <= 10 || n%1000 == 0 {
				s.h.log.Warn("livekit sync: dropped a data message from a participant that did not say hello",
					"from", from, "bytes", len(payload), "pages", s.Pages(), "dropped", n)
			}
			return
		}
		pg = &livekitPage{vs: s.h.add(LiveKitViewerID(from))}
		s.pages[from] = pg
		pg.vs.opened(func(b []byte) error { return s.send(b, from) })
		s.h.log.Info("livekit sync: page said hello", "identity", from)
	}
	pg.heard = now
	s.mu.Unlock()
	pg.vs.receive(payload)
}

// isHello: whether a stranger's message is the page's hello.
func isHello(payload []byte) bool {
	m, err := avsync.DecodePageMessage(payload)
	return err == nil && m == avsync.Hello{}
}

// forgetSilent drops pages that said nothing for pageSilence, checking on
// absolute deadlines a quarter of that apart.
func (s *LiveKitSync) forgetSilent(ctx context.Context) {
	defer close(s.done)
	clk := s.h.clock
	start := clk.Now()
	for i := time.Duration(1); ; i++ {
		if err := clk.SleepUntil(ctx, start+i*pageSilence/4); err != nil {
			return
		}
		s.forget(clk.Now())
	}
}

// forget drops the pages silent for more than pageSilence at now.
func (s *LiveKitSync) forget(now time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, pg := range s.pages {
		if now-pg.heard > pageSilence {
			delete(s.pages, id)
			s.h.remove(LiveKitViewerID(id))
			s.h.log.Info("livekit sync: page silent; forgotten", "identity", id, "after", pageSilence)
		}
	}
}

// checkLiveKit completes opt.LiveKit (a copy) for a measuring run: a fresh
// room when an API key is given without one, and a page token when a
// publisher token is.
func checkLiveKit(opt *Options) error {
	lk := *opt.LiveKit
	if lk.APIKey != "" && lk.Room == "" {
		lk.Room = randomName("segcast-measure-")
	}
	if lk.Token != "" && opt.ViewerToken == "" {
		return errors.New("with a LiveKit token, the viewer page needs a token of its own (or give the API key and secret)")
	}
	opt.LiveKit = &lk
	return nil
}

// pageToken is the LiveKit viewer page's token and identity: the given
// one, or one minted with the API key that may subscribe and publish data
// (the sync messages) but no media.
func pageToken(opt Options, room string, validFor time.Duration) (token, identity string, err error) {
	if opt.ViewerToken != "" {
		v, err := auth.ParseAPIToken(opt.ViewerToken)
		if err != nil {
			return "", "", fmt.Errorf("viewer token: %w", err)
		}
		if v.Identity() == "" {
			return "", "", errors.New("viewer token: it names no identity")
		}
		return opt.ViewerToken, v.Identity(), nil
	}
	identity = randomName("segcast-measure-page-")
	yes, no := true, false
	token, err = auth.NewAccessToken(opt.LiveKit.APIKey, opt.LiveKit.APISecret).SetIdentity(identity).
		SetValidFor(validFor).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanPublish: &no, CanPublishData: &yes, CanSubscribe: &yes}).
		ToJWT()
	if err != nil {
		return "", "", fmt.Errorf("viewer token: %w", err)
	}
	return token, identity, nil
}

// watchLiveKit publishes the session into the room, opens the LiveKit
// viewer page on it (served on loopback) and waits until the page has
// said hello over the room's data messages.
func watchLiveKit(ctx, bctx context.Context, hub *Hub, sess *rtc.Session, opt Options, log *slog.Logger) (*watchedPage, error) {
	lk := *opt.LiveKit
	if lk.Log == nil {
		lk.Log = log
	}
	p, err := publish.PublishLiveKit(ctx, sess, lk)
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	lks := hub.ServeLiveKit(p)
	closers := []func(){func() { _ = p.Close() }, lks.Close}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	token, identity, err := pageToken(opt, p.Room(), 2*time.Hour+opt.Settle+opt.Duration)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("measure: %w", err)
	}
	stopPage, err := openLiveKitPage(bctx, opt.Browser, lk.URL, token, opt.NoLipSync)
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, stopPage)
	id := LiveKitViewerID(identity)
	open := func() bool { info, ok := hub.Sync(id); return ok && info.Open }
	waitCtx, cancel := context.WithTimeout(ctx, measureConnectTimeout)
	defer cancel()
	for !open() {
		select {
		case <-waitCtx.Done():
			err := fmt.Errorf("measure: the LiveKit viewer page (%s) did not say hello within %v (publisher %s; page %s)",
				identity, measureConnectTimeout, p.Status().State, pageState(bctx))
			closeAll()
			return nil, err
		case <-time.After(100 * time.Millisecond):
		}
	}
	log.Info("livekit: the viewer page talks", "room", p.Room(), "page", identity)
	return &watchedPage{
		id: id,
		gone: func() string {
			if !open() {
				return fmt.Sprintf("the LiveKit viewer page %s went silent (publisher %s)", identity, p.Status().State)
			}
			return ""
		},
		// The Hub says nothing when a page goes: look every second.
		changed: func() <-chan struct{} {
			c := make(chan struct{})
			time.AfterFunc(time.Second, func() { close(c) })
			return c
		},
		close: closeAll,
	}, nil
}

// openLiveKitPage serves the LiveKit viewer page on loopback and opens it
// in the tab bctx on the room at lkURL that token admits to (trim off with
// noLipSync); stop ends the serving.
func openLiveKitPage(bctx context.Context, browser, lkURL, token string, noLipSync bool) (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("measure: serve the LiveKit viewer page: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(assets.LiveKitViewerPage())
		})}
	go func() { _ = srv.Serve(ln) }()
	page := fmt.Sprintf("http://%s/#url=%s&token=%s", ln.Addr(), url.QueryEscape(lkURL), url.QueryEscape(token))
	if noLipSync {
		page += "&lipsync=off"
	}
	if err := openPage(bctx, browser, page); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return func() { _ = srv.Close() }, nil
}

// pageState is what the LiveKit viewer page says of itself
// (window.segcastLiveKit), for errors.
func pageState(bctx context.Context) string {
	ctx, cancel := context.WithTimeout(bctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.segcastLiveKit || null)`))
	if err != nil {
		return err.Error()
	}
	return s
}

// randomName is prefix and 8 random hex digits.
func randomName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b[:])
}
