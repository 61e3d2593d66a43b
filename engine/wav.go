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
	wr, err := NewWAVReader(r)
	if err != nil {
		return WAV{}, err
	}
	if wr.DataBytes > limit {
		return WAV{}, fmt.Errorf("data chunk: %d MiB, over the limit of %d MiB", wr.DataBytes>>20, limit>>20)
	}
	w := wr.WAV
	buf := make([]float32, 1<<14)
	for {
		n, err := wr.Read(buf)
		// Appending as bytes arrive: a header lying about the size costs
		// no more memory than the file really has.
		w.Samples = append(w.Samples, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return WAV{}, err
		}
		if wr.read > limit {
			return WAV{}, fmt.Errorf("data chunk: over the limit of %d MiB", limit>>20)
		}
	}
	if len(w.Samples) == 0 {
		return WAV{}, errors.New("no audio samples")
	}
	return w, nil
}

// WAVReader decodes a WAV stream's samples block by block, so that a long
// file is never held whole as bytes: a loader checks from the header what
// the sound will cost, then converts it as it reads.
type WAVReader struct {
	WAV // the format; Samples stays empty
	// DataBytes is the data chunk's size from the header, or -1 when a
	// streaming writer left it open (the data runs to the end of the file).
	DataBytes int64
	// HeaderBytes is where the data starts in the file.
	HeaderBytes int64
	r           io.Reader
	read        int64 // data bytes read so far
	raw         []byte
}

// NewWAVReader parses the header up to the start of the data chunk.
func NewWAVReader(r io.Reader) (*WAVReader, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("not a WAV file: too short for a RIFF header")
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("not a WAV file: want RIFF/WAVE magic, got %q/%q", hdr[0:4], hdr[8:12])
	}
	w := &WAVReader{r: r, HeaderBytes: int64(len(hdr))}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if !haveFmt {
				return nil, fmt.Errorf("no fmt chunk")
			}
			return nil, fmt.Errorf("no data chunk")
		}
		w.HeaderBytes += int64(len(ch))
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > wavMaxFmt {
				return nil, fmt.Errorf("fmt chunk: size %d, want 16..%d", size, wavMaxFmt)
			}
			buf := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, fmt.Errorf("fmt chunk: truncated")
			}
			if err := w.parseFmt(buf[:size]); err != nil {
				return nil, fmt.Errorf("fmt chunk: %w", err)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("data chunk before fmt chunk")
			}
			w.DataBytes = size
			if size == wavStreamSize {
				w.DataBytes = -1
			}
			return w, nil
		default:
			// LIST, fact, cue… : skip, with the pad byte of odd sizes.
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return nil, fmt.Errorf("%q chunk: truncated", id)
			}
		}
		w.HeaderBytes += size + size%2
	}
}

// frameBytes is the size of one sample frame in the file.
func (w *WAVReader) frameBytes() int64 { return int64(w.Bits / 8 * w.Channels) }

// Frames is the number of sample frames the data holds: from the header,
// or from dataBytes (what the file has after the header) when the header
// leaves the size open.
func (w *WAVReader) Frames(dataBytes int64) int64 {
	if w.DataBytes >= 0 {
		dataBytes = w.DataBytes
	}
	return dataBytes / w.frameBytes()
}

// Read decodes whole sample frames into dst (interleaved, scaled to
// [-1, 1]) and returns how many samples it wrote. After the last frame it
// returns io.EOF; a data chunk that ends before its header's size is an
// error. A dangling part of a frame at the end is dropped.
func (w *WAVReader) Read(dst []float32) (int, error) {
	fb := w.frameBytes()
	want := int64(len(dst)/w.Channels) * fb
	if w.DataBytes >= 0 {
		left := w.DataBytes - w.read
		if left < fb { // done, but for a dangling part of a frame
			return 0, w.skip(left)
		}
		want = min(want, left/fb*fb)
	}
	if int64(cap(w.raw)) < want {
		w.raw = make([]byte, want)
	}
	raw := w.raw[:want]
	n, err := io.ReadFull(w.r, raw)
	w.read += int64(n)
	switch {
	case err == nil:
	case (err == io.EOF || err == io.ErrUnexpectedEOF) && w.DataBytes < 0:
		err = nil
		if n < int(fb) {
			err = io.EOF
		}
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return 0, w.truncated()
	default:
		return 0, fmt.Errorf("data chunk: %w", err)
	}
	frames := n / int(fb)
	w.decode(dst[:frames*w.Channels], raw)
	return frames * w.Channels, err
}

// skip reads past the last n bytes of the data chunk, then reports io.EOF.
func (w *WAVReader) skip(n int64) error {
	got, err := io.CopyN(io.Discard, w.r, n)
	w.read += got
	if err != nil {
		return w.truncated()
	}
	return io.EOF
}

func (w *WAVReader) truncated() error {
	return fmt.Errorf("data chunk truncated: header says %d bytes, file has %d", w.DataBytes, w.read)
}

// decode converts whole frames of raw into dst.
func (w *WAVReader) decode(dst []float32, raw []byte) {
	bps := w.Bits / 8
	for i := range dst {
		b := raw[i*bps:]
		switch {
		case w.Float:
			v := math.Float32frombits(binary.LittleEndian.Uint32(b))
			if v != v { // NaN would poison the resampler's sums
				v = 0
			}
			dst[i] = max(-1, min(1, v))
		case bps == 2:
			dst[i] = float32(int16(binary.LittleEndian.Uint16(b))) / (1 << 15)
		case bps == 3:
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			dst[i] = float32(v) / (1 << 23)
		default:
			dst[i] = float32(float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31))
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
