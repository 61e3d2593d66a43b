// Package rtc streams the engine's output to browsers over WebRTC (pion):
// one VP8 and one Opus encoder shared by every viewer, our own RTP
// packetising with the engine's timestamps, packets written at their
// deadlines, the signalling formats (paste box, stdin/stdout) and ICE.
// The HTTP side (LAN share, WHEP) is rtc/share; A/V measurement is
// rtc/measure, which watches a Session as an Observer. This package
// imports engine and the codecs, never ui, share or measure.
package rtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"segcast/engine"
	"segcast/rtc/opusenc"
	"segcast/rtc/vp8"
)

// Bitrate defaults for 720p; other sizes scale them by pixel count.
const (
	DefaultBitrate    = 1_500_000
	DefaultMinBitrate = 300_000
	DefaultMaxBitrate = 4_000_000
)

// EncodeLead is the loop lead (engine.LoopConfig.Lead) a session needs:
// items arrive this long before their deadline, time enough to encode a
// 720p frame and still write it at the deadline.
const EncodeLead = 100 * time.Millisecond

// IdleEncodeLead is the lead (engine.LoopConfig.IdleLead) while idle is on
// air: still several times a 720p frame's encode, and a segment pushed
// then goes on air 50 ms sooner (bench/README.md, "Live ingest").
const IdleEncodeLead = 50 * time.Millisecond

// keyframeGap is the least time between keyframes forced by PLI/FIR: a
// viewer on a lossy path asks often, and every keyframe costs the others.
const keyframeGap = 500 * time.Millisecond

// bitrateCheckEvery is how often the viewers' estimates are polled.
const bitrateCheckEvery = time.Second

// streamID groups the two tracks into one MediaStream (msid), which is
// what makes a browser lip-sync them.
const streamID = "segcast"

// Config sets up a Session.
type Config struct {
	Width, Height int
	Rate          engine.Rate
	// Bitrates in bits per second; zero takes the defaults (1.5M, 300k,
	// 4M at 720p, scaled by pixel count for other sizes).
	Bitrate, MinBitrate, MaxBitrate int
	ICEServers                      []ICEServer
	Log                             *slog.Logger // nil = discard
	// Clock should be the loop's clock: item deadlines are on it. nil
	// means an engine wall clock made in NewSession; as engine wall
	// clocks count from their creation, packets then leave late by the
	// time between the loop's clock and the session's being made (both
	// tracks alike, so sync holds), and a warning is logged.
	Clock engine.Clock
	// LoopbackOnly restricts ICE to 127.0.0.1 host candidates (tests and
	// benchmarks); the app leaves it false to use the LAN.
	LoopbackOnly bool
	// Observers watch viewers and sent items (rtc/measure, tests).
	Observers []Observer
	// Interceptors are added to every viewer's PeerConnection before
	// ours, next to the network (an impaired-network benchmark drops and
	// delays packets there).
	Interceptors []interceptor.Factory
	// ConnectTimeout is how long a viewer may take to connect once
	// signalling is complete before it is closed (see
	// Viewer.StartConnectDeadline); 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Width <= 0 || c.Height <= 0 {
		return c, fmt.Errorf("rtc config: size %dx%d must be positive", c.Width, c.Height)
	}
	if err := c.Rate.Valid(); err != nil {
		return c, fmt.Errorf("rtc config: rate %v: %w", c.Rate, err)
	}
	scale := func(bps int) int {
		return int(int64(bps) * int64(c.Width*c.Height) / (1280 * 720))
	}
	if c.Bitrate == 0 {
		c.Bitrate = max(scale(DefaultBitrate), 100_000)
	}
	if c.MinBitrate == 0 {
		c.MinBitrate = min(max(scale(DefaultMinBitrate), 50_000), c.Bitrate)
	}
	if c.MaxBitrate == 0 {
		c.MaxBitrate = max(scale(DefaultMaxBitrate), c.Bitrate)
	}
	if c.MinBitrate > c.Bitrate || c.Bitrate > c.MaxBitrate {
		return c, fmt.Errorf("rtc config: bitrates min %d ≤ start %d ≤ max %d do not hold", c.MinBitrate, c.Bitrate, c.MaxBitrate)
	}
	if c.MinBitrate < vp8.MinBitrate || c.MaxBitrate > vp8.MaxBitrate {
		return c, fmt.Errorf("rtc config: bitrates must lie within %d…%d bps", vp8.MinBitrate, vp8.MaxBitrate)
	}
	if c.ConnectTimeout < 0 {
		return c, fmt.Errorf("rtc config: connect timeout %v is negative", c.ConnectTimeout)
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Clock == nil {
		c.Clock = engine.NewWallClock()
		c.Log.Warn("rtc: Config.Clock not set; using a new wall clock (pass the loop's clock for exact send times)")
	}
	return c, nil
}

