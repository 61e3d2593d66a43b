package pattern

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/big"
	"runtime"
	"testing"
	"time"

	"golang.org/x/image/draw"

	"segcast/engine"
)

// flashFrame is, independently of FrameNS, the first frame at or after
// second s: FrameNS(k) = floor(k·1e9·den/num) ≥ s·1e9 ⇔ k ≥ s·num/den.
func flashFrame(r engine.Rate, s int64) int64 {
	return (s*r.Num + r.Den - 1) / r.Den
}

func TestPatternIndexAndFlashEveryFrame(t *testing.T) {
	for _, r := range []engine.Rate{engine.Rate2997, engine.Rate25, engine.Rate23976, engine.Rate60} {
		seg := New(320, 180, r, 3*time.Second)
		flashes := map[int64]bool{}
		for s := int64(0); s < 3; s++ {
			flashes[flashFrame(r, s)] = true
		}
		n := seg.Frames.Len()
		if want := int(r.FramesIn(3e9)); n != want {
			t.Fatalf("%v: %d frames, want %d", r, n, want)
		}
		for i := range n {
			img, err := seg.Frames.Frame(i)
			if err != nil {
				t.Fatal(err)
			}
			if k, ok := ReadIndex(img); !ok || k != int64(i) {
				t.Fatalf("%v frame %d: index %d, %v", r, i, k, ok)
			}
			if got := IsFlash(img); got != flashes[int64(i)] {
				t.Fatalf("%v frame %d: IsFlash %v, want %v", r, i, got, flashes[int64(i)])
			}
		}
		if _, err := seg.Frames.Frame(n); err == nil {
			t.Errorf("%v: frame %d past the end accepted", r, n)
		}
	}
}

// A receiver sees the pattern scaled and compressed; the code must survive.
func TestPatternIndexSurvivesScalingAndJPEG(t *testing.T) {
	seg := New(640, 360, engine.Rate2997, 2*time.Second)
	for _, i := range []int{0, 1, 29, 30, 31, 59} {
		src, _ := seg.Frames.Frame(i)
		half := image.NewRGBA(image.Rect(0, 0, 320, 180))
		draw.ApproxBiLinear.Scale(half, half.Bounds(), src, src.Bounds(), draw.Src, nil)
		if k, ok := ReadIndex(half); !ok || k != int64(i) {
			t.Errorf("frame %d at half size: index %d, %v", i, k, ok)
		}
		if IsFlash(half) != (i == 0 || i == 30) {
			t.Errorf("frame %d at half size: IsFlash %v", i, IsFlash(half))
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, half, &jpeg.Options{Quality: 25}); err != nil {
			t.Fatal(err)
		}
		dec, err := jpeg.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if k, ok := ReadIndex(dec); !ok || k != int64(i) {
			t.Errorf("frame %d after JPEG q25: index %d, %v", i, k, ok)
		}
	}
}

func TestReadPatternIndexRejects(t *testing.T) {
	seg := New(320, 180, engine.Rate30, time.Second)
	img, _ := seg.Frames.Frame(7)
	// Flip one data cell: the CRC must catch it.
	bad := copyFrame(img)
	y0, y1 := codeBand(bad.Rect)
	x0, x1 := cellX(bad.Rect, 5)
	v := bad.Y[bad.YOffset(x0, y0)]
	fillLuma(bad, image.Rect(x0, y0, x1, y1), 255-v)
	if k, ok := ReadIndex(bad); ok {
		t.Errorf("one flipped bit decoded as %d", k)
	}
	// Grey in the middle of a cell is neither black nor white.
	fillLuma(bad, image.Rect(x0, y0, x1, y1), 128)
	if _, ok := ReadIndex(bad); ok {
		t.Error("grey cell accepted")
	}
	if _, ok := ReadIndex(IdleCard(320, 180)); ok {
		t.Error("idle frame has an index")
	}
	if _, ok := ReadIndex(image.NewGray(image.Rect(0, 0, 8, 8))); ok {
		t.Error("tiny image has an index")
	}
}

