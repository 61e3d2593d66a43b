package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	protologger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/interceptor"
	"github.com/twitchtv/twirp"

	"segcast/rtc"
)

// LiveKitOptions says where and as whom to publish. Give either Token, or
// APIKey, APISecret and Room (Segcast then mints its own tokens and
// creates the room with sync streams).
type LiveKitOptions struct {
	URL               string // ws(s):// or http(s):// of the LiveKit server
	Token             string
	APIKey, APISecret string
	Room              string
	Identity          string // default "segcast-" and a random suffix
	Log               *slog.Logger
	// ConnectTimeout bounds one connection attempt (DefaultConnectTimeout
	// when zero).
	ConnectTimeout time.Duration
	// SDKGrace is how long the SDK may try to resume a lost connection
	// before the publisher joins afresh (default 3 s).
	SDKGrace time.Duration
}

// The SDK logs every step at info level to stderr, pion's too, through
// its package logger (only SetLogger reaches the PeerConnections' loggers).
// Our own log says what a user needs (connected, lost, back). Set at init,
// before any room exists, so no SDK goroutine reads it while it changes.
func init() { lksdk.SetLogger(protologger.GetDiscardLogger()) }

// tokenValidity is how long a minted token lasts. The SDK rejoins with the
// token it has; a fresh one is minted for every rejoin of our own.
const tokenValidity = 6 * time.Hour

func (o *LiveKitOptions) check() error {
	u, err := url.Parse(o.URL)
	if err != nil {
		return fmt.Errorf("--livekit %q: %v", o.URL, err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return fmt.Errorf("--livekit %q: want a ws://, wss://, http:// or https:// URL", o.URL)
	}
	if u.Host == "" {
		return fmt.Errorf("--livekit %q: no host", o.URL)
	}
	haveKey := o.APIKey != "" || o.APISecret != ""
	switch {
	case o.Token != "" && haveKey:
		return errors.New("give either a token or an API key and secret, not both")
	case o.Token == "" && !haveKey:
		return errors.New("a token, or an API key and secret, is needed")
	case haveKey && (o.APIKey == "" || o.APISecret == ""):
		return errors.New("the API key and the API secret go together")
	case haveKey && o.Room == "":
		return errors.New("a room is needed with an API key")
	}
	if o.Identity == "" {
		o.Identity = randomSuffix("segcast-")
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.SDKGrace <= 0 {
		o.SDKGrace = 3 * time.Second
	}
	return nil
}

// LiveKit publishes a session's tracks into a LiveKit room and keeps them
// there: the SDK resumes short losses itself; when it cannot within
// SDKGrace (a restarted server, a long outage) the publisher joins again,
// with backoff, for as long as it is open.
type LiveKit struct {
	opt      LiveKitOptions
	sess     *rtc.Session
	log      *slog.Logger
	status   status
	events   chan roomEvent
	cancel   context.CancelFunc
	done     chan struct{}
	unexpose func() // ends the session's count of this consumer

	mu        sync.Mutex
	room      *lksdk.Room
	gen       int // counts rooms joined; events of older rooms are stale
	roomName  string
	dataTopic string
	onData    func(from string, payload []byte)
}

type roomEvent struct {
	gen  int
	kind string // "reconnecting", "reconnected", "disconnected"
	why  string
}

// PublishLiveKit joins the room and publishes the session's tracks; it
// returns a *ConnectError if that first connection fails. The session
// must outlive the publisher; Close it before the session.
func PublishLiveKit(ctx context.Context, sess *rtc.Session, opt LiveKitOptions) (*LiveKit, error) {
	if err := opt.check(); err != nil {
		return nil, &ConnectError{Target: opt.URL, Err: err}
	}
	p := &LiveKit{opt: opt, sess: sess, log: discardLog(opt.Log), events: make(chan roomEvent, 16),
		done: make(chan struct{})}
	p.status.st = Status{Kind: "livekit", Target: opt.URL, State: StateConnecting, Since: time.Now()}
	if err := p.connect(ctx); err != nil {
		p.status.set(StateClosed, err)
		return nil, &ConnectError{Target: opt.URL, Err: err}
	}
	// A consumer from now until Close, connected or not: the encoders
	// keep the timeline's packets (sequence numbers included) unbroken
	// across reconnects.
	p.unexpose = sess.AddExternal()
	runCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.maintain(runCtx)
	return p, nil
}

// Status is a snapshot of the connection.
func (p *LiveKit) Status() Status { return p.status.get() }

// Room is the room's name as the server has it.
func (p *LiveKit) Room() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.roomName
}

// Identity is the participant identity the tracks are published as.
func (p *LiveKit) Identity() string { return p.opt.Identity }

// HandleData has f called with every data message sent to the publisher
// on topic: from is the sender's identity as the server vouches for it.
// f runs on the SDK's goroutines and must not block; nil stops. One
// handler at a time.
func (p *LiveKit) HandleData(topic string, f func(from string, payload []byte)) {
	p.mu.Lock()
	p.dataTopic, p.onData = topic, f
	p.mu.Unlock()
}

// SendData sends payload reliably on topic to the participants named
// (everyone in the room when none are). It may wait while the connection
// is being resumed (at most ConnectTimeout), and fails while the
// publisher joins again.
func (p *LiveKit) SendData(topic string, payload []byte, to ...string) error {
	p.mu.Lock()
	room := p.room
	p.mu.Unlock()
	if room == nil {
		return errors.New("livekit: not in the room")
	}
	return room.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Payload: payload, Topic: topic},
		lksdk.WithDataPublishReliable(true), lksdk.WithDataPublishDestination(to))
}