// Session owns the shared encoders and the two tracks, and the viewers
// (one PeerConnection each) bound to them. It implements engine.Sink.
type Session struct {
	cfg    Config
	log    *slog.Logger
	clock  engine.Clock
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	videoTrack, audioTrack *webrtc.TrackLocalStaticRTP
	video, audio           *trackSender
	videoJobs              chan videoJob
	audioJobs              chan audioJob

	// Counters for Stats.
	keyframes   atomic.Int64
	dropped     atomic.Int64
	videoIdle   atomic.Int64
	videoBehind atomic.Int64
	audioIdle   atomic.Int64

	// Keyframes and bitrate. needKey asks the video encoder for a
	// keyframe; the rest but bitrate belongs to the encoder goroutine.
	needKey       atomic.Bool
	lastPLIKey    atomic.Int64 // clock time of the last PLI/FIR keyframe
	bitrate       atomic.Int64 // the encoder's current target, for Stats
	nextRateCheck time.Duration
	rateTarget    int

	// Viewers.
	mu        sync.Mutex
	viewers   []*Viewer // join order
	onChanged func()
	changed   chan struct{} // closed and replaced at every viewer change
	closed    bool
	connected atomic.Int32 // viewers in state connected
	external  atomic.Int32 // consumers beside the viewers (external.go)

	timelines timelines // Restart (restart.go)
}

// NewSession creates the encoders and tracks and starts the encode and
// send goroutines. Add it to the loop with loop.AddSink.
func NewSession(cfg Config) (*Session, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	venc, err := newVP8(cfg.Width, cfg.Height, cfg.Rate, cfg.Bitrate)
	if err != nil {
		return nil, fmt.Errorf("rtc: %w", err)
	}
	aenc, err := opusenc.NewEncoder(opusenc.Config{})
	if err != nil {
		venc.Close()
		return nil, fmt.Errorf("rtc: %w", err)
	}
	videoTrack, err := webrtc.NewTrackLocalStaticRTP(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", streamID)
	if err != nil {
		venc.Close()
		return nil, fmt.Errorf("rtc: video track: %w", err)
	}
	audioTrack, err := webrtc.NewTrackLocalStaticRTP(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", streamID)
	if err != nil {
		venc.Close()
		return nil, fmt.Errorf("rtc: audio track: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		cfg: cfg, log: cfg.Log, clock: cfg.Clock, ctx: ctx, cancel: cancel,
		videoTrack: videoTrack, audioTrack: audioTrack,
		video: newTrackSender(videoTrack), audio: newTrackSender(audioTrack),
		// One more job than queued batches: see WriteVideo.
		videoJobs:  make(chan videoJob, queueLen+1),
		audioJobs:  make(chan audioJob, queueLen+1),
		rateTarget: cfg.Bitrate,
		changed:    make(chan struct{}),
	}
	s.video.observers, s.audio.observers = cfg.Observers, cfg.Observers
	s.timelines.cur = format{cfg.Width, cfg.Height, cfg.Rate}
	s.bitrate.Store(int64(cfg.Bitrate))
	s.lastPLIKey.Store(int64(-keyframeGap))
	// RFC 3550 wants random initial sequence numbers and timestamps;
	// the engine's timestamps are offset by a constant per track.
	ve := &videoEncoder{enc: venc, seq: uint16(rand.Uint32()), tsBase: rand.Uint32(), bitrate: cfg.Bitrate,
		payloader: codecs.VP8Payloader{EnablePictureID: true},
		width:     cfg.Width, height: cfg.Height, rate: cfg.Rate, tl: trackTimeline{clockHz: 90000}}
	ae := &audioEncoder{enc: aenc, seq: uint16(rand.Uint32()), tsBase: rand.Uint32(), tl: trackTimeline{clockHz: 48000}}
	s.wg.Add(4)
	go func() { defer s.wg.Done(); s.encodeVideo(ve) }()
	go func() { defer s.wg.Done(); s.encodeAudio(ae) }()
	go func() { defer s.wg.Done(); s.video.run(ctx, s.clock, s.log) }()
	go func() { defer s.wg.Done(); s.audio.run(ctx, s.clock, s.log) }()
	return s, nil
}

// Close ends every viewer and stops the encoders. The loop must no longer
// call the session (remove the sink first); late calls are ignored.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	viewers := slices.Clone(s.viewers)
	s.mu.Unlock()
	var errs []error
	for _, v := range viewers {
		errs = append(errs, v.Close())
	}
	s.cancel()
	s.wg.Wait()
	return errors.Join(errs...)
}

// OnViewersChanged sets f to be called (from any goroutine) when a viewer
// joins, leaves or changes state.
func (s *Session) OnViewersChanged(f func()) {
	s.mu.Lock()
	s.onChanged = f
	s.mu.Unlock()
}

func (s *Session) notify() {
	s.mu.Lock()
	f := s.onChanged
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

// Changed returns a channel that is closed at the next viewer change
// (join, leave, state): wait on it, then look again.
func (s *Session) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Viewer describes viewer id; ok is false when there is no such viewer
// (never joined, or gone).
func (s *Session) Viewer(id string) (info ViewerInfo, ok bool) {
	for _, v := range s.viewerList() {
		if v.id == id {
			return v.info(), true
		}
	}
	return ViewerInfo{}, false
}

// WaitViewer waits until viewer id is in state want and returns its
// ID; id "" means whichever viewer gets there first. The viewer failing,
// closing or vanishing first is an error, as is ctx ending.
func (s *Session) WaitViewer(ctx context.Context, id string, want ViewerState) (string, error) {
	for {
		s.mu.Lock()
		changed, viewers := s.changed, slices.Clone(s.viewers)
		s.mu.Unlock()
		found := false
		for _, v := range viewers {
			if id != "" && v.id != id {
				continue
			}
			found = true
			switch st := v.State(); {
			case st == want:
				return v.id, nil
			case id != "" && !st.Live():
				return "", fmt.Errorf("rtc: viewer %s is %s", id, st)
			}
		}
		if id != "" && !found {
			return "", fmt.Errorf("rtc: viewer %s is gone", id)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("rtc: waiting for viewer %s to be %s: %w", orAny(id), want, ctx.Err())
		case <-changed:
		}
	}
}

func orAny(id string) string {
	if id == "" {
		return "(any)"
	}
	return id
}

func (s *Session) addViewer(v *Viewer) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("rtc: session is closed")
	}
	s.viewers = append(s.viewers, v)
	s.mu.Unlock()
	s.log.Info("viewer added", "viewer", v.id)
	s.notify()
	return nil
}

func (s *Session) removeViewer(v *Viewer) {
	s.mu.Lock()
	i := slices.Index(s.viewers, v)
	if i >= 0 {
		s.viewers = slices.Delete(s.viewers, i, i+1)
	}
	s.mu.Unlock()
	s.recount()
	if i >= 0 {
		s.log.Info("viewer removed", "viewer", v.id)
		s.notify()
	}
}

// viewerCount is how many viewers are connected: with none, the encoders
// idle.
func (s *Session) viewerCount() int { return int(s.connected.Load() + s.external.Load()) }

// recount updates the connected count after a viewer's state changed.
func (s *Session) recount() {
	n := 0
	for _, v := range s.viewerList() {
		if v.State() == ViewerConnected {
			n++
		}
	}
	s.connected.Store(int32(n))
}

func (s *Session) viewerList() []*Viewer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.viewers)
}