func TestPatternBeepOnsetAtFlash(t *testing.T) {
	for _, r := range []engine.Rate{engine.Rate2997, engine.Rate25, engine.Rate23976, engine.Rate60} {
		const secs = 4
		seg := New(64, 36, r, secs*time.Second)
		if seg.Audio.Len() != secs*engine.AudioRate {
			t.Fatalf("%v: %d samples", r, seg.Audio.Len())
		}
		all := make([]int16, 2*secs*engine.AudioRate)
		seg.Audio.Fill(all, 0)
		// Chunked fills at odd offsets give the same samples.
		part := make([]int16, 2*777)
		for off := int64(-500); off < secs*engine.AudioRate; off += 777 {
			seg.Audio.Fill(part, off)
			for i := range int64(777) {
				s := off + i
				want := int16(0)
				if s >= 0 && s < secs*engine.AudioRate {
					want = all[2*s]
				}
				if part[2*i] != want || part[2*i+1] != want {
					t.Fatalf("%v: Fill(off %d) sample %d = %d, want %d", r, off, s, part[2*i], want)
				}
			}
		}
		var onsets []int64
		for s := int64(0); s < secs*engine.AudioRate; s++ {
			if all[2*s] != 0 && quietBefore(all, s, 48) {
				onsets = append(onsets, s)
			}
		}
		if len(onsets) != secs {
			t.Fatalf("%v: %d beeps %v, want %d", r, len(onsets), onsets, secs)
		}
		for s, onset := range onsets {
			// The flash's media time in samples, exactly, with big rationals.
			k := flashFrame(r, int64(s))
			flashNS := new(big.Int).Mul(big.NewInt(k*r.Den), big.NewInt(1e9))
			flashNS.Quo(flashNS, big.NewInt(r.Num))
			x := new(big.Rat).SetFrac(flashNS, big.NewInt(1))
			x.Mul(x, big.NewRat(engine.AudioRate, 1e9))
			if !x.IsInt() || x.Num().Int64() != onset {
				t.Errorf("%v beep %d: onset sample %d, flash frame %d at sample %v", r, s, onset, k, x)
			}
			if all[2*onset] != beepAmplitude {
				t.Errorf("%v beep %d starts at %d, want full amplitude", r, s, all[2*onset])
			}
			// 40 ms long, then silence.
			for i := onset; i < onset+2*engine.AudioRate/25; i++ {
				loud := i < onset+beepSamples && (i-onset)%48 == 0
				if loud && all[2*i] != beepAmplitude || i >= onset+beepSamples && all[2*i] != 0 {
					t.Fatalf("%v beep %d: sample %d = %d", r, s, i, all[2*i])
				}
			}
		}
	}
}

// quietBefore reports whether the n stereo frames before s are silent.
func quietBefore(pcm []int16, s, n int64) bool {
	for i := max(0, s-n); i < s; i++ {
		if pcm[2*i] != 0 {
			return false
		}
	}
	return true
}

// An hour of pattern must not hold an hour of frames or sound.
func TestPatternHourIsLazy(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	seg := New(1280, 720, engine.Rate2997, time.Hour)
	img, err := seg.Frames.Frame(seg.Frames.Len() - 1)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := ReadIndex(img); !ok || k != int64(seg.Frames.Len()-1) {
		t.Fatalf("last frame index %d, %v", k, ok)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("an hour of pattern allocated %d MiB", grew>>20)
	}
	if b := seg.MemoryBytes(); b > 16<<20 {
		t.Errorf("MemoryBytes = %d", b)
	}
}

func TestIdleFrame(t *testing.T) {
	img := IdleCard(640, 360)
	if img.Rect.Dx() != 640 || img.Rect.Dy() != 360 || img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		t.Fatalf("idle frame %v %v", img.Rect, img.SubsampleRatio)
	}
	if m := meanLuma(img, img.Rect); m > 60 {
		t.Errorf("idle frame mean luma %.0f, want dark", m)
	}
	bright := 0
	for _, v := range img.Y {
		if v > 150 {
			bright++
		}
	}
	if bright < 500 {
		t.Errorf("idle frame has %d bright pixels: no text drawn", bright)
	}
	if IsFlash(img) {
		t.Error("idle frame reads as a flash")
	}
}

func FuzzReadIndex(f *testing.F) {
	seg := New(64, 36, engine.Rate30, time.Second)
	img, _ := seg.Frames.Frame(3)
	f.Add(uint8(64), img.Y[:64*36])
	f.Add(uint8(5), []byte{0, 255, 0, 255})
	f.Add(uint8(38), bytes.Repeat([]byte{255, 0}, 300))
	f.Fuzz(func(t *testing.T, w uint8, pix []byte) {
		if w == 0 || len(pix) > 1<<16 {
			return
		}
		h := len(pix) / int(w)
		g := image.NewGray(image.Rect(0, 0, int(w), h))
		copy(g.Pix, pix)
		if k, ok := ReadIndex(g); ok {
			if k < 0 || k >= 1<<codeBits {
				t.Fatalf("index %d out of range", k)
			}
		}
		_ = IsFlash(g)
	})
}
