//go:build linux

package lkserver

import (
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	protologger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// Quiet the SDK's package logger (it logs every step to stderr), as
// rtc/publish does.
func init() { lksdk.SetLogger(protologger.GetDiscardLogger()) }

// Subscriber is a server-sdk-go participant that subscribes to every track
// in a room and keeps (or only counts) what arrives: whole VP8 frames,
// Opus packets, and the latest Sender Report of each track.
type Subscriber struct {
	room *lksdk.Room
	keep bool

	mu      sync.Mutex
	frames  []Frame
	audio   []Audio
	nFrames int
	nAudio  int
	// Per subscription (a track published again is a new one): the
	// stream id each track arrived in, and its latest Sender Report.
	tracks []*Track
}

// Track is one subscribed track.
type Track struct {
	Kind     webrtc.RTPCodecType
	StreamID string
	SSRC     uint32
	// SRs are the latest Sender Reports, oldest first (at most keepSRs).
	SRs []*rtcp.SenderReport
}

const keepSRs = 8

// Frame is one whole VP8 frame.
type Frame struct {
	Track     int // index into Tracks
	TS        uint32
	Data      []byte
	Arrived   time.Time
	AfterLoss bool // packets before it were lost: undecodable until a keyframe
}

// IsKeyframe reads the VP8 payload header's inverse key frame flag.
func (f Frame) IsKeyframe() bool { return len(f.Data) > 0 && f.Data[0]&1 == 0 }

// Audio is one Opus packet.
type Audio struct {
	Track   int
	TS      uint32
	Seq     uint16
	Payload []byte
	Arrived time.Time
}

// Token mints a dev-key token for identity in room.
func Token(t testing.TB, room, identity string, publish bool) string {
	t.Helper()
	subscribe := !publish
	tok, err := auth.NewAccessToken(APIKey, APISecret).SetIdentity(identity).SetValidFor(time.Hour).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanPublish: &publish, CanSubscribe: &subscribe}).
		ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Subscribe joins room on the node at url as identity. keep=false only
// counts frames and packets (benchmarks).
func Subscribe(t testing.TB, url, room, identity string, keep bool) *Subscriber {
	t.Helper()
	s := &Subscriber{keep: keep}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = s.subscribed
	s.room = lksdk.NewRoom(cb)
	if err := s.room.JoinWithToken(url, Token(t, room, identity, false), lksdk.WithAutoSubscribe(true)); err != nil {
		t.Fatalf("subscriber %s: join %s: %v", identity, url, err)
	}
	t.Cleanup(s.room.Disconnect)
	return s
}

func (s *Subscriber) subscribed(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
	s.mu.Lock()
	idx := len(s.tracks)
	tr := &Track{Kind: track.Kind(), StreamID: track.StreamID(), SSRC: uint32(track.SSRC())}
	s.tracks = append(s.tracks, tr)
	s.mu.Unlock()
	pub.OnRTCP(func(p rtcp.Packet) {
		if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == tr.SSRC {
			s.mu.Lock()
			tr.SRs = append(tr.SRs[max(len(tr.SRs)-keepSRs+1, 0):], sr)
			s.mu.Unlock()
		}
	})
	if track.Kind() == webrtc.RTPCodecTypeVideo {
		go s.readVideo(idx, track, func() { rp.WritePLI(track.SSRC()) })
	} else {
		go s.readAudio(idx, track)
	}
}

func (s *Subscriber) readVideo(idx int, track *webrtc.TrackRemote, pli func()) {
	ReadVP8(track, idx, func(f Frame) {
		if f.AfterLoss {
			pli() // as a browser would
		}
		s.mu.Lock()
		s.nFrames++
		if s.keep {
			s.frames = append(s.frames, f)
		}
		s.mu.Unlock()
	})
}

// ReadVP8 reads a VP8 track until it ends, handing each whole frame
// (track number idx) to got.
func ReadVP8(track *webrtc.TrackRemote, idx int, got func(Frame)) {
	sb := samplebuilder.New(128, &codecs.VP8Packet{}, 90000)
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		sb.Push(pkt)
		for smp := sb.Pop(); smp != nil; smp = sb.Pop() {
			got(Frame{Track: idx, TS: smp.PacketTimestamp, Data: smp.Data,
				Arrived: time.Now(), AfterLoss: smp.PrevDroppedPackets > 0})
		}
	}
}

func (s *Subscriber) readAudio(idx int, track *webrtc.TrackRemote) {
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.nAudio++
		if s.keep {
			s.audio = append(s.audio, Audio{Track: idx, TS: pkt.Timestamp, Seq: pkt.SequenceNumber,
				Payload: pkt.Payload, Arrived: time.Now()})
		}
		s.mu.Unlock()
	}
}

// Counts is how many frames and audio packets arrived.
func (s *Subscriber) Counts() (frames, audio int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nFrames, s.nAudio
}

// Snapshot copies what arrived so far.
func (s *Subscriber) Snapshot() (frames []Frame, audio []Audio, tracks []Track) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tr := range s.tracks {
		c := *tr
		c.SRs = append([]*rtcp.SenderReport(nil), tr.SRs...)
		tracks = append(tracks, c)
	}
	return append([]Frame(nil), s.frames...), append([]Audio(nil), s.audio...), tracks
}

// Close leaves the room.
func (s *Subscriber) Close() { s.room.Disconnect() }
