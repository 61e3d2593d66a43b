// Package opusenc encodes the timeline's 20 ms stereo chunks with libopus
// (through github.com/hraban/opus), configured for streaming to browsers:
// 48 kHz stereo, in-band FEC on with an expected loss, no DTX.
//
// Application is OPUS_APPLICATION_AUDIO: Segcast streams produced clips
// (TTS speech, music beds, the sync beep), not a live microphone, so
// fidelity to the input matters more than VOIP's speech shaping (its
// high-pass and intelligibility tuning). With FEC on and a loss
// percentage set, libopus still picks SILK or hybrid frames, the only
// modes that carry FEC data (TestFECData checks this).
package opusenc

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hraban/opus"
)

// Format of what Encode takes: one 20 ms chunk of 48 kHz stereo, the
// engine's output chunk (rtc checks at compile time that the two agree).
const (
	SampleRate   = 48000
	Channels     = 2
	FrameSamples = 960 // per channel, 20 ms
)

// Lookahead is how far libopus's decoded output lags its input at 48 kHz
// with OPUS_APPLICATION_AUDIO: 312 samples, 2.5 ms of look-ahead plus 4 ms
// of delay compensation (OPUS_GET_LOOKAHEAD; TestLookahead measures it).
// WebRTC has no pre-skip, so a packet's RTP timestamp names decoded audio
// that is this much older than the chunk it was encoded from.
const Lookahead = 312 * time.Second / SampleRate

// Settings and limits.
const (
	DefaultBitrate        = 64_000
	DefaultPacketLossPerc = 10
	MinBitrate            = 6_000   // libopus's floor
	MaxBitrate            = 510_000 // libopus's ceiling
	// maxPacket is the most a 20 ms Opus packet can take (RFC 6716 3.2.1).
	maxPacket = 1275
)

// Config sets up an Encoder; zero fields take the defaults.
type Config struct {
	Bitrate int // bits per second
	// PacketLossPerc is the loss the FEC data is sized for, 1…100.
	PacketLossPerc int
}

// Encoder turns 20 ms chunks into Opus packets. Safe for concurrent use.
type Encoder struct {
	mu  sync.Mutex
	enc *opus.Encoder
	buf [maxPacket]byte
}

// NewEncoder opens an Opus encoder for 48 kHz stereo 20 ms frames.
func NewEncoder(cfg Config) (*Encoder, error) {
	if cfg.Bitrate == 0 {
		cfg.Bitrate = DefaultBitrate
	}
	if cfg.PacketLossPerc == 0 {
		cfg.PacketLossPerc = DefaultPacketLossPerc
	}
	if err := checkBitrate(cfg.Bitrate); err != nil {
		return nil, err
	}
	if cfg.PacketLossPerc < 1 || cfg.PacketLossPerc > 100 {
		return nil, fmt.Errorf("opus: PacketLossPerc %d: must be 1…100", cfg.PacketLossPerc)
	}
	enc, err := opus.NewEncoder(SampleRate, Channels, opus.AppAudio)
	if err != nil {
		return nil, fmt.Errorf("opus: open encoder: %w", err)
	}
	for _, step := range []struct {
		what string
		err  error
	}{
		{"bitrate", enc.SetBitrate(cfg.Bitrate)},
		{"in-band FEC", enc.SetInBandFEC(true)},
		{"packet loss", enc.SetPacketLossPerc(cfg.PacketLossPerc)},
		// DTX would stop packets in silence; the timeline sends silence
		// as audio so receivers' jitter buffers never starve.
		{"DTX", enc.SetDTX(false)},
	} {
		if step.err != nil {
			return nil, fmt.Errorf("opus: set %s: %w", step.what, step.err)
		}
	}
	return &Encoder{enc: enc}, nil
}

func checkBitrate(bps int) error {
	if bps < MinBitrate || bps > MaxBitrate {
		return fmt.Errorf("opus: bitrate %d bps: must be %d…%d", bps, MinBitrate, MaxBitrate)
	}
	return nil
}

// Encode encodes one 20 ms chunk (FrameSamples interleaved stereo sample
// frames) and returns the packet in a new slice the caller owns.
func (e *Encoder) Encode(pcm []int16) ([]byte, error) {
	if len(pcm) != FrameSamples*Channels {
		return nil, fmt.Errorf("opus: encode: chunk has %d samples, want %d (20 ms stereo)", len(pcm), FrameSamples*Channels)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	n, err := e.enc.Encode(pcm, e.buf[:])
	if err != nil {
		return nil, fmt.Errorf("opus: encode: %w", err)
	}
	return append([]byte(nil), e.buf[:n]...), nil
}

// SetBitrate changes the target bitrate for the following packets.
func (e *Encoder) SetBitrate(bps int) error {
	if err := checkBitrate(bps); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enc.SetBitrate(bps); err != nil {
		return fmt.Errorf("opus: set bitrate %d: %w", bps, err)
	}
	return nil
}

// SetPacketLossPerc tells the encoder the loss receivers report, so the
// FEC it adds fits the network (1…100).
func (e *Encoder) SetPacketLossPerc(p int) error {
	if p < 1 || p > 100 {
		return fmt.Errorf("opus: packet loss %d%%: must be 1…100", p)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.enc.SetPacketLossPerc(p)
}

// Settings reports what libopus has in effect, for stats and tests.
type Settings struct {
	Bitrate        int
	InBandFEC      bool
	PacketLossPerc int
	DTX            bool
}

// Settings reads the encoder's settings back from libopus.
func (e *Encoder) Settings() (Settings, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s Settings
	var err1, err2, err3, err4 error
	s.Bitrate, err1 = e.enc.Bitrate()
	s.InBandFEC, err2 = e.enc.InBandFEC()
	s.PacketLossPerc, err3 = e.enc.PacketLossPerc()
	s.DTX, err4 = e.enc.DTX()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return s, fmt.Errorf("opus: read settings: %w", err)
	}
	return s, nil
}
