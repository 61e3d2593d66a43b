package opusenc

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hraban/opus"
)

// MaxPacketBytes bounds a packet given to the decoder: Opus over RTP fits
// in one datagram, and anything larger is not ours.
const MaxPacketBytes = 1500

// maxFrameSamples is the longest Opus packet, 120 ms, per channel.
const maxFrameSamples = SampleRate * 120 / 1000

// Decoder decodes Opus packets to 48 kHz interleaved stereo. It is for
// tests and in-process receivers. Safe for concurrent use.
type Decoder struct {
	mu  sync.Mutex
	dec *opus.Decoder
	pcm [maxFrameSamples * Channels]int16
}

// NewDecoder opens an Opus decoder for 48 kHz stereo.
func NewDecoder() (*Decoder, error) {
	dec, err := opus.NewDecoder(SampleRate, Channels)
	if err != nil {
		return nil, fmt.Errorf("opus: open decoder: %w", err)
	}
	return &Decoder{dec: dec}, nil
}

func checkPacket(pkt []byte) error {
	if len(pkt) == 0 {
		return errors.New("opus: decode: empty packet")
	}
	if len(pkt) > MaxPacketBytes {
		return fmt.Errorf("opus: decode: packet of %d bytes exceeds %d", len(pkt), MaxPacketBytes)
	}
	return nil
}

// Decode decodes one packet and returns its interleaved samples in a new slice.
func (d *Decoder) Decode(pkt []byte) ([]int16, error) {
	if err := checkPacket(pkt); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n, err := d.dec.Decode(pkt, d.pcm[:])
	if err != nil {
		return nil, fmt.Errorf("opus: decode %d bytes: %w", len(pkt), err)
	}
	return append([]int16(nil), d.pcm[:n*Channels]...), nil
}

// DecodeFEC rebuilds the 20 ms lost just before next from the FEC data
// inside next (or conceals it when next has none). Call Decode(next) after.
func (d *Decoder) DecodeFEC(next []byte) ([]int16, error) {
	if err := checkPacket(next); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	pcm := make([]int16, FrameSamples*Channels)
	if err := d.dec.DecodeFEC(next, pcm); err != nil {
		return nil, fmt.Errorf("opus: decode FEC from %d bytes: %w", len(next), err)
	}
	return pcm, nil
}