// Viewers lists the viewers in join order.
func (s *Session) Viewers() []ViewerInfo {
	vs := s.viewerList()
	out := make([]ViewerInfo, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.info())
	}
	return out
}

// CloseViewer ends one viewer; the others keep streaming.
func (s *Session) CloseViewer(id string) error {
	for _, v := range s.viewerList() {
		if v.id == id {
			return v.Close()
		}
	}
	return fmt.Errorf("rtc: no viewer %q", id)
}

// keyframeNow makes the next encoded frame a keyframe (a viewer joined).
func (s *Session) keyframeNow() { s.needKey.Store(true) }

// keyframeRequested handles PLI/FIR: a keyframe, at most one per
// keyframeGap whoever asks.
func (s *Session) keyframeRequested() {
	now := int64(s.clock.Now())
	last := s.lastPLIKey.Load()
	if now-last < int64(keyframeGap) || !s.lastPLIKey.CompareAndSwap(last, now) {
		return
	}
	s.needKey.Store(true)
}

// targetBitrate is the lowest estimate across viewers within [min, max],
// polled at most once per bitrateCheckEvery. Called by the video encoder.
func (s *Session) targetBitrate() int {
	now := s.clock.Now()
	if now < s.nextRateCheck {
		return s.rateTarget
	}
	s.nextRateCheck = now + bitrateCheckEvery
	lowest := 0
	for _, v := range s.viewerList() {
		if est := v.estimate(); est > 0 && (lowest == 0 || est < lowest) {
			lowest = est
		}
	}
	if lowest == 0 {
		return s.rateTarget
	}
	s.rateTarget = min(max(lowest, s.cfg.MinBitrate), s.cfg.MaxBitrate)
	return s.rateTarget
}

// Stats is a snapshot of the session's counters and viewers.
func (s *Session) Stats() SessionStats {
	return SessionStats{
		VideoFramesSent: s.video.sent.Load(),
		AudioChunksSent: s.audio.sent.Load(),
		VideoFramesIdle: s.videoIdle.Load(),
		VideoSkipped:    s.videoBehind.Load(),
		AudioChunksIdle: s.audioIdle.Load(),
		LateVideo:       s.video.late.Load(),
		LateAudio:       s.audio.late.Load(),
		Dropped:         s.dropped.Load(),
		Keyframes:       s.keyframes.Load(),
		VideoBytes:      s.video.bytes.Load(),
		AudioBytes:      s.audio.bytes.Load(),
		VideoPackets:    s.video.packets.Load(),
		AudioPackets:    s.audio.packets.Load(),
		BitrateBps:      int(s.bitrate.Load()),
		VideoSendErr:    s.video.errs.percentiles(),
		AudioSendErr:    s.audio.errs.percentiles(),
		Viewers:         s.Viewers(),
	}
}
