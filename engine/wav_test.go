package engine

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

// wavSpec describes a WAV file for makeWAV.
type wavSpec struct {
	tag        uint16 // 1 PCM, 3 float; extensible wraps it
	extensible bool
	channels   int
	rate       int
	bits       int
}

// makeWAV encodes interleaved samples in [-1, 1] as a WAV file.
func makeWAV(s wavSpec, samples []float64) []byte {
	var data bytes.Buffer
	for _, v := range samples {
		switch {
		case s.tag == 3:
			binary.Write(&data, binary.LittleEndian, float32(v))
		case s.bits == 16:
			binary.Write(&data, binary.LittleEndian, int16(math.Round(v*32767)))
		case s.bits == 24:
			x := int32(math.Round(v * 8388607))
			data.Write([]byte{byte(x), byte(x >> 8), byte(x >> 16)})
		case s.bits == 32:
			binary.Write(&data, binary.LittleEndian, int32(math.Round(v*2147483647)))
		default:
			data.Write(make([]byte, s.bits/8))
		}
	}
	var fmtc bytes.Buffer
	tag := s.tag
	if s.extensible {
		tag = 0xFFFE
	}
	le := binary.LittleEndian
	binary.Write(&fmtc, le, tag)
	binary.Write(&fmtc, le, uint16(s.channels))
	binary.Write(&fmtc, le, uint32(s.rate))
	binary.Write(&fmtc, le, uint32(s.rate*s.channels*s.bits/8))
	binary.Write(&fmtc, le, uint16(s.channels*s.bits/8))
	binary.Write(&fmtc, le, uint16(s.bits))
	if s.extensible {
		binary.Write(&fmtc, le, uint16(22))
		binary.Write(&fmtc, le, uint16(s.bits))
		binary.Write(&fmtc, le, uint32(3)) // channel mask
		binary.Write(&fmtc, le, s.tag)
		fmtc.Write(wavGUIDTail)
	}
	var f bytes.Buffer
	f.WriteString("RIFF")
	binary.Write(&f, le, uint32(4+8+fmtc.Len()+8+8+data.Len()))
	f.WriteString("WAVE")
	f.WriteString("fmt ")
	binary.Write(&f, le, uint32(fmtc.Len()))
	f.Write(fmtc.Bytes())
	f.WriteString("LIST") // a chunk to skip, odd-sized to test the pad byte
	binary.Write(&f, le, uint32(3))
	f.Write([]byte{'a', 'b', 'c', 0})
	f.WriteString("data")
	binary.Write(&f, le, uint32(data.Len()))
	f.Write(data.Bytes())
	return f.Bytes()
}

func sineRamp(n, channels int) []float64 {
	s := make([]float64, n*channels)
	for i := range s {
		s[i] = math.Sin(float64(i)*0.01) * 0.9
	}
	return s
}

func TestReadWAVFormats(t *testing.T) {
	for _, s := range []wavSpec{
		{tag: 1, channels: 1, rate: 16000, bits: 16},
		{tag: 1, channels: 2, rate: 44100, bits: 16},
		{tag: 1, channels: 2, rate: 48000, bits: 24},
		{tag: 1, channels: 1, rate: 8000, bits: 32},
		{tag: 3, channels: 2, rate: 96000, bits: 32},
		{tag: 1, extensible: true, channels: 2, rate: 192000, bits: 24},
		{tag: 3, extensible: true, channels: 1, rate: 22050, bits: 32},
	} {
		in := sineRamp(1000, s.channels)
		w, err := ReadWAV(bytes.NewReader(makeWAV(s, in)), 1<<20)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if w.Rate != s.rate || w.Channels != s.channels || w.Bits != s.bits || w.Float != (s.tag == 3) {
			t.Errorf("%+v: got rate %d ch %d bits %d float %v", s, w.Rate, w.Channels, w.Bits, w.Float)
		}
		if len(w.Samples)/w.Channels != 1000 {
			t.Errorf("%+v: %d frames, want 1000", s, len(w.Samples)/w.Channels)
		}
		tol := 1.0 / 16000 // quantisation plus the 32767-vs-32768 scale
		for i, v := range in {
			if d := math.Abs(float64(w.Samples[i]) - v); d > tol {
				t.Fatalf("%+v: sample %d = %v, want %v", s, i, w.Samples[i], v)
			}
		}
	}
}

