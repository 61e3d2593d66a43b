package engine

import (
	"segcast/bench"

	"image"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/draw"
)

func TestFitRect(t *testing.T) {
	for _, c := range []struct {
		src, out image.Point
		want     image.Rectangle
	}{
		{image.Pt(320, 240), image.Pt(1280, 720), image.Rect(160, 0, 1120, 720)}, // 4:3 in 16:9: pillarbox
		{image.Pt(1920, 1080), image.Pt(640, 480), image.Rect(0, 60, 640, 420)},  // 16:9 in 4:3: letterbox
		{image.Pt(640, 360), image.Pt(1280, 720), image.Rect(0, 0, 1280, 720)},   // same aspect
		{image.Pt(100, 100), image.Pt(1280, 720), image.Rect(280, 0, 1000, 720)},
		{image.Pt(101, 99), image.Pt(320, 240), image.Rect(36, 0, 282, 240)}, // odd sizes: even edges
		{image.Pt(1000, 10), image.Pt(64, 48), image.Rect(0, 22, 64, 24)},    // at least 2 rows
	} {
		if got := fitRect(c.src, c.out); got != c.want {
			t.Errorf("%v in %v: got %v, want %v", c.src, c.out, got, c.want)
		}
	}
}

// A 320x240 white frame in 1280x720: black bars left and right, picture
// in between, chroma neutral throughout.
func TestLetterbox(t *testing.T) {
	src := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
	fillPlane(src.Y, 235)
	fillPlane(src.Cb, 100)
	fillPlane(src.Cr, 200)
	out := letterbox(src, image.Pt(1280, 720))
	if out.Rect != image.Rect(0, 0, 1280, 720) || out.YStride != 1280 || out.CStride != 640 {
		t.Fatalf("rect %v strides %d/%d", out.Rect, out.YStride, out.CStride)
	}
	for _, y := range []int{0, 359, 719} {
		for _, x := range []int{0, 159, 160, 640, 1119, 1120, 1279} {
			want := uint8(blackY)
			if x >= 160 && x < 1120 {
				want = 235
			}
			if got := out.Y[y*out.YStride+x]; got != want {
				t.Errorf("Y at %d,%d = %d, want %d", x, y, got, want)
			}
			wantCb, wantCr := uint8(blackC), uint8(blackC)
			if x >= 160 && x < 1120 {
				wantCb, wantCr = 100, 200
			}
			if i := out.COffset(x, y); out.Cb[i] != wantCb || out.Cr[i] != wantCr {
				t.Errorf("CbCr at %d,%d = %d,%d, want %d,%d", x, y, out.Cb[i], out.Cr[i], wantCb, wantCr)
			}
		}
	}
	if letterbox(src, image.Pt(320, 240)) != src {
		t.Error("same size: want the frame itself")
	}
}

// A gradient survives scaling: the kernel interpolates, it does not
// repeat or drop pixels.
func TestLetterboxInterpolates(t *testing.T) {
	src := image.NewYCbCr(image.Rect(0, 0, 64, 32), image.YCbCrSubsampleRatio420)
	for y := range 32 {
		for x := range 64 {
			src.Y[y*64+x] = uint8(16 + 3*x)
		}
	}
	fillPlane(src.Cb, 128)
	fillPlane(src.Cr, 128)
	out := letterbox(src, image.Pt(256, 128))
	for x := 8; x < 248; x++ { // away from the edges, where the kernel clamps
		// Output pixel x samples the source at (x+0.5)/4 − 0.5.
		want := 16 + 3*((float64(x)+0.5)/4-0.5)
		got := float64(out.Y[64*256+x])
		if d := got - want; d < -1 || d > 1 {
			t.Fatalf("Y at x=%d: %v, want about %.1f", x, got, want)
		}
	}
}

// drawLetterbox is letterbox done with x/image/draw, for comparison.
func drawLetterbox(src *image.YCbCr, out image.Point, k draw.Interpolator) *image.YCbCr {
	dst := image.NewYCbCr(image.Rect(0, 0, out.X, out.Y), image.YCbCrSubsampleRatio420)
	r := fitRect(src.Rect.Size(), out)
	cr := image.Rect(r.Min.X/2, r.Min.Y/2, (r.Max.X+1)/2, (r.Max.Y+1)/2)
	k.Scale(yPlane(dst), r, yPlane(src), yPlane(src).Rect, draw.Src, nil)
	k.Scale(cPlane(dst, dst.Cb), cr, cPlane(src, src.Cb), cPlane(src, src.Cb).Rect, draw.Src, nil)
	k.Scale(cPlane(dst, dst.Cr), cr, cPlane(src, src.Cr), cPlane(src, src.Cr).Rect, draw.Src, nil)
	return dst
}