// dataPacket hands a user data message on the handler's topic to it.
func (p *LiveKit) dataPacket(d lksdk.DataPacket, params lksdk.DataReceiveParams) {
	u, ok := d.(*lksdk.UserDataPacket)
	if !ok {
		return
	}
	p.mu.Lock()
	topic, f := p.dataTopic, p.onData
	p.mu.Unlock()
	if f != nil && u.Topic == topic {
		f(params.SenderIdentity, u.Payload)
	}
}

// Close leaves the room and stops reconnecting.
func (p *LiveKit) Close() error {
	p.cancel()
	<-p.done
	p.drop()
	p.unexpose()
	p.status.set(StateClosed, nil)
	return nil
}

// token returns the token to join with: the given one, or a fresh one
// whose room configuration asks for sync streams, so that a room the join
// creates (after a server restart, say) lip-syncs too.
func (p *LiveKit) token() (string, error) {
	if p.opt.Token != "" {
		return p.opt.Token, nil
	}
	at := auth.NewAccessToken(p.opt.APIKey, p.opt.APISecret).
		SetIdentity(p.opt.Identity).SetName("Segcast").SetValidFor(tokenValidity).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: p.opt.Room}).
		SetRoomConfig(&livekit.RoomConfiguration{SyncStreams: true})
	return at.ToJWT()
}

// ensureRoom creates the room with sync streams through the server API
// (a room that exists is left as it is).
func (p *LiveKit) ensureRoom(ctx context.Context) error {
	if p.opt.APIKey == "" {
		return nil
	}
	rc := lksdk.NewRoomServiceClient(httpURL(p.opt.URL), p.opt.APIKey, p.opt.APISecret)
	if _, err := rc.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: p.opt.Room, SyncStreams: true}); err != nil {
		var te twirp.Error
		if errors.As(err, &te) && te.Code() == twirp.Unauthenticated {
			return fmt.Errorf("create room %q: the server rejected the API key or secret (%s)", p.opt.Room, te.Msg())
		}
		return fmt.Errorf("create room %q: %w", p.opt.Room, plainNetError(err))
	}
	return nil
}

// connect joins a new room and publishes both tracks, within one
// ConnectTimeout.
func (p *LiveKit) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.opt.ConnectTimeout)
	defer cancel()
	if err := p.ensureRoom(ctx); err != nil {
		return err
	}
	token, err := p.token()
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	p.mu.Lock()
	p.gen++
	gen := p.gen
	p.mu.Unlock()
	room := lksdk.NewRoom(p.callback(gen))
	err = room.JoinWithContextAndToken(ctx, p.opt.URL, token,
		lksdk.WithAutoSubscribe(false),
		lksdk.WithConnectTimeout(p.opt.ConnectTimeout),
		lksdk.WithDisableRegionDiscovery(),
		lksdk.WithInterceptors([]interceptor.Factory{keyframeOnPLI{request: p.sess.RequestKeyframe}}),
		lksdk.WithIncludeDefaultInterceptors(true))
	if err != nil {
		room.Disconnect()
		if err = plainNetError(err); errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("join: no answer within %v", p.opt.ConnectTimeout)
		}
		// The server's answer may quote the token: keep it out of logs
		// (a few characters are no JWT, and would garble the message).
		msg := err.Error()
		if len(token) >= 16 {
			msg = strings.ReplaceAll(msg, token, "<token>")
		}
		return fmt.Errorf("join: %s", msg)
	}
	if err := p.publishTracks(room); err != nil {
		room.Disconnect()
		return err
	}
	p.mu.Lock()
	p.room, p.roomName = room, room.Name()
	p.mu.Unlock()
	p.sess.KeyframeNow()
	p.status.set(StateConnected, nil)
	p.log.Info("livekit: publishing", "room", room.Name(), "identity", p.opt.Identity, "url", p.opt.URL)
	return nil
}

