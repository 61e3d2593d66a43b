package engine

import (
	"context"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"segcast/bench"
	"strconv"
	"testing"

	"golang.org/x/image/draw"
)

const benchFrames = 30

// benchContent is 30 frames of 720p: ffmpeg's testsrc2 when ffmpeg is
// there, else the synthetic gradients-and-noise frames.
func benchContent(b *testing.B) []*image.YCbCr {
	if _, err := os.Stat("/usr/bin/ffmpeg"); err == nil {
		return ffmpegFrames(b, "testsrc2=size=1280x720:rate=30", benchFrames)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	fs := make([]*image.YCbCr, benchFrames)
	for k := range fs {
		fs[k] = naturalFrame(1280, 720, k, rng)
	}
	return fs
}

// benchLoad loads path b.N times and reports frames/s and bytes held per
// frame.
func benchLoad(b *testing.B, path string, budget int64) {
	var held int64
	cpu0 := bench.ProcessCPU()
	for b.Loop() {
		seg, err := Load(context.Background(), path, LoadOptions{Store: NewFrameStore(budget)})
		if err != nil {
			b.Fatal(err)
		}
		held = seg.MemoryBytes() / int64(seg.Frames.Len())
		seg.Release()
	}
	b.ReportMetric(float64(b.N*benchFrames)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(held), "bytes/frame")
	b.ReportMetric(float64(bench.ProcessCPU()-cpu0)/float64(b.N*benchFrames), "cpu-ns/frame")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkLoadY4M720p(b *testing.B) {
	path := filepath.Join(b.TempDir(), "clip.y4m")
	writeTestFile(b, path, makeY4M("W1280 H720 F30:1", benchContent(b)))
	b.Run("raw", func(b *testing.B) { benchLoad(b, path, 1<<30) })
	// A budget with room for the decode cache only: every frame compressed.
	b.Run("compressed", func(b *testing.B) { benchLoad(b, path, (cacheFrames+2)*frameBytes(1280, 720)) })
}

func BenchmarkLoadPNGFolder720p(b *testing.B) {
	dir := b.TempDir()
	for k, f := range benchContent(b) {
		rgba := image.NewRGBA(f.Rect)
		draw.Draw(rgba, rgba.Rect, f, image.Point{}, draw.Src)
		out, err := os.Create(filepath.Join(dir, "frame"+strconv.Itoa(k)+".png"))
		if err != nil {
			b.Fatal(err)
		}
		if err := png.Encode(out, rgba); err != nil {
			b.Fatal(err)
		}
		out.Close()
	}
	b.Run("raw", func(b *testing.B) { benchLoad(b, dir, 1<<30) })
}

// Frame access from the compressed store: a cache miss decodes the JPEG.
func BenchmarkCompressedFrame720p(b *testing.B) {
	frames := benchContent(b)
	data := make([][]byte, len(frames))
	var size int
	for k, f := range frames {
		var err error
		if data[k], err = encodeFrame(f); err != nil {
			b.Fatal(err)
		}
		size += len(data[k])
	}
	b.Run("decode", func(b *testing.B) {
		k := 0
		cpu0 := bench.ProcessCPU()
		for b.Loop() {
			if _, err := decodeFrame(data[k%len(data)]); err != nil {
				b.Fatal(err)
			}
			k++
		}
		b.ReportMetric(float64(bench.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/frame")
		b.ReportMetric(float64(size/len(data)), "bytes/frame")
	})
	b.Run("encode", func(b *testing.B) {
		k := 0
		cpu0 := bench.ProcessCPU()
		for b.Loop() {
			if _, err := encodeFrame(frames[k%len(frames)]); err != nil {
				b.Fatal(err)
			}
			k++
		}
		b.ReportMetric(float64(bench.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/frame")
	})
}
