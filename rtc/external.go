package rtc

import (
	"sync"

	"github.com/pion/webrtc/v4"
)

// External consumers: a publisher to an SFU or a WHIP endpoint
// (rtc/publish) is one more peer of the session's one encode. It binds the
// session's tracks to a PeerConnection of its own, and uses these hooks.

// Tracks returns the session's two shared tracks. Every PeerConnection a
// track is added to gets the same packets, with the engine's RTP
// timestamps, written at their deadlines.
func (s *Session) Tracks() (video, audio *webrtc.TrackLocalStaticRTP) {
	return s.videoTrack, s.audioTrack
}

// AddExternal counts one consumer outside the session's viewers, so the
// encoders run while no viewer is connected. Call the returned func once
// when it stops consuming.
func (s *Session) AddExternal() (remove func()) {
	s.external.Add(1)
	var once sync.Once
	return func() { once.Do(func() { s.external.Add(-1) }) }
}

// RequestKeyframe handles a PLI/FIR from an external consumer: a keyframe,
// rate-limited together with the viewers' requests.
func (s *Session) RequestKeyframe() { s.keyframeRequested() }

// KeyframeNow makes the next frame a keyframe at once (an external
// consumer has just (re)connected and can decode nothing before one).
func (s *Session) KeyframeNow() { s.keyframeNow() }
