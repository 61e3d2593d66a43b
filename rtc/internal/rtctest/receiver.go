// Package rtctest holds what the rtc, rtc/share and rtc/measure tests
// share: a real pion receiver standing in for a browser, a stream rig on
// the sync pattern, headless Chromium on the viewer page, and the private
// network namespace the browser tests run in. Test support only.
package rtctest

import (
	"context"
	"net"
	"segcast/rtc"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// Receiver is a real pion peer standing in for a browser: default
// codecs and interceptors (NACK, reports, TWCC feedback), loopback ICE.
// It reassembles VP8 frames itself so it can note when each completed.
type Receiver struct {
	PC        *webrtc.PeerConnection
	connected chan struct{}
	keep      bool // keep frames and packets (tests) or only count (benchmarks)

	mu         sync.Mutex
	frames     []Frame
	audio      []AudioPacket
	nFrames    int
	nAudio     int
	videoSR    *rtcp.SenderReport
	audioSR    *rtcp.SenderReport
	videoSSRC  uint32
	audioSSRC  uint32
	brokenSeqs int // frames lost to a sequence gap (BrokenFrames)
}

type Frame struct {
	TS      uint32
	Data    []byte
	Arrived time.Time
	// AfterLoss: a frame before this one was lost, so until the next
	// keyframe the decoder's references are broken.
	AfterLoss bool
}

// isKeyframe reads the VP8 payload header's inverse key frame flag.
func (f Frame) IsKeyframe() bool { return len(f.Data) > 0 && f.Data[0]&1 == 0 }

type AudioPacket struct {
	TS      uint32
	Seq     uint16
	Payload []byte
	Arrived time.Time
}

func NewReceiver(t testing.TB, keep bool) *Receiver {
	t.Helper()
	return NewReceiverWith(t, keep, webrtc.Configuration{})
}

func NewReceiverWith(t testing.TB, keep bool, cfg webrtc.Configuration) *Receiver {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(LoopbackSettings()))
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &Receiver{PC: pc, connected: make(chan struct{}), keep: keep}
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(r.connected) })
		}
	})
	pc.OnTrack(func(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		go r.readRTCP(recv)
		if track.Kind() == webrtc.RTPCodecTypeVideo {
			r.readVideo(track)
		} else {
			r.readAudio(track)
		}
	})
	t.Cleanup(func() { _ = pc.Close() })
	return r
}

// offer makes a recvonly offer with all candidates, base64 encoded.
func (r *Receiver) Offer(t testing.TB) string {
	t.Helper()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := r.PC.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := r.PC.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.setLocal(t, o)
}

// answer answers a base64 offer from the session.
func (r *Receiver) Answer(t testing.TB, offer string) string {
	t.Helper()
	desc, err := rtc.DecodeSignal(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.PC.SetRemoteDescription(desc); err != nil {
		t.Fatal(err)
	}
	a, err := r.PC.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.setLocal(t, a)
}

func (r *Receiver) setLocal(t testing.TB, d webrtc.SessionDescription) string {
	t.Helper()
	done := webrtc.GatheringCompletePromise(r.PC)
	if err := r.PC.SetLocalDescription(d); err != nil {
		t.Fatal(err)
	}
	<-done
	s, err := rtc.EncodeSignal(*r.PC.LocalDescription())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (r *Receiver) Accept(t testing.TB, answer string) {
	t.Helper()
	desc, err := rtc.DecodeSignal(answer)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.PC.SetRemoteDescription(desc); err != nil {
		t.Fatal(err)
	}
}

func (r *Receiver) WaitConnected(t testing.TB, ctx context.Context) {
	t.Helper()
	select {
	case <-r.connected:
	case <-ctx.Done():
		t.Fatal("receiver did not connect")
	}
}

func (r *Receiver) readRTCP(recv *webrtc.RTPReceiver) {
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			sr, ok := p.(*rtcp.SenderReport)
			if !ok {
				continue
			}
			r.mu.Lock()
			switch sr.SSRC {
			case r.videoSSRC:
				r.videoSR = sr
			case r.audioSSRC:
				r.audioSR = sr
			}
			r.mu.Unlock()
		}
	}
}

// readVideo reassembles VP8 frames: packets of one timestamp from a
// partition start to the marker, with no sequence gap.
func (r *Receiver) readVideo(track *webrtc.TrackRemote) {
	r.mu.Lock()
	r.videoSSRC = uint32(track.SSRC())
	r.mu.Unlock()
	var (
		cur      []byte
		curTS    uint32
		building bool
		haveSeq  bool
		lastSeq  uint16
		lost     bool // a packet went missing since the last whole frame
	)
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		if haveSeq && pkt.SequenceNumber != lastSeq+1 {
			// A gap (or a late retransmission): the frame being built
			// is broken, and so is every frame up to the next keyframe.
			if !lost {
				r.mu.Lock()
				r.brokenSeqs++
				r.mu.Unlock()
				// Ask for a keyframe, as a browser would.
				_ = r.PC.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}})
			}
			lost, building = true, false
		}
		haveSeq, lastSeq = true, pkt.SequenceNumber
		var vp codecs.VP8Packet
		payload, err := vp.Unmarshal(pkt.Payload)
		if err != nil {
			building = false
			continue
		}
		switch {
		case vp.S == 1 && vp.PID == 0:
			cur, curTS, building = append(cur[:0:0], payload...), pkt.Timestamp, true
		case building && pkt.Timestamp == curTS:
			cur = append(cur, payload...)
		default:
			building = false
		}
		if building && pkt.Marker {
			r.mu.Lock()
			r.nFrames++
			if r.keep {
				r.frames = append(r.frames, Frame{TS: curTS, Data: cur, Arrived: time.Now(), AfterLoss: lost})
			}
			r.mu.Unlock()
			cur, building, lost = nil, false, false
		}
	}
}

func (r *Receiver) readAudio(track *webrtc.TrackRemote) {
	r.mu.Lock()
	r.audioSSRC = uint32(track.SSRC())
	r.mu.Unlock()
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.nAudio++
		if r.keep {
			r.audio = append(r.audio, AudioPacket{TS: pkt.Timestamp, Seq: pkt.SequenceNumber,
				Payload: pkt.Payload, Arrived: time.Now()})
		}
		r.mu.Unlock()
	}
}

func (r *Receiver) Counts() (frames, chunks int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nFrames, r.nAudio
}

// snapshot copies what was received so far.
func (r *Receiver) Snapshot() (frames []Frame, audio []AudioPacket, videoSR, audioSR *rtcp.SenderReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Frame(nil), r.frames...), append([]AudioPacket(nil), r.audio...), r.videoSR, r.audioSR
}

// BrokenFrames counts frames lost to a sequence gap so far.
func (r *Receiver) BrokenFrames() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.brokenSeqs
}

// LoopbackSettings keeps a test peer's ICE on 127.0.0.1 host candidates,
// as rtc.Config.LoopbackOnly does for the session.
func LoopbackSettings() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}
