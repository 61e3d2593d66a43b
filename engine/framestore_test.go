package engine

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// psnr compares the luma and chroma of two same-sized I420 images.
func psnrI420(a, b *image.YCbCr) float64 {
	var se float64
	var n int
	for _, p := range [][2][]byte{{a.Y, b.Y}, {a.Cb, b.Cb}, {a.Cr, b.Cr}} {
		for i := range p[0] {
			d := float64(p[0][i]) - float64(p[1][i])
			se += d * d
		}
		n += len(p[0])
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// naturalFrame is "real-looking" content: smooth gradients that move with
// k, some fine texture (sensor noise) and a few hard edges.
func naturalFrame(w, h, k int, rng *rand.Rand) *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			v := 60 + 80*math.Sin(float64(x+3*k)/90)*math.Cos(float64(y-k)/70) + 40*float64(y)/float64(h)
			if (x/160+y/120)%5 == 0 { // blocks with sharp edges
				v += 50
			}
			v += rng.NormFloat64() * 2
			m.Y[y*m.YStride+x] = uint8(max(16, min(235, v)))
		}
	}
	for y := range (h + 1) / 2 {
		for x := range (w + 1) / 2 {
			m.Cb[y*m.CStride+x] = uint8(128 + 30*math.Sin(float64(x+k)/50))
			m.Cr[y*m.CStride+x] = uint8(128 + 30*math.Cos(float64(y)/40))
		}
	}
	return m
}

func TestMemTotal(t *testing.T) {
	got, err := memTotal(strings.NewReader("MemFree:  10 kB\nMemTotal:       24684084 kB\n"))
	if err != nil || got != 24684084*1024 {
		t.Errorf("got %d, %v", got, err)
	}
	if _, err := memTotal(strings.NewReader("MemFree: 10 kB\n")); err == nil {
		t.Error("no MemTotal line: want an error")
	}
	if b := DefaultBudget(); b < 64<<20 {
		t.Errorf("DefaultBudget = %d, implausibly small", b)
	}
}

// build stores frames through a frameBuilder as a loader does.
func buildFrames(t testing.TB, store *FrameStore, frames []*image.YCbCr) (FrameSource, error) {
	b, err := newFrameBuilder(store, frames[0].Rect.Dx(), frames[0].Rect.Dy(), len(frames))
	if err != nil {
		return nil, err
	}
	for _, f := range frames {
		if _, err := b.add(f); err != nil {
			b.abort()
			return nil, err
		}
	}
	return b.finish(), nil
}

func TestFrameStoreAllRawWhenItFits(t *testing.T) {
	frames := testFrames(64, 48, 10)
	store := NewFrameStore(10 * frameBytes(64, 48)) // exactly enough
	src, err := buildFrames(t, store, frames)
	if err != nil {
		t.Fatal(err)
	}
	if src.Bytes() != 10*frameBytes(64, 48) || store.Used() != src.Bytes() {
		t.Errorf("Bytes %d Used %d, want %d", src.Bytes(), store.Used(), 10*frameBytes(64, 48))
	}
	for k := range frames {
		if f, _ := src.Frame(k); f != frames[k] {
			t.Errorf("frame %d: not the raw frame", k)
		}
	}
	src.Release()
	if store.Used() != 0 {
		t.Errorf("Used after Release = %d", store.Used())
	}
}

// With a budget for half the frames raw (8 of them go to the decode cache), the rest are
// compressed, everything stays in the budget, and compressed frames come
// back close to the originals.
func TestFrameStoreCompressesBeyondBudget(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 30
	frames := make([]*image.YCbCr, n)
	for k := range frames {
		frames[k] = naturalFrame(320, 240, k, rng)
	}
	raw := frameBytes(320, 240)
	store := NewFrameStore(n * raw / 2)
	src, err := buildFrames(t, store, frames)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Release()
	s := src.(*storedFrames)
	if s.compressed == 0 || s.compressed == n {
		t.Fatalf("%d of %d frames compressed, want some but not all", s.compressed, n)
	}
	if store.Used() > store.Budget() || store.Used() != src.Bytes() {
		t.Errorf("Used %d Bytes %d Budget %d", store.Used(), src.Bytes(), store.Budget())
	}
	for k := range frames {
		src.Prefetch(k)
		f, err := src.Frame(k)
		if err != nil {
			t.Fatal(err)
		}
		if f.Rect != frames[k].Rect || f.YStride != 320 || f.CStride != 160 {
			t.Fatalf("frame %d: rect %v strides %d/%d", k, f.Rect, f.YStride, f.CStride)
		}
		if p := psnrI420(f, frames[k]); p < 38 {
			t.Errorf("frame %d: PSNR %.1f dB, want ≥ 38", k, p)
		}
	}
}

