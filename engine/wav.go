package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// WAV is a decoded WAV file: interleaved samples scaled to [-1, 1] at the
// file's own rate. Resample48k turns it into the 48 kHz PCM segments hold.
type WAV struct {
	Rate     int  // sample rate in Hz
	Channels int  // 1 or 2
	Bits     int  // bits per sample in the file: 16, 24 or 32
	Float    bool // IEEE float samples (32-bit)
	Samples  []float32
}

// Frames is the number of sample frames (one sample per channel).
func (w WAV) Frames() int { return len(w.Samples) / w.Channels }

// WAV format tags and the GUID tail shared by WAVE_FORMAT_EXTENSIBLE's
// KSDATAFORMAT_SUBTYPE_PCM and _IEEE_FLOAT (the tag sits in the first 2 bytes).
const (
	wavFormatPCM        = 1
	wavFormatFloat      = 3
	wavFormatExtensible = 0xFFFE
	wavMinRate          = 8000
	wavMaxRate          = 192000
	// wavMaxFmt bounds the fmt chunk, the only one besides data we hold
	// (others are skipped as they stream past).
	wavMaxFmt = 1024
	// wavStreamSize is the data size streaming writers (ffmpeg to a pipe)
	// leave in the header: the data runs to the end of the file.
	wavStreamSize = 0xFFFFFFFF
)

var wavGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// DefaultWAVLimit bounds the data chunk ReadWAV accepts from a file when the
// caller has no better figure: one hour of 48 kHz stereo float.
const DefaultWAVLimit = 3600 * 48000 * 2 * 4

// ReadWAV parses a RIFF WAVE stream: PCM 16/24/32-bit integer or 32-bit
// float (plain or WAVE_FORMAT_EXTENSIBLE), mono or stereo, 8–192 kHz. The
// data chunk may be at most limit bytes. A data chunk shorter than its
// header says is an error, not a shorter sound: a truncated file is a
// broken copy or one still being written, and playing part of it silently
// hides that. The one exception is the size 0xFFFFFFFF that streaming
// writers leave, meaning "to the end of the file".
func ReadWAV(r io.Reader, limit int64) (WAV, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return WAV{}, fmt.Errorf("not a WAV file: too short for a RIFF header")
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return WAV{}, fmt.Errorf("not a WAV file: want RIFF/WAVE magic, got %q/%q", hdr[0:4], hdr[8:12])
	}
	var w WAV
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if !haveFmt {
				return WAV{}, fmt.Errorf("no fmt chunk")
			}
			return WAV{}, fmt.Errorf("no data chunk")
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > wavMaxFmt {
				return WAV{}, fmt.Errorf("fmt chunk: size %d, want 16..%d", size, wavMaxFmt)
			}
			buf := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return WAV{}, fmt.Errorf("fmt chunk: truncated")
			}
			if err := w.parseFmt(buf[:size]); err != nil {
				return WAV{}, fmt.Errorf("fmt chunk: %w", err)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return WAV{}, fmt.Errorf("data chunk before fmt chunk")
			}
			return w, w.readData(r, size, limit)
		default:
			// LIST, fact, cue… : skip, with the pad byte of odd sizes.
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return WAV{}, fmt.Errorf("%q chunk: truncated", id)
			}
		}
	}
}

func (w *WAV) parseFmt(b []byte) error {
	tag := binary.LittleEndian.Uint16(b[0:2])
	w.Channels = int(binary.LittleEndian.Uint16(b[2:4]))
	w.Rate = int(binary.LittleEndian.Uint32(b[4:8]))
	blockAlign := int(binary.LittleEndian.Uint16(b[12:14]))
	w.Bits = int(binary.LittleEndian.Uint16(b[14:16]))
	if tag == wavFormatExtensible {
		if len(b) < 40 {
			return fmt.Errorf("WAVE_FORMAT_EXTENSIBLE with %d bytes, want 40", len(b))
		}
		// Containers wider than their samples (20 bits in 24) play fine
		// at the container width: the low bits are zero.
		if valid := int(binary.LittleEndian.Uint16(b[18:20])); valid > w.Bits {
			return fmt.Errorf("%d valid bits in a %d-bit container", valid, w.Bits)
		}
		if !bytes.Equal(b[26:40], wavGUIDTail) {
			return fmt.Errorf("unsupported WAVE_FORMAT_EXTENSIBLE subformat %x", b[24:40])
		}
		tag = binary.LittleEndian.Uint16(b[24:26])
	}
	switch tag {
	case wavFormatPCM:
		if w.Bits != 16 && w.Bits != 24 && w.Bits != 32 {
			return fmt.Errorf("%d-bit PCM is not supported (want 16, 24 or 32)", w.Bits)
		}
	case wavFormatFloat:
		if w.Bits != 32 {
			return fmt.Errorf("%d-bit float is not supported (want 32)", w.Bits)
		}
		w.Float = true
	default:
		return fmt.Errorf("format tag 0x%04x is not PCM or IEEE float (compressed WAVs are not supported)", tag)
	}
	if w.Channels != 1 && w.Channels != 2 {
		return fmt.Errorf("%d channels, want 1 or 2", w.Channels)
	}
	if w.Rate < wavMinRate || w.Rate > wavMaxRate {
		return fmt.Errorf("sample rate %d Hz, want %d..%d", w.Rate, wavMinRate, wavMaxRate)
	}
	if want := w.Channels * w.Bits / 8; blockAlign != want {
		return fmt.Errorf("block align %d, want %d for %d channels of %d bits", blockAlign, want, w.Channels, w.Bits)
	}
	return nil
}

func (w *WAV) readData(r io.Reader, size, limit int64) error {
	var raw []byte
	if size == wavStreamSize {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return fmt.Errorf("data chunk: %w", err)
		}
		if int64(len(b)) > limit {
			return fmt.Errorf("data chunk: over the limit of %d MiB", limit>>20)
		}
		raw = b
	} else {
		if size > limit {
			return fmt.Errorf("data chunk: %d MiB, over the limit of %d MiB", size>>20, limit>>20)
		}
		// ReadAll grows as bytes arrive, so a header lying about the size
		// costs no more memory than the file really has.
		b, err := io.ReadAll(io.LimitReader(r, size))
		if err != nil {
			return fmt.Errorf("data chunk: %w", err)
		}
		if int64(len(b)) < size {
			return fmt.Errorf("data chunk truncated: header says %d bytes, file has %d", size, len(b))
		}
		raw = b
	}
	bps := w.Bits / 8
	frames := len(raw) / (bps * w.Channels)
	if frames == 0 {
		return errors.New("no audio samples")
	}
	raw = raw[:frames*bps*w.Channels]
	w.Samples = make([]float32, frames*w.Channels)
	for i := range w.Samples {
		b := raw[i*bps:]
		switch {
		case w.Float:
			v := math.Float32frombits(binary.LittleEndian.Uint32(b))
			if v != v { // NaN would poison the resampler's sums
				v = 0
			}
			w.Samples[i] = max(-1, min(1, v))
		case bps == 2:
			w.Samples[i] = float32(int16(binary.LittleEndian.Uint16(b))) / (1 << 15)
		case bps == 3:
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			w.Samples[i] = float32(v) / (1 << 23)
		default:
			w.Samples[i] = float32(float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31))
		}
	}
	return nil
}
