package vp8

import (
	"bytes"
	"image"
	"strings"
	"sync"
	"testing"
)

func newTestEncoder(t testing.TB, cfg EncoderConfig) *Encoder {
	t.Helper()
	e, err := NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func newTestDecoder(t testing.TB) *Decoder {
	t.Helper()
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// encodeOne encodes a frame and insists on exactly one packet out.
func encodeOne(t testing.TB, e *Encoder, img *image.YCbCr, pts int64, key bool) Frame {
	t.Helper()
	fs, err := e.Encode(img, pts, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 {
		t.Fatalf("pts %d: got %d frames, want 1", pts, len(fs))
	}
	return fs[0]
}

func TestRoundTripPSNR(t *testing.T) {
	const w, h, n = 320, 240, 60
	// Fixed speed: positive CPUUsed adapts to wall-clock time (see config.go).
	e := newTestEncoder(t, EncoderConfig{Width: w, Height: h, FPSNum: 30, FPSDen: 1, Bitrate: 600_000, CPUUsed: -8, Threads: 1})
	d := newTestDecoder(t)
	for _, gen := range []struct {
		name string
		draw func(w, h, k int) *image.YCbCr
	}{{"talking", talkingHead}, {"motion", fullMotion}} {
		var sum, worst float64 = 0, 1000
		for k := range n {
			src := gen.draw(w, h, k)
			pts := int64(k)
			if gen.name == "motion" {
				pts += n
			}
			f := encodeOne(t, e, src, pts, false)
			got, err := d.Decode(f.Data)
			if err != nil {
				t.Fatalf("%s frame %d: %v", gen.name, k, err)
			}
			if got.Rect != src.Rect {
				t.Fatalf("%s frame %d: decoded %v, want %v", gen.name, k, got.Rect, src.Rect)
			}
			p := psnrY(src, got)
			sum += p
			worst = min(worst, p)
			// The decoded picture must be this frame, not a neighbour.
			if k > 0 && gen.name == "motion" {
				if prev := psnrY(gen.draw(w, h, k-1), got); prev >= p {
					t.Errorf("%s frame %d: PSNR against frame %d (%.1f dB) ≥ against itself (%.1f dB)", gen.name, k, k-1, prev, p)
				}
			}
		}
		avg := sum / n
		t.Logf("%s: PSNR avg %.1f dB, worst %.1f dB", gen.name, avg, worst)
		if avg < 30 || worst < 24 {
			t.Errorf("%s: PSNR avg %.1f dB worst %.1f dB, want ≥ 30 and ≥ 24", gen.name, avg, worst)
		}
	}
}

func TestKeyframes(t *testing.T) {
	const w, h = 320, 240
	e := newTestEncoder(t, EncoderConfig{Width: w, Height: h, FPSNum: 30, FPSDen: 1, Bitrate: 500_000})
	for k := range 30 {
		force := k == 12 || k == 13
		f := encodeOne(t, e, talkingHead(w, h, k), int64(k), force)
		want := k == 0 || force
		if f.Key != want {
			t.Errorf("frame %d (forced %v): Key=%v, want %v", k, force, f.Key, want)
		}
		// VP8's frame tag: bit 0 of the first byte is 0 for a keyframe.
		if tagKey := f.Data[0]&1 == 0; tagKey != f.Key {
			t.Errorf("frame %d: Key=%v but frame tag says keyframe=%v", k, f.Key, tagKey)
		}
	}
}

func TestKeyframeInterval(t *testing.T) {
	const w, h = 160, 120
	e := newTestEncoder(t, EncoderConfig{Width: w, Height: h, FPSNum: 30, FPSDen: 1, KeyframeInterval: 7})
	last := 0
	keys := 0
	for k := range 50 {
		if encodeOne(t, e, talkingHead(w, h, k), int64(k), false).Key {
			if k-last > 7 {
				t.Errorf("keyframes at %d and %d: gap above interval 7", last, k)
			}
			last = k
			keys++
		}
	}
	if 49-last > 7 || keys < 7 {
		t.Errorf("%d keyframes in 50 frames with interval 7, last at %d", keys, last)
	}
}

// bytesOver encodes frames [from, to) of the full-motion sequence and
// returns the bytes produced.
func bytesOver(t *testing.T, e *Encoder, from, to int) int {
	total := 0
	for k := from; k < to; k++ {
		total += len(encodeOne(t, e, fullMotion(320, 240, k), int64(k), false).Data)
	}
	return total
}

// Full-motion 320x240 content needs about 360 kbps at the highest
// quantizer, so the low setting stays above that floor. A fixed speed on
// one thread keeps libvpx from adapting to wall-clock encode time, which
// would make the result depend on machine load.
func TestSetBitrate(t *testing.T) {
	e := newTestEncoder(t, EncoderConfig{Width: 320, Height: 240, FPSNum: 30, FPSDen: 1, Bitrate: 400_000, CPUUsed: -8, Threads: 1})
	bytesOver(t, e, 0, 30) // settle past the first keyframe
	low := bytesOver(t, e, 30, 90)
	if err := e.SetBitrate(1_600_000); err != nil {
		t.Fatal(err)
	}
	bytesOver(t, e, 90, 120) // the rate controller needs a moment
	high := bytesOver(t, e, 120, 180)
	lowBps, highBps := low*8/2, high*8/2 // 60 frames = 2 s
	t.Logf("at 400 kbps: %d bps; at 1600 kbps: %d bps", lowBps, highBps)
	if highBps < 5*lowBps/2 {
		t.Errorf("4x bitrate gave %d bps against %d bps, want at least 2.5x", highBps, lowBps)
	}
	// Each setting is roughly honoured (CBR, ±25%).
	for _, c := range []struct{ got, want int }{{lowBps, 400_000}, {highBps, 1_600_000}} {
		if c.got < c.want*3/4 || c.got > c.want*5/4 {
			t.Errorf("output %d bps, target %d", c.got, c.want)
		}
	}
	if got := e.Config().Bitrate; got != 1_600_000 {
		t.Errorf("Config().Bitrate = %d", got)
	}
	if err := e.SetBitrate(5); err == nil || !strings.Contains(err.Error(), "bitrate 5") {
		t.Errorf("SetBitrate(5): %v, want an error naming the bitrate", err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  EncoderConfig
		want string
	}{
		{EncoderConfig{Width: 321, Height: 240, FPSNum: 30, FPSDen: 1}, "size 321x240: width and height must be even"},
		{EncoderConfig{Width: 320, Height: 241, FPSNum: 30, FPSDen: 1}, "size 320x241: width and height must be even"},
		{EncoderConfig{Width: 0, Height: 240, FPSNum: 30, FPSDen: 1}, "size 0x240"},
		{EncoderConfig{Width: 320, Height: 0, FPSNum: 30, FPSDen: 1}, "size 320x0"},
		{EncoderConfig{Width: -2, Height: 240, FPSNum: 30, FPSDen: 1}, "size -2x240"},
		{EncoderConfig{Width: 16384, Height: 240, FPSNum: 30, FPSDen: 1}, "size 16384x240"},
		{EncoderConfig{Width: 320, Height: 240}, "rate 0/0: must be positive"},
		{EncoderConfig{Width: 320, Height: 240, FPSNum: 30, FPSDen: 1, Bitrate: 1}, "bitrate 1 bps"},
		{EncoderConfig{Width: 320, Height: 240, FPSNum: 30, FPSDen: 1, CPUUsed: 17}, "CPUUsed 17"},
		{EncoderConfig{Width: 320, Height: 240, FPSNum: 30, FPSDen: 1, Threads: -1}, "Threads -1"},
		{EncoderConfig{Width: 320, Height: 240, FPSNum: 30, FPSDen: 1, KeyframeInterval: -5}, "KeyframeInterval -5"},
	} {
		e, err := NewEncoder(c.cfg)
		if err == nil {
			e.Close()
			t.Errorf("%+v: no error", c.cfg)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %q, want it to contain %q", c.cfg, err, c.want)
		}
	}
}

func TestBadImages(t *testing.T) {
	e := newTestEncoder(t, EncoderConfig{Width: 64, Height: 48, FPSNum: 30, FPSDen: 1})
	short := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420)
	short.Y = short.Y[:len(short.Y)-1]
	for _, c := range []struct {
		img  *image.YCbCr
		want string
	}{
		{nil, "nil image"},
		{image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio444), "want 4:2:0"},
		{image.NewYCbCr(image.Rect(0, 0, 66, 48), image.YCbCrSubsampleRatio420), "image is 66x48, encoder is 64x48"},
		{short, "planes shorter"},
	} {
		if _, err := e.Encode(c.img, 0, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want error containing %q", err, c.want)
		}
	}
}

func TestPTSMustIncrease(t *testing.T) {
	e := newTestEncoder(t, EncoderConfig{Width: 64, Height: 48, FPSNum: 30, FPSDen: 1})
	img := talkingHead(64, 48, 0)
	encodeOne(t, e, img, 5, false)
	encodeOne(t, e, img, 9, false) // a jump over skipped frames is fine
	if _, err := e.Encode(img, 9, false); err == nil || !strings.Contains(err.Error(), "pts 9 not after previous 9") {
		t.Errorf("repeated pts: %v", err)
	}
}

// A sub-image with strides wider than the frame and an offset origin must
// encode exactly like a tightly packed copy of the same pixels.
func TestStridedSubimage(t *testing.T) {
	const w, h = 160, 120
	big := fullMotion(400, 300, 3)
	sub := big.SubImage(image.Rect(40, 30, 40+w, 30+h)).(*image.YCbCr)
	packed := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		copy(packed.Y[y*packed.YStride:][:w], sub.Y[sub.YOffset(40, 30+y):])
	}
	for y := range h / 2 {
		copy(packed.Cb[y*packed.CStride:][:w/2], sub.Cb[sub.COffset(40, 30+2*y):])
		copy(packed.Cr[y*packed.CStride:][:w/2], sub.Cr[sub.COffset(40, 30+2*y):])
	}
	// Fixed speed and one thread make libvpx deterministic.
	cfg := EncoderConfig{Width: w, Height: h, FPSNum: 30, FPSDen: 1, CPUUsed: -8, Threads: 1}
	a := encodeOne(t, newTestEncoder(t, cfg), sub, 0, false)
	b := encodeOne(t, newTestEncoder(t, cfg), packed, 0, false)
	if !bytes.Equal(a.Data, b.Data) {
		t.Fatalf("sub-image and packed copy encode differently (%d vs %d bytes)", len(a.Data), len(b.Data))
	}
	got, err := newTestDecoder(t).Decode(a.Data)
	if err != nil {
		t.Fatal(err)
	}
	if p := psnrY(packed, got); p < 30 {
		t.Errorf("PSNR %.1f dB", p)
	}
}

func TestClosed(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{Width: 64, Height: 48, FPSNum: 30, FPSDen: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close()
	if _, err := e.Encode(talkingHead(64, 48, 0), 0, false); err == nil {
		t.Error("Encode after Close: no error")
	}
	if err := e.SetBitrate(500_000); err == nil {
		t.Error("SetBitrate after Close: no error")
	}
}

// SetBitrate from another goroutine while encoding (run with -race).
func TestConcurrentSetBitrate(t *testing.T) {
	e := newTestEncoder(t, EncoderConfig{Width: 160, Height: 120, FPSNum: 30, FPSDen: 1})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 50 {
			if err := e.SetBitrate(100_000 + 10_000*i); err != nil {
				t.Error(err)
			}
		}
	})
	for k := range 50 {
		encodeOne(t, e, talkingHead(160, 120, k), int64(k), false)
	}
	wg.Wait()
}

