package rtc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Viewer is one remote peer: its own PeerConnection bound to the
// session's shared tracks.
type Viewer struct {
	id  string
	s   *Session
	pc  *webrtc.PeerConnection
	est cc.BandwidthEstimator // set while NewPeerConnection runs

	// videoSSRC is our outgoing video SSRC, to pick its receiver reports.
	videoSSRC webrtc.SSRC
	// lossQ8 is the last reported video fraction lost, in 1/256.
	lossQ8 atomic.Uint32

	offering bool // the app offers (paste "Add viewer"); else it answers

	mu        sync.Mutex
	state     ViewerState
	connected bool        // it has been connected at least once
	deadline  *time.Timer // StartConnectDeadline's, stopped by Close

	acceptMu sync.Mutex // serialises Accept; not held by pion callbacks
	offerSDP string     // set in offer mode, to check the answer against
	answered bool

	closeOnce sync.Once
	closeErr  error
}

// DefaultConnectTimeout is Config.ConnectTimeout's default. ICE on a LAN
// (or through a TURN relay gathered beforehand) connects in a second or
// two; pion's own ICE failure takes about 30 s, during which an offer
// that never completes ICE holds a viewer slot.
const DefaultConnectTimeout = 10 * time.Second

// ID identifies the viewer in Viewers and CloseViewer.
func (v *Viewer) ID() string { return v.id }

// PeerConnection is the viewer's connection, for observers that add
// DataChannels in ViewerCreated. Do not close it: use Close.
func (v *Viewer) PeerConnection() *webrtc.PeerConnection { return v.pc }

// Offering reports whether the app makes the offer (then it must create
// any DataChannel; an answering viewer gets the offerer's channels
// through OnDataChannel).
func (v *Viewer) Offering() bool { return v.offering }

// State is where the viewer's connection stands.
func (v *Viewer) State() ViewerState {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.state
}

// WaitConnected waits until the viewer is connected. Its failing or
// closing first is an error, as is ctx ending. (Session.WaitViewer needs
// the viewer listed; this works from Observer.ViewerCreated on.)
func (v *Viewer) WaitConnected(ctx context.Context) error {
	for {
		changed := v.s.Changed() // before the state: no change is missed
		switch st := v.State(); {
		case st == ViewerConnected:
			return nil
		case !st.Live():
			return fmt.Errorf("rtc: viewer %s is %s", v.id, st)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("rtc: waiting for viewer %s to connect: %w", v.id, ctx.Err())
		case <-changed:
		}
	}
}

func newViewerID() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// newViewer builds a PeerConnection with our codecs and interceptors and
// adds the shared tracks. offering selects sendonly transceivers with
// per-viewer media ids (see checkAnswerFits).
func (s *Session) newViewer(offering bool) (*Viewer, error) {
	v := &Viewer{id: newViewerID(), s: s, offering: offering}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}},
		},
		PayloadType: 96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("rtc: register VP8: %w", err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1",
		},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("rtc: register Opus: %w", err)
	}
	reg := &interceptor.Registry{}
	for _, f := range s.cfg.Interceptors {
		reg.Add(f) // first: next to the network
	}
	// GCC without its pacer: our sender already writes each item at its
	// deadline, and a pacer would queue audio behind video bursts.
	bwe, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(s.cfg.Bitrate),
			gcc.SendSideBWEMinBitrate(s.cfg.MinBitrate),
			gcc.SendSideBWEMaxBitrate(s.cfg.MaxBitrate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		)
	})
	if err != nil {
		return nil, fmt.Errorf("rtc: bandwidth estimator: %w", err)
	}
	bwe.OnNewPeerConnection(func(_ string, est cc.BandwidthEstimator) { v.est = est })
	reg.Add(bwe)
	// TWCC: our packets carry the sequence-number extension, and the
	// rtcp-fb line asks browsers to send the feedback GCC runs on.
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeAudio)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
		return nil, fmt.Errorf("rtc: TWCC: %w", err)
	}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return nil, fmt.Errorf("rtc: NACK: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, fmt.Errorf("rtc: RTCP reports: %w", err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(settingEngine(s.cfg.LoopbackOnly)))
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: pionICEServers(s.cfg.ICEServers)})
	if err != nil {
		return nil, fmt.Errorf("rtc: new peer connection: %w", err)
	}
	v.pc = pc
	if err := v.addTracks(offering); err != nil {
		_ = pc.Close()
		return nil, err
	}
	for _, o := range s.cfg.Observers {
		o.ViewerCreated(v)
	}
	pc.OnConnectionStateChange(v.stateChanged)
	return v, nil
}