// A streaming writer's 0xFFFFFFFF data size means "to the end of file".
func TestReadWAVStreamingSize(t *testing.T) {
	b := makeWAV(wavSpec{tag: 1, channels: 1, rate: 16000, bits: 16}, sineRamp(100, 1))
	binary.LittleEndian.PutUint32(b[len(b)-200-4:], 0xFFFFFFFF)
	w, err := ReadWAV(bytes.NewReader(b), 1<<20)
	if err != nil || len(w.Samples)/w.Channels != 100 {
		t.Fatalf("got %d frames, %v; want 100", len(w.Samples)/w.Channels, err)
	}
}

func TestReadWAVErrors(t *testing.T) {
	good := makeWAV(wavSpec{tag: 1, channels: 2, rate: 16000, bits: 16}, sineRamp(100, 2))
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	fmtAt := 20 // fmt chunk body starts after RIFF(12) + "fmt "+size(8)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"wrong magic", mod(func(b []byte) []byte { copy(b, "RIFX"); return b }), "want RIFF/WAVE magic"},
		{"too short", good[:7], "too short"},
		{"ADPCM", mod(func(b []byte) []byte { b[fmtAt] = 2; return b }), "format tag 0x0002 is not PCM"},
		{"8 bit", makeWAV(wavSpec{tag: 1, channels: 1, rate: 16000, bits: 8}, sineRamp(10, 1)), "8-bit PCM is not supported"},
		{"3 channels", makeWAV(wavSpec{tag: 1, channels: 3, rate: 16000, bits: 16}, sineRamp(10, 3)), "3 channels"},
		{"rate", makeWAV(wavSpec{tag: 1, channels: 1, rate: 4000, bits: 16}, sineRamp(10, 1)), "sample rate 4000 Hz"},
		{"64-bit float", makeWAV(wavSpec{tag: 3, channels: 1, rate: 16000, bits: 64}, sineRamp(10, 1)), "64-bit float"},
		{"truncated", good[:len(good)-11], "data chunk truncated: header says 400 bytes, file has 389"},
		{"zero length", makeWAV(wavSpec{tag: 1, channels: 1, rate: 16000, bits: 16}, nil), "no audio samples"},
		{"no data", good[:12+8+16+12], "no data chunk"},
		{"no fmt", append([]byte("RIFF\x00\x00\x00\x00WAVE"), good[12+8+16+12:]...), "data chunk before fmt"},
		{"over limit", good, "over the limit"},
		{"block align", mod(func(b []byte) []byte { b[fmtAt+12] = 3; return b }), "block align 3, want 4"},
	}
	for _, c := range cases {
		limit := int64(1 << 20)
		if c.name == "over limit" {
			limit = 100
		}
		_, err := ReadWAV(bytes.NewReader(c.file), limit)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func FuzzReadWAV(f *testing.F) {
	f.Add(makeWAV(wavSpec{tag: 1, channels: 2, rate: 16000, bits: 16}, sineRamp(20, 2)))
	f.Add(makeWAV(wavSpec{tag: 1, channels: 1, rate: 44100, bits: 24}, sineRamp(20, 1)))
	f.Add(makeWAV(wavSpec{tag: 3, extensible: true, channels: 2, rate: 48000, bits: 32}, sineRamp(20, 2)))
	f.Add(makeWAV(wavSpec{tag: 1, channels: 1, rate: 8000, bits: 32}, nil))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ReadWAV(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		if w.Channels != 1 && w.Channels != 2 || w.Rate < 8000 || w.Rate > 192000 {
			t.Fatalf("accepted channels %d rate %d", w.Channels, w.Rate)
		}
		if len(w.Samples)/w.Channels == 0 || len(w.Samples)%w.Channels != 0 {
			t.Fatalf("accepted %d samples for %d channels", len(w.Samples), w.Channels)
		}
		for _, v := range w.Samples {
			if !(v >= -1 && v <= 1) {
				t.Fatalf("sample %v outside [-1, 1]", v)
			}
		}
		// Block by block, as loaders read, gives the same samples.
		r, err := NewWAVReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("ReadWAV accepted what NewWAVReader refuses: %v", err)
		}
		var got []float32
		buf := make([]float32, 3*r.Channels)
		for {
			n, err := r.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("block read: %v", err)
			}
		}
		if !slices.Equal(got, w.Samples) {
			t.Fatalf("block reads gave %d samples, ReadWAV %d", len(got), len(w.Samples))
		}
	})
}
