package rtc

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// testReceiver is a real pion peer standing in for a browser: default
// codecs and interceptors (NACK, reports, TWCC feedback), loopback ICE.
// It reassembles VP8 frames itself so it can note when each completed.
type testReceiver struct {
	pc        *webrtc.PeerConnection
	connected chan struct{}
	keep      bool // keep frames and packets (tests) or only count (benchmarks)

	mu         sync.Mutex
	frames     []rxFrame
	audio      []rxAudio
	nFrames    int
	nAudio     int
	videoSR    *rtcp.SenderReport
	audioSR    *rtcp.SenderReport
	videoSSRC  uint32
	audioSSRC  uint32
	brokenSeqs int // frames lost to a sequence gap
}

type rxFrame struct {
	ts      uint32
	data    []byte
	arrived time.Time
	// afterLoss: a frame before this one was lost, so until the next
	// keyframe the decoder's references are broken.
	afterLoss bool
}

// isKeyframe reads the VP8 payload header's inverse key frame flag.
func (f rxFrame) isKeyframe() bool { return len(f.data) > 0 && f.data[0]&1 == 0 }

type rxAudio struct {
	ts      uint32
	seq     uint16
	payload []byte
	arrived time.Time
}

func newTestReceiver(t testing.TB, keep bool) *testReceiver {
	t.Helper()
	return newTestReceiverWith(t, keep, webrtc.Configuration{})
}

func newTestReceiverWith(t testing.TB, keep bool, cfg webrtc.Configuration) *testReceiver {
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
		webrtc.WithSettingEngine(settingEngine(true)))
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &testReceiver{pc: pc, connected: make(chan struct{}), keep: keep}
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
func (r *testReceiver) offer(t testing.TB) string {
	t.Helper()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := r.pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := r.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.setLocal(t, o)
}

// answer answers a base64 offer from the session.
func (r *testReceiver) answer(t testing.TB, offer string) string {
	t.Helper()
	desc, err := DecodeSignal(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.pc.SetRemoteDescription(desc); err != nil {
		t.Fatal(err)
	}
	a, err := r.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.setLocal(t, a)
}

func (r *testReceiver) setLocal(t testing.TB, d webrtc.SessionDescription) string {
	t.Helper()
	done := webrtc.GatheringCompletePromise(r.pc)
	if err := r.pc.SetLocalDescription(d); err != nil {
		t.Fatal(err)
	}
	<-done
	s, err := EncodeSignal(*r.pc.LocalDescription())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (r *testReceiver) accept(t testing.TB, answer string) {
	t.Helper()
	desc, err := DecodeSignal(answer)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.pc.SetRemoteDescription(desc); err != nil {
		t.Fatal(err)
	}
}

func (r *testReceiver) waitConnected(t testing.TB, ctx context.Context) {
	t.Helper()
	select {
	case <-r.connected:
	case <-ctx.Done():
		t.Fatal("receiver did not connect")
	}
}

func (r *testReceiver) readRTCP(recv *webrtc.RTPReceiver) {
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
func (r *testReceiver) readVideo(track *webrtc.TrackRemote) {
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
				_ = r.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}})
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
				r.frames = append(r.frames, rxFrame{ts: curTS, data: cur, arrived: time.Now(), afterLoss: lost})
			}
			r.mu.Unlock()
			cur, building, lost = nil, false, false
		}
	}
}

func (r *testReceiver) readAudio(track *webrtc.TrackRemote) {
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
			r.audio = append(r.audio, rxAudio{ts: pkt.Timestamp, seq: pkt.SequenceNumber,
				payload: pkt.Payload, arrived: time.Now()})
		}
		r.mu.Unlock()
	}
}

func (r *testReceiver) counts() (frames, chunks int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nFrames, r.nAudio
}

// snapshot copies what was received so far.
func (r *testReceiver) snapshot() (frames []rxFrame, audio []rxAudio, videoSR, audioSR *rtcp.SenderReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rxFrame(nil), r.frames...), append([]rxAudio(nil), r.audio...), r.videoSR, r.audioSR
}