// Our scaler and x/image/draw's CatmullRom agree to within rounding.
func TestLetterboxMatchesXImageDraw(t *testing.T) {
	for _, c := range []struct{ src, out image.Point }{{image.Pt(320, 240), image.Pt(1280, 720)}, {image.Pt(1280, 720), image.Pt(640, 480)}} {
		src := naturalFrame(c.src.X, c.src.Y, 3, rand.New(rand.NewPCG(1, 1)))
		ours := letterbox(src, c.out)
		ref := drawLetterbox(src, c.out, draw.CatmullRom)
		r := fitRect(c.src, c.out)
		var worst int
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				d := int(ours.Y[y*ours.YStride+x]) - int(ref.Y[y*ref.YStride+x])
				worst = max(worst, d, -d)
			}
		}
		if worst > 2 {
			t.Errorf("%v→%v: luma differs from x/image/draw by up to %d", c.src, c.out, worst)
		}
	}
}

func BenchmarkLetterbox(b *testing.B) {
	for _, c := range []struct {
		name     string
		src, out image.Point
	}{
		{"640x480to1280x720", image.Pt(640, 480), image.Pt(1280, 720)},
		{"1920x1080to1280x720", image.Pt(1920, 1080), image.Pt(1280, 720)},
	} {
		src := testFrame(c.src.X, c.src.Y, 1)
		b.Run("ours/"+c.name, func(b *testing.B) {
			cpu0 := bench.ProcessCPU()
			for b.Loop() {
				letterbox(src, c.out)
			}
			b.ReportMetric(float64(bench.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
		for _, k := range []struct {
			name string
			k    draw.Interpolator
		}{{"CatmullRom", draw.CatmullRom}, {"ApproxBiLinear", draw.ApproxBiLinear}} {
			b.Run("xdraw"+k.name+"/"+c.name, func(b *testing.B) {
				cpu0 := bench.ProcessCPU()
				for b.Loop() {
					drawLetterbox(src, c.out, k.k)
				}
				b.ReportMetric(float64(bench.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

func TestCropRect(t *testing.T) {
	for _, c := range []struct {
		src, out image.Point
		want     image.Rectangle
	}{
		{image.Pt(720, 1280), image.Pt(1280, 720), image.Rect(0, 436, 720, 842)},    // portrait filling landscape
		{image.Pt(1920, 1080), image.Pt(720, 1280), image.Rect(656, 0, 1264, 1080)}, // landscape filling portrait
		{image.Pt(1280, 720), image.Pt(1080, 1080), image.Rect(280, 0, 1000, 720)},  // into a square
		{image.Pt(640, 360), image.Pt(1280, 720), image.Rect(0, 0, 640, 360)},       // same aspect: all of it
	} {
		got := cropRect(c.src, c.out)
		if got != c.want {
			t.Errorf("%v filling %v: got %v, want %v", c.src, c.out, got, c.want)
		}
		if got.Min.X%2 != 0 || got.Min.Y%2 != 0 || got.Dx()%2 != 0 || got.Dy()%2 != 0 {
			t.Errorf("%v filling %v: %v not on even coordinates", c.src, c.out, got)
		}
	}
}

// A portrait picture in three bands (dark top, white middle, grey bottom)
// filling a landscape frame: only the middle band is left, edge to edge,
// with no bars; the chroma of the middle band survives.
func TestFillCrops(t *testing.T) {
	src := image.NewYCbCr(image.Rect(0, 0, 360, 640), image.YCbCrSubsampleRatio420)
	for y := range 640 {
		v := uint8(235)
		switch {
		case y < 200:
			v = 30
		case y >= 440:
			v = 120
		}
		for x := range 360 {
			src.Y[y*src.YStride+x] = v
		}
	}
	fillPlane(src.Cb, 90)
	fillPlane(src.Cr, 170)
	out := fitFrame(src, image.Pt(640, 360), true)
	if out.Rect != image.Rect(0, 0, 640, 360) {
		t.Fatalf("rect %v", out.Rect)
	}
	for _, y := range []int{2, 180, 357} {
		for _, x := range []int{0, 320, 639} {
			if got := out.Y[y*out.YStride+x]; got != 235 {
				t.Errorf("Y at %d,%d = %d, want the middle band's 235", x, y, got)
			}
			if i := out.COffset(x, y); out.Cb[i] != 90 || out.Cr[i] != 170 {
				t.Errorf("CbCr at %d,%d = %d,%d, want 90,170", x, y, out.Cb[i], out.Cr[i])
			}
		}
	}
	if fitFrame(src, image.Pt(360, 640), true) != src {
		t.Error("same size: want the frame itself")
	}
	if lb := fitFrame(src, image.Pt(640, 360), false); lb.Y[180*lb.YStride] != blackY {
		t.Error("fill off: want the letterboxed frame's bar at the left edge")
	}
}
