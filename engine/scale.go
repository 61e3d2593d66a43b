package engine

import (
	"image"
	"math"
)

// Frames are BT.601 limited range ("studio swing"), the range VP8 and the
// browsers assume: black is Y=16, U=V=128.
const (
	blackY = 16
	blackC = 128
)

// fitRect is where a picture of size src goes inside an out-sized frame:
// as large as fits with its aspect kept, centred, on even coordinates so
// that the 4:2:0 chroma planes line up.
func fitRect(src, out image.Point) image.Rectangle {
	dw, dh := out.X, out.Y
	if src.X*out.Y > out.X*src.Y { // wider than the frame: bars top and bottom
		dh = (src.Y*out.X + src.X/2) / src.X
	} else {
		dw = (src.X*out.Y + src.Y/2) / src.Y
	}
	dw, dh = evenAtMost(dw, out.X), evenAtMost(dh, out.Y)
	x0 := (out.X - dw) / 2 &^ 1
	y0 := (out.Y - dh) / 2 &^ 1
	return image.Rect(x0, y0, x0+dw, y0+dh)
}

// evenAtMost rounds n to an even value in [2, limit] (limit itself when it
// is odd and n reaches it, so that a frame is filled edge to edge).
func evenAtMost(n, limit int) int {
	if n >= limit {
		return limit
	}
	return max(2, (n+1)&^1)
}

// Letterbox scales src to fit an out-sized frame with black bars, as the
// loaders do (src itself when it already has that size); src is I420
// with its origin at 0,0. For producers that push frames of their own size.
func Letterbox(src *image.YCbCr, out image.Point) *image.YCbCr { return letterbox(src, out) }

// letterbox returns src scaled to fit an out-sized frame with black bars;
// src itself when it already has that size. Scaling runs once per frame at
// load time with a Catmull-Rom kernel, which keeps edges and text crisp.
func letterbox(src *image.YCbCr, out image.Point) *image.YCbCr {
	sb := src.Rect
	if sb.Dx() == out.X && sb.Dy() == out.Y {
		return src
	}
	dst := image.NewYCbCr(image.Rect(0, 0, out.X, out.Y), image.YCbCrSubsampleRatio420)
	fillPlane(dst.Y, blackY)
	fillPlane(dst.Cb, blackC)
	fillPlane(dst.Cr, blackC)
	r := fitRect(sb.Size(), out)
	cr := image.Rect(r.Min.X/2, r.Min.Y/2, (r.Max.X+1)/2, (r.Max.Y+1)/2)
	scalePlane(yPlane(dst), r, yPlane(src))
	scalePlane(cPlane(dst, dst.Cb), cr, cPlane(src, src.Cb))
	scalePlane(cPlane(dst, dst.Cr), cr, cPlane(src, src.Cr))
	return dst
}

// cropRect is the part of a src-sized picture that covers an out-sized
// frame with its aspect kept: the whole of one side, the other trimmed
// equally at both ends, on even coordinates so that the 4:2:0 chroma
// planes line up.
func cropRect(src, out image.Point) image.Rectangle {
	w, h := src.X, src.Y
	if src.X*out.Y > out.X*src.Y { // wider than the frame: trim left and right
		w = evenAtMost((src.Y*out.X+out.Y/2)/out.Y, src.X)
	} else {
		h = evenAtMost((src.X*out.Y+out.X/2)/out.X, src.Y)
	}
	x0 := (src.X - w) / 2 &^ 1
	y0 := (src.Y - h) / 2 &^ 1
	return image.Rect(x0, y0, x0+w, y0+h)
}

// fill returns src scaled to cover an out-sized frame, the overflow
// cropped (centred); src itself when it already has that size.
func fill(src *image.YCbCr, out image.Point) *image.YCbCr {
	sb := src.Rect
	if sb.Dx() == out.X && sb.Dy() == out.Y {
		return src
	}
	dst := image.NewYCbCr(image.Rect(0, 0, out.X, out.Y), image.YCbCrSubsampleRatio420)
	c := cropRect(sb.Size(), out)
	cc := image.Rect(c.Min.X/2, c.Min.Y/2, (c.Max.X+1)/2, (c.Max.Y+1)/2)
	full := image.Rect(0, 0, out.X, out.Y)
	scalePlane(yPlane(dst), full, subPlane(yPlane(src), c))
	fullC := image.Rect(0, 0, (out.X+1)/2, (out.Y+1)/2)
	scalePlane(cPlane(dst, dst.Cb), fullC, subPlane(cPlane(src, src.Cb), cc))
	scalePlane(cPlane(dst, dst.Cr), fullC, subPlane(cPlane(src, src.Cr), cc))
	return dst
}