// libvpx must not keep pointers into our planes after Encode returns:
// scribbling over each frame's memory right after encoding it must not
// change any later output.
func TestEncodeDoesNotRetainImage(t *testing.T) {
	cfg := EncoderConfig{Width: 160, Height: 120, FPSNum: 30, FPSDen: 1, CPUUsed: -8, Threads: 1}
	clean, dirty := newTestEncoder(t, cfg), newTestEncoder(t, cfg)
	for k := range 20 {
		a := encodeOne(t, clean, talkingHead(160, 120, k), int64(k), false)
		img := talkingHead(160, 120, k)
		b := encodeOne(t, dirty, img, int64(k), false)
		for _, p := range [][]byte{img.Y, img.Cb, img.Cr} {
			for i := range p {
				p[i] = 0xff
			}
		}
		if !bytes.Equal(a.Data, b.Data) {
			t.Fatalf("frame %d differs after the previous frame's memory was overwritten", k)
		}
	}
}

// A rational rate becomes libvpx's timebase; the keyframe default is 10 s.
func TestNTSCRateDefaults(t *testing.T) {
	e := newTestEncoder(t, EncoderConfig{Width: 64, Height: 48, FPSNum: 30000, FPSDen: 1001})
	got := e.Config()
	want := EncoderConfig{Width: 64, Height: 48, FPSNum: 30000, FPSDen: 1001, Bitrate: DefaultBitrate,
		CPUUsed: DefaultCPUUsed, Threads: DefaultThreads, KeyframeInterval: 299}
	if got != want {
		t.Errorf("config %+v, want %+v", got, want)
	}
	for k := range 10 {
		if f := encodeOne(t, e, talkingHead(64, 48, k), int64(k), false); f.Key != (k == 0) {
			t.Errorf("frame %d: Key=%v", k, f.Key)
		}
	}
}