func (v *Viewer) addTracks(offering bool) error {
	for i, track := range []*webrtc.TrackLocalStaticRTP{v.s.videoTrack, v.s.audioTrack} {
		var sender *webrtc.RTPSender
		if offering {
			tr, err := v.pc.AddTransceiverFromTrack(track,
				webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				return fmt.Errorf("rtc: add %s track: %w", track.Kind(), err)
			}
			// Media ids unique to this viewer make an answer to some
			// other offer recognisable.
			if err := tr.SetMid(fmt.Sprintf("%c%s", track.Kind().String()[0], v.id)); err != nil {
				return fmt.Errorf("rtc: set mid: %w", err)
			}
			sender = tr.Sender()
		} else {
			var err error
			if sender, err = v.pc.AddTrack(track); err != nil {
				return fmt.Errorf("rtc: add %s track: %w", track.Kind(), err)
			}
		}
		if i == 0 {
			if enc := sender.GetParameters().Encodings; len(enc) > 0 {
				v.videoSSRC = enc[0].SSRC
			}
		}
		go v.readRTCP(sender)
	}
	return nil
}

// readRTCP drains a sender's RTCP, which runs the interceptors (NACK
// responder, GCC feedback, reports), and acts on keyframe requests.
func (v *Viewer) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				v.s.keyframeRequested()
			case *rtcp.ReceiverReport:
				for _, r := range p.Reports {
					if r.SSRC == uint32(v.videoSSRC) {
						v.lossQ8.Store(uint32(r.FractionLost))
					}
				}
			}
		}
	}
}

func (v *Viewer) stateChanged(webrtc.PeerConnectionState) {
	// pion calls this on a new goroutine per change, so calls can arrive
	// out of order: read the current state instead of trusting the
	// argument.
	st := viewerState(v.pc.ConnectionState())
	v.mu.Lock()
	v.state = st
	v.connected = v.connected || st == ViewerConnected
	v.mu.Unlock()
	v.s.log.Info("viewer state", "viewer", v.id, "state", st)
	v.s.recount()
	switch st {
	case ViewerConnected:
		// The new viewer can decode nothing until a keyframe.
		v.s.keyframeNow()
	case ViewerFailed, ViewerClosed:
		// Close from another goroutine: pion's callback must return.
		go func() { _ = v.Close() }()
	}
	v.s.notify()
}

// StartConnectDeadline closes the viewer unless it connects within
// Config.ConnectTimeout from now (a later call restarts the wait). The
// wait must start only once the remote peer has our description and we
// have its: Accept starts it (the answer is in); after Answer or
// AnswerSDP the caller starts it when the answer has reached the peer —
// at once for WHEP, where it goes back in the HTTP response, never for a
// pasted answer a person still has to carry to the browser (pion's ICE
// failure, ≈ 30 s after checks start, ends that one).
func (v *Viewer) StartConnectDeadline() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.deadline != nil {
		v.deadline.Stop()
	}
	v.deadline = time.AfterFunc(v.s.cfg.ConnectTimeout, func() {
		v.mu.Lock()
		connected := v.connected
		v.mu.Unlock()
		if !connected {
			v.s.log.Info("viewer did not connect in time; closing", "viewer", v.id, "timeout", v.s.cfg.ConnectTimeout)
			_ = v.Close()
		}
	})
}

// Close ends the viewer and releases its PeerConnection; the session and
// other viewers are untouched.
func (v *Viewer) Close() error {
	v.closeOnce.Do(func() {
		v.mu.Lock()
		if v.deadline != nil {
			v.deadline.Stop()
		}
		v.mu.Unlock()
		v.s.removeViewer(v)
		v.closeErr = v.pc.Close()
		if v.closeErr != nil {
			v.closeErr = fmt.Errorf("rtc: close viewer %s: %w", v.id, v.closeErr)
		}
		for _, o := range v.s.cfg.Observers {
			o.ViewerClosed(v)
		}
	})
	return v.closeErr
}

func (v *Viewer) estimate() int {
	if v.est == nil || v.State() != ViewerConnected {
		return 0 // a viewer still connecting has no estimate yet
	}
	return v.est.GetTargetBitrate()
}

func (v *Viewer) info() ViewerInfo {
	st := v.State()
	vi := ViewerInfo{ID: v.id, State: st, PacketLoss: float64(v.lossQ8.Load()) / 256}
	if v.est != nil {
		vi.BitrateBps = v.est.GetTargetBitrate()
	}
	// pion reads the ICE transport's gatherer without its lock; only a
	// connected viewer has finished starting it.
	if sctp := v.pc.SCTP(); sctp != nil && st == ViewerConnected {
		ice := sctp.Transport().ICETransport()
		if pair, err := ice.GetSelectedCandidatePair(); err == nil && pair != nil {
			vi.CandidateType = pathType(pair.Local.Typ, pair.Remote.Typ)
		}
		if stats, ok := ice.GetSelectedCandidatePairStats(); ok {
			vi.RTT = time.Duration(stats.CurrentRoundTripTime * float64(time.Second))
		}
	}
	return vi
}

// pathType names the path an ICE pair takes by its most indirect end.
func pathType(local, remote webrtc.ICECandidateType) string {
	rank := map[webrtc.ICECandidateType]int{
		webrtc.ICECandidateTypeHost: 0, webrtc.ICECandidateTypePrflx: 1,
		webrtc.ICECandidateTypeSrflx: 2, webrtc.ICECandidateTypeRelay: 3,
	}
	if rank[remote] > rank[local] {
		return remote.String()
	}
	return local.String()
}
