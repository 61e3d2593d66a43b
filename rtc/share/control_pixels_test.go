package share

import (
	"image"
	"image/color"
	"testing"
)

// The bgr24/rgb24 conversion matches Go's own BT.601 (full-range) maths
// mapped to limited range, and i420 passes through.
func TestRawToI420(t *testing.T) {
	const w, h = 5, 3 // odd: the last chroma column and row cover one pixel
	bgr := make([]byte, 3*w*h)
	for i := range bgr {
		bgr[i] = byte(i * 37)
	}
	img := toI420(pixBGR24, bgr, w, h)
	rgb := make([]byte, len(bgr))
	for i := 0; i < len(bgr); i += 3 {
		rgb[i], rgb[i+1], rgb[i+2] = bgr[i+2], bgr[i+1], bgr[i]
	}
	if img2 := toI420(pixRGB24, rgb, w, h); string(img2.Y) != string(img.Y) || string(img2.Cb) != string(img.Cb) || string(img2.Cr) != string(img.Cr) {
		t.Fatal("rgb24 and bgr24 of the same picture differ")
	}
	for y := range h {
		for x := range w {
			p := bgr[3*(y*w+x):]
			yy, _, _ := color.RGBToYCbCr(p[2], p[1], p[0])
			want := 16 + (int(yy)*219+127)/255
			if got := int(img.Y[y*w+x]); got < want-1 || got > want+1 {
				t.Errorf("Y(%d,%d) = %d, want %d±1", x, y, got, want)
			}
		}
	}
	// The bottom-right chroma sample covers the lone corner pixel.
	p := bgr[3*(w*h-1):]
	_, cb, cr := color.RGBToYCbCr(p[2], p[1], p[0])
	wantCb, wantCr := 16+(int(cb)*224+127)/255, 16+(int(cr)*224+127)/255
	if got := img.Cb[len(img.Cb)-1]; int(got) < wantCb-1 || int(got) > wantCb+1 {
		t.Errorf("corner Cb %d, want %d±1", got, wantCb)
	}
	if got := img.Cr[len(img.Cr)-1]; int(got) < wantCr-1 || int(got) > wantCr+1 {
		t.Errorf("corner Cr %d, want %d±1", got, wantCr)
	}
	raw := make([]byte, w*h+2*3*2)
	for i := range raw {
		raw[i] = byte(i)
	}
	i420 := toI420(pixI420, raw, w, h)
	if string(append(append(append([]byte{}, i420.Y...), i420.Cb...), i420.Cr...)) != string(raw) || i420.Rect != image.Rect(0, 0, w, h) {
		t.Fatal("i420 does not pass through")
	}
}

// BenchmarkRawToI420 converts one 720p bgr24 frame, as a live producer's
// every frame is.
// Run: go test -run XXX -bench RawToI420 ./rtc/share/
func BenchmarkRawToI420(b *testing.B) {
	const w, h = 1280, 720
	raw := make([]byte, 3*w*h)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		toI420(pixBGR24, raw, w, h)
	}
}
