package vp8

import (
	"fmt"
	"image"
	"testing"

	"segcast/bench"
)

// frames720 draws two seconds of 720p content, looped by the benchmarks.
func frames720(draw func(w, h, k int) *image.YCbCr) []*image.YCbCr {
	fs := make([]*image.YCbCr, 60)
	for k := range fs {
		fs[k] = draw(1280, 720, k)
	}
	return fs
}

// BenchmarkEncode720p30 encodes 1280x720 at 30 fps and 1.5 Mbps the way
// the stream does and reports CPU seconds per media second (the share of
// one core a live stream costs), the bitrate reached and the luma PSNR.
// Use -benchtime=300x (10 s of media) or more: libvpx's speed adapts over
// the first frames.
func BenchmarkEncode720p30(b *testing.B) {
	contents := []struct {
		name string
		draw func(w, h, k int) *image.YCbCr
	}{{"talking", talkingHead}, {"motion", fullMotion}}
	type setting struct {
		tuning
		threads int
	}
	settings := []setting{
		{tuning{8, staticThreshold}, 2},
		{tuning{8, staticThreshold}, 1},
		{tuning{4, staticThreshold}, 2},
		{tuning{0, staticThreshold}, 2},
		{tuning{-8, staticThreshold}, 2},
		{tuning{-8, staticThreshold}, 1},
		{tuning{-12, staticThreshold}, 1},
		{tuning{8, 100}, 2},
		{tuning{-8, 100}, 1},
		{tuning{-8, 1000}, 1},
	}
	for _, c := range contents {
		frames := frames720(c.draw)
		for _, s := range settings {
			name := fmt.Sprintf("%s/cpu%d/threads%d/static%d", c.name, s.cpuUsed, s.threads, s.staticThresh)
			b.Run(name, func(b *testing.B) { benchEncode(b, frames, s.tuning, s.threads) })
		}
	}
}

func benchEncode(b *testing.B, frames []*image.YCbCr, tu tuning, threads int) {
	cfg, err := EncoderConfig{Width: 1280, Height: 720, FPSNum: 30, FPSDen: 1, Threads: threads}.withDefaults()
	if err != nil {
		b.Fatal(err)
	}
	e, err := newEncoder(cfg, tu)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	out := make([][]byte, 0, b.N)
	cpu0 := bench.ProcessCPU()
	b.ResetTimer()
	for i := range b.N {
		fs, err := e.Encode(frames[i%len(frames)], int64(i), false)
		if err != nil || len(fs) != 1 {
			b.Fatalf("frame %d: %v (%d frames)", i, err, len(fs))
		}
		out = append(out, fs[0].Data)
	}
	b.StopTimer()
	cpu := bench.ProcessCPU() - cpu0
	media := float64(b.N) / 30
	total := 0
	for _, f := range out {
		total += len(f)
	}
	b.ReportMetric(cpu.Seconds()/media, "cpu-s/media-s")
	b.ReportMetric(float64(total*8)/media/1000, "kbps")
	b.ReportMetric(meanPSNR(b, out, frames), "dB")
}

// meanPSNR decodes the encoded frames and averages their luma PSNR
// against the sources, skipping the first second while rate control settles.
func meanPSNR(b *testing.B, out [][]byte, frames []*image.YCbCr) float64 {
	d, err := NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	var sum float64
	n := 0
	for i, f := range out {
		img, err := d.Decode(f)
		if err != nil {
			b.Fatal(err)
		}
		if i >= 30 {
			sum += psnrY(frames[i%len(frames)], img)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// BenchmarkCopyFrame720p is what copying a 720p I420 frame into C memory
// would cost per frame (a plain memmove); Encode avoids it by passing the
// planes directly.
func BenchmarkCopyFrame720p(b *testing.B) {
	src := fullMotion(1280, 720, 0)
	dst := make([]byte, len(src.Y)+len(src.Cb)+len(src.Cr))
	b.SetBytes(int64(len(dst)))
	for b.Loop() {
		n := copy(dst, src.Y)
		n += copy(dst[n:], src.Cb)
		copy(dst[n:], src.Cr)
	}
}

// BenchmarkDecode720p decodes 720p frames (the in-process receiver's cost).
func BenchmarkDecode720p(b *testing.B) {
	frames := frames720(fullMotion)
	e, err := NewEncoder(EncoderConfig{Width: 1280, Height: 720, FPSNum: 30, FPSDen: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var data [][]byte
	for k, img := range frames {
		fs, err := e.Encode(img, int64(k), false)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, fs[0].Data)
	}
	d, err := NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	cpu0 := bench.ProcessCPU()
	b.ResetTimer()
	for i := range b.N {
		if _, err := d.Decode(data[i%len(data)]); err != nil { // wraps at the keyframe
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((bench.ProcessCPU()-cpu0).Seconds()/(float64(b.N)/30), "cpu-s/media-s")
}