// Readers and the prefetch worker share the cache; run with -race.
func TestFrameStoreConcurrentReaders(t *testing.T) {
	frames := testFrames(64, 48, 40)
	store := NewFrameStore(25 * frameBytes(64, 48))
	src, err := buildFrames(t, store, frames)
	if err != nil {
		t.Fatal(err)
	}
	if c := src.(*storedFrames).compressed; c == 0 || c == 40 {
		t.Fatalf("%d of 40 frames compressed, want some but not all", c)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range 40 {
				i := (k + 10*g) % 40
				src.Prefetch(i)
				f, err := src.Frame(i)
				if err != nil {
					t.Error(err)
					return
				}
				if p := psnrI420(f, frames[i]); p < 30 {
					t.Errorf("frame %d: PSNR %.1f", i, p)
				}
			}
		})
	}
	wg.Wait()
	src.Release()
	if _, err := src.Frame(0); err == nil {
		t.Error("Frame after Release: want an error")
	}
	if store.Used() != 0 {
		t.Errorf("Used after Release = %d", store.Used())
	}
}

// A load that cannot fit even compressed is refused, names what it needs
// and what is left, and gives back everything it took; what was loaded
// before stays.
func TestFrameStoreRefusesOverBudget(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	store := NewFrameStore(1 << 20)
	first, err := buildFrames(t, store, testFrames(160, 120, 10)) // 281 KiB raw
	if err != nil {
		t.Fatal(err)
	}
	used := store.Used()
	noisy := make([]*image.YCbCr, 600) // about 2 MiB compressed
	for k := range noisy {
		noisy[k] = naturalFrame(160, 120, k, rng)
	}
	b, err := newFrameBuilder(store, 160, 120, len(noisy))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range noisy {
		if _, err = b.add(f); err != nil {
			break
		}
	}
	added := len(b.s.raw)
	b.abort()
	var be *BudgetError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a *BudgetError", err)
	}
	if added > len(noisy)/3 {
		t.Errorf("refused after %d frames: want an early refusal", added)
	}
	t.Logf("refused after %d of %d frames: %v", added, len(noisy), err)
	if be.Left != 1<<20-used || be.Need <= be.Left {
		t.Errorf("Need %d Left %d (used before %d)", be.Need, be.Left, used)
	}
	if !strings.Contains(err.Error(), "MiB") {
		t.Errorf("message %q does not say how much", err)
	}
	if store.Used() != used || first.Bytes() != used {
		t.Errorf("Used %d after the refused load, want %d", store.Used(), used)
	}
	if _, err := first.Frame(9); err != nil {
		t.Errorf("first segment broken: %v", err)
	}
}

// Frames that compress worse than the first one made the estimate expect
// are handled by compressing raw frames already held.
func TestFrameStoreDemotesRawFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	frames := make([]*image.YCbCr, 40)
	for k := range frames {
		if k < 5 {
			frames[k] = testFrame(320, 240, 0) // simple: small JPEG
			for i := range frames[k].Y {
				frames[k].Y[i] = 16
			}
		} else {
			frames[k] = naturalFrame(320, 240, k, rng)
		}
	}
	store := NewFrameStore(20 * frameBytes(320, 240))
	b, err := newFrameBuilder(store, 320, 240, len(frames))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if _, err := b.add(f); err != nil {
			t.Fatal(err)
		}
	}
	if b.demoted == 0 {
		t.Error("no raw frame was compressed later: the case is not exercised")
	}
	src := b.finish()
	defer src.Release()
	if store.Used() > store.Budget() {
		t.Errorf("Used %d over Budget %d", store.Used(), store.Budget())
	}
	for k := range frames {
		f, err := src.Frame(k)
		if err != nil || psnrI420(f, frames[k]) < 38 {
			t.Fatalf("frame %d: %v", k, err)
		}
	}
}

// Ten minutes of 720p30 (18000 frames) must fit in 2 GiB compressed:
// measured on ffmpeg's testsrc2 (moving, sharp-edged synthetic content)
// and on gradients with sensor-like noise, the harder case for JPEG.
func TestTenMinutes720pFitIn2GiB(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	natural := make([]*image.YCbCr, 10)
	for k := range natural {
		natural[k] = naturalFrame(1280, 720, k, rng)
	}
	sources := map[string][]*image.YCbCr{"gradients+noise": natural}
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		sources["testsrc2"] = ffmpegFrames(t, "testsrc2=size=1280x720:rate=30", 30)
	} else {
		t.Log("ffmpeg not on PATH: testsrc2 content not measured")
	}
	for name, frames := range sources {
		var total int64
		minPSNR := math.Inf(1)
		for _, f := range frames {
			data, err := encodeFrame(f)
			if err != nil {
				t.Fatal(err)
			}
			total += int64(len(data))
			back, err := decodeFrame(data)
			if err != nil {
				t.Fatal(err)
			}
			minPSNR = min(minPSNR, psnrI420(back, f))
		}
		mean := total / int64(len(frames))
		tenMin := 18000*mean + cacheFrames*frameBytes(1280, 720)
		t.Logf("720p %s: %d bytes/frame compressed, min PSNR %.1f dB; 10 min = %d MiB", name, mean, minPSNR, tenMin>>20)
		if tenMin > 2<<30 {
			t.Errorf("%s: 10 min of 720p30 needs %d MiB, over 2 GiB", name, tenMin>>20)
		}
		if minPSNR < 40 {
			t.Errorf("%s: min PSNR %.1f dB, want ≥ 40", name, minPSNR)
		}
	}
}