func (p *LiveKit) publishTracks(room *lksdk.Room) error {
	video, audio := p.sess.Tracks()
	w, h, _ := p.sess.Format()
	if _, err := room.LocalParticipant.PublishTrack(video, &lksdk.TrackPublicationOptions{
		Name: "video", Source: livekit.TrackSource_CAMERA, Stream: StreamID, VideoWidth: w, VideoHeight: h,
	}); err != nil {
		return fmt.Errorf("publish video: %w", err)
	}
	if _, err := room.LocalParticipant.PublishTrack(audio, &lksdk.TrackPublicationOptions{
		Name: "audio", Source: livekit.TrackSource_MICROPHONE, Stream: StreamID, Stereo: true, DisableDTX: true,
	}); err != nil {
		return fmt.Errorf("publish audio: %w", err)
	}
	return nil
}

// callback turns the SDK's room events into roomEvents tagged with gen.
func (p *LiveKit) callback(gen int) *lksdk.RoomCallback {
	send := func(kind, why string) {
		select {
		case p.events <- roomEvent{gen: gen, kind: kind, why: why}:
		default: // maintain is behind; a later event says the same
		}
	}
	cb := lksdk.NewRoomCallback()
	cb.OnReconnecting = func() { send("reconnecting", "") }
	cb.OnReconnected = func() { send("reconnected", "") }
	cb.OnDisconnectedWithReason = func(r lksdk.DisconnectionReason) { send("disconnected", string(r)) }
	cb.OnDataPacket = p.dataPacket
	return cb
}

// maintain watches the room and joins again when it is lost.
func (p *LiveKit) maintain(ctx context.Context) {
	defer close(p.done)
	var grace <-chan time.Time
	for {
		var lost string
		select {
		case <-ctx.Done():
			return
		case ev := <-p.events:
			p.mu.Lock()
			stale := ev.gen != p.gen
			p.mu.Unlock()
			if stale {
				continue
			}
			switch ev.kind {
			case "reconnecting":
				p.status.set(StateReconnecting, nil)
				p.log.Warn("livekit: connection lost; resuming", "room", p.Room())
				grace = time.After(p.opt.SDKGrace)
			case "reconnected":
				grace = nil
				p.status.set(StateConnected, nil)
				p.sess.KeyframeNow()
				p.log.Info("livekit: connection resumed", "room", p.Room())
			case "disconnected":
				lost = "disconnected (" + ev.why + ")"
			}
		case <-grace:
			lost = fmt.Sprintf("not resumed within %v", p.opt.SDKGrace)
		}
		if lost == "" {
			continue
		}
		grace = nil
		p.log.Warn("livekit: room lost; joining again", "room", p.Room(), "why", lost)
		p.drop()
		p.status.set(StateReconnecting, nil)
		if err := retry(ctx, p.log, "livekit", p.connect, func(err error) { p.status.set(StateReconnecting, err) }); err != nil {
			return
		}
	}
}

// drop leaves the current room, if any.
func (p *LiveKit) drop() {
	p.mu.Lock()
	room := p.room
	p.room = nil
	p.gen++ // whatever the old room still says is stale
	p.mu.Unlock()
	if room != nil {
		room.Disconnect()
	}
}

// plainNetError drops the request line a *url.Error carries (the SDK's
// validate URL with its query): the network error under it says it all.
func plainNetError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// httpURL turns a ws(s):// server URL into the http(s):// of its API.
func httpURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	switch pu.Scheme {
	case "ws":
		pu.Scheme = "http"
	case "wss":
		pu.Scheme = "https"
	}
	return pu.String()
}
