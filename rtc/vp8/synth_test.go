package vp8

import (
	"image"
	"math"
)

// talkingHead draws frame k of a mostly static picture: a textured
// background that never changes and a "head" region (about a sixth of the
// frame) that sways and whose "mouth" opens and closes, like an avatar clip.
func talkingHead(w, h, k int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			// Soft gradient plus fixed fine texture: real backgrounds are not flat.
			img.Y[y*img.YStride+x] = uint8(60 + 80*x/w + 30*y/h + int((x*7+y*13)%9))
		}
	}
	for y := range (h + 1) / 2 {
		for x := range (w + 1) / 2 {
			img.Cb[y*img.CStride+x] = uint8(110 + 20*x/w)
			img.Cr[y*img.CStride+x] = uint8(130 + 20*y/h)
		}
	}
	t := float64(k) / 30
	cx := float64(w)/2 + float64(w)/40*math.Sin(2*math.Pi*0.4*t)
	cy := float64(h)/2 + float64(h)/60*math.Sin(2*math.Pi*0.3*t)
	rx, ry := float64(w)/7, float64(h)/4
	mouth := 0.5 + 0.5*math.Sin(2*math.Pi*3*t) // opens 3 times a second
	for y := int(cy - ry); y < int(cy+ry); y++ {
		for x := int(cx - rx); x < int(cx+rx); x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			if x < 0 || y < 0 || x >= w || y >= h || dx*dx+dy*dy > 1 {
				continue
			}
			v := 170 + 40*dx - 30*dy // shaded skin
			if math.Abs(dx) < 0.35 && dy > 0.35 && dy < 0.35+0.25*mouth {
				v = 40
			}
			if (math.Abs(dx+0.35) < 0.1 || math.Abs(dx-0.35) < 0.1) && math.Abs(dy+0.25) < 0.06 {
				v = 30 // eyes
			}
			img.Y[y*img.YStride+x] = uint8(v)
			img.Cb[(y/2)*img.CStride+x/2] = 100
			img.Cr[(y/2)*img.CStride+x/2] = 160
		}
	}
	return img
}

// fullMotion draws frame k of a picture where everything moves, like
// ffmpeg's testsrc: diagonal colour bands and a checkerboard scrolling at
// different speeds, plus a moving bright bar.
func fullMotion(w, h, k int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			band := uint8((x + y + 5*k) * 2)
			checker := uint8(0)
			if ((x+3*k)/16+(y+k)/16)%2 == 0 {
				checker = 60
			}
			v := band/2 + checker
			if (x-7*k%w+w)%w < w/20 {
				v = 235
			}
			img.Y[y*img.YStride+x] = v
		}
	}
	for y := range (h + 1) / 2 {
		for x := range (w + 1) / 2 {
			img.Cb[y*img.CStride+x] = uint8(x*2 + k*3)
			img.Cr[y*img.CStride+x] = uint8(y*2 - k*2)
		}
	}
	return img
}

// psnrY is the luma PSNR in dB between two pictures of the same size.
func psnrY(a, b *image.YCbCr) float64 {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	var se float64
	for y := range h {
		ra := a.Y[a.YOffset(a.Rect.Min.X, a.Rect.Min.Y+y):]
		rb := b.Y[b.YOffset(b.Rect.Min.X, b.Rect.Min.Y+y):]
		for x := range w {
			d := float64(ra[x]) - float64(rb[x])
			se += d * d
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(w*h)/se)
}