// subPlane views the r part of g as a grey image whose origin is 0,0.
func subPlane(g *image.Gray, r image.Rectangle) *image.Gray {
	return &image.Gray{Pix: g.Pix[r.Min.Y*g.Stride+r.Min.X:], Stride: g.Stride, Rect: image.Rect(0, 0, r.Dx(), r.Dy())}
}

// fitFrame scales src to an out-sized frame: letterboxed, or cropped to
// cover it when fillFrame is set (LoadOptions.Fill).
func fitFrame(src *image.YCbCr, out image.Point, fillFrame bool) *image.YCbCr {
	if fillFrame {
		return fill(src, out)
	}
	return letterbox(src, out)
}

func fillPlane(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// yPlane views the luma plane of a packed I420 image as a grey image.
func yPlane(m *image.YCbCr) *image.Gray {
	return &image.Gray{Pix: m.Y, Stride: m.YStride, Rect: image.Rect(0, 0, m.Rect.Dx(), m.Rect.Dy())}
}

// cPlane views one chroma plane of a packed I420 image as a grey image.
func cPlane(m *image.YCbCr, p []byte) *image.Gray {
	return &image.Gray{Pix: p, Stride: m.CStride, Rect: image.Rect(0, 0, (m.Rect.Dx()+1)/2, (m.Rect.Dy()+1)/2)}
}

// scalePlane scales src into the dr part of dst, separably: rows first
// into 8.8 fixed point, then columns. It is written here rather than taken
// from x/image/draw because draw has no fast path for Gray destinations:
// its CatmullRom takes 3–4× the CPU for the same result (within ±2 levels,
// TestLetterboxMatchesXImageDraw; BenchmarkLetterbox), and this runs for
// every frame of a clip whose size differs from the output.
func scalePlane(dst *image.Gray, dr image.Rectangle, src *image.Gray) {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := dr.Dx(), dr.Dy()
	xi, xw, xn := catmullRomTaps(sw, dw)
	yi, yw, yn := catmullRomTaps(sh, dh)
	tmp := make([]int32, dw*sh)
	for y := range sh {
		row := src.Pix[y*src.Stride : y*src.Stride+sw]
		out := tmp[y*dw : (y+1)*dw]
		for x := range out {
			ws, is := xw[x*xn:(x+1)*xn], xi[x*xn:(x+1)*xn]
			var acc int32
			for t, w := range ws {
				acc += w * int32(row[is[t]])
			}
			out[x] = (acc + 1<<5) >> 6 // 14-bit weights → 8 fraction bits
		}
	}
	// Columns tap whole rows of tmp at a time: sequential memory access.
	acc := make([]int32, dw)
	for y := range dh {
		clear(acc)
		for t := y * yn; t < (y+1)*yn; t++ {
			w, in := yw[t], tmp[int(yi[t])*dw:int(yi[t]+1)*dw]
			for x, v := range in {
				acc[x] += w * v
			}
		}
		out := dst.Pix[dst.PixOffset(dr.Min.X, dr.Min.Y+y):][:dw]
		for x, a := range acc {
			out[x] = uint8(max(0, min(255, (a+1<<21)>>22)))
		}
	}
}

// catmullRomTaps returns, for each of dstN outputs, n source indices
// (clamped at the edges) and 14-bit weights that sum to 1<<14. When
// shrinking, the kernel widens by the ratio so it also low-passes.
func catmullRomTaps(srcN, dstN int) (idx []int32, w []int32, n int) {
	scale := max(1, float64(srcN)/float64(dstN))
	support := 2 * scale
	n = int(math.Ceil(2 * support))
	idx, w = make([]int32, dstN*n), make([]int32, dstN*n)
	f := make([]float64, n)
	for i := range dstN {
		center := (float64(i)+0.5)*float64(srcN)/float64(dstN) - 0.5
		first := int(math.Floor(center-support)) + 1
		var sum float64
		for t := range n {
			f[t] = catmullRom((float64(first+t) - center) / scale)
			sum += f[t]
		}
		var isum int32
		big := 0
		for t := range n {
			k := i*n + t
			idx[k] = int32(max(0, min(srcN-1, first+t)))
			w[k] = int32(math.Round(f[t] / sum * (1 << 14)))
			isum += w[k]
			if f[t] > f[big] {
				big = t
			}
		}
		w[i*n+big] += 1<<14 - isum // exact unity gain: flat areas stay flat
	}
	return idx, w, n
}

// catmullRom is the cubic convolution kernel with a = −0.5.
func catmullRom(x float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return (1.5*x-2.5)*x*x + 1
	case x < 2:
		return ((-0.5*x+2.5)*x-4)*x + 2
	}
	return 0
}
