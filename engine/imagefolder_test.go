package engine

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writePNG writes a w×h PNG filled with c.
func writePNG(t testing.TB, path string, w, h int, c color.Color) {
	t.Helper()
	writeImage(t, path, w, h, c, png.Encode)
}

// writeJPEG writes a w×h JPEG (quality 95) filled with c.
func writeJPEG(t testing.TB, path string, w, h int, c color.Color) {
	t.Helper()
	writeImage(t, path, w, h, c, func(f io.Writer, m image.Image) error {
		return jpeg.Encode(f, m, &jpeg.Options{Quality: 95})
	})
}

func writeImage(t testing.TB, path string, w, h int, c color.Color, encode func(io.Writer, image.Image) error) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, c)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := encode(f, m); err != nil {
		t.Fatal(err)
	}
}

func writeTestFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func greyNRGBA(v uint8) color.Color { return color.NRGBA{v, v, v, 255} }

// limitedY is the limited-range luma of a full-range grey level.
func limitedY(v uint8) uint8 { return uint8(16 + (int(v)*219+127)/255) }

func TestNaturalOrder(t *testing.T) {
	names := []string{"frame10.png", "frame2.png", "frame1.png", "Frame3.png", "frame02.png", "a.png", "frame1b.png", "frame100.png"}
	slices.SortFunc(names, naturalCompare)
	want := []string{"Frame3.png", "a.png", "frame1.png", "frame1b.png", "frame02.png", "frame2.png", "frame10.png", "frame100.png"}
	if !slices.Equal(names, want) {
		t.Errorf("got %v\nwant %v", names, want)
	}
}

// A folder of PNG and JPEG images (mixed-case extensions) in natural
// order, with a WAV and a segment.toml.
func TestLoadFolder(t *testing.T) {
	dir := t.TempDir()
	levels := []uint8{10, 40, 70, 100, 130, 160, 190, 220, 250, 0, 30}
	for k, v := range levels {
		name := filepath.Join(dir, "frame"+strconv.Itoa(k+1))
		switch k % 3 {
		case 0:
			writePNG(t, name+".png", 64, 48, greyNRGBA(v))
		case 1:
			writePNG(t, name+".PNG", 64, 48, greyNRGBA(v))
		default:
			writeJPEG(t, name+".JPeG", 64, 48, greyNRGBA(v))
		}
	}
	writeTestFile(t, filepath.Join(dir, "voice.wav"), makeWAV(wavSpec{tag: 1, channels: 1, rate: 24000, bits: 16}, sineRamp(24000, 1)))
	writeTestFile(t, filepath.Join(dir, "segment.toml"), []byte("fps = \"30000/1001\"\nname = \"Hello\"\n"))
	writeTestFile(t, filepath.Join(dir, "notes.txt"), []byte("ignored"))
	store := NewFrameStore(1 << 30)
	seg, err := Load(context.Background(), dir, LoadOptions{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Release()
	if seg.Name != "Hello" || seg.Rate != Rate2997 || seg.Width != 64 || seg.Height != 48 || seg.Frames.Len() != len(levels) {
		t.Fatalf("got %q %v %dx%d %d frames", seg.Name, seg.Rate, seg.Width, seg.Height, seg.Frames.Len())
	}
	if seg.Audio == nil || seg.Audio.Len() != 48000 || seg.SourceAudioRate != 24000 || seg.SourceChannels != 1 {
		t.Errorf("audio: %v", seg.Audio)
	}
	for k, v := range levels {
		f, err := seg.Frames.Frame(k)
		if err != nil {
			t.Fatal(err)
		}
		got, want := int(f.Y[20*f.YStride+30]), int(limitedY(v))
		if got < want-2 || got > want+2 { // JPEG rounding
			t.Errorf("frame %d: Y %d, want %d (order or conversion wrong)", k, got, want)
		}
		if c := f.Cb[5]; c < 126 || c > 130 {
			t.Errorf("frame %d: grey has chroma %d", k, c)
		}
	}
}

// Pure colours land on the BT.601 limited-range values.
func TestRGBToI420(t *testing.T) {
	for _, c := range []struct {
		c         color.NRGBA
		y, cb, cr uint8
	}{
		{color.NRGBA{255, 0, 0, 255}, 81, 90, 240},
		{color.NRGBA{0, 255, 0, 255}, 145, 54, 34},
		{color.NRGBA{0, 0, 255, 255}, 41, 240, 110},
		{color.NRGBA{255, 255, 255, 255}, 235, 128, 128},
		{color.NRGBA{0, 0, 0, 255}, 16, 128, 128},
		{color.NRGBA{255, 255, 255, 0}, 16, 128, 128}, // transparent: over black
	} {
		m := image.NewNRGBA(image.Rect(0, 0, 3, 3))
		for i := 0; i < len(m.Pix); i += 4 {
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.c.R, c.c.G, c.c.B, c.c.A
		}
		f := toI420(m)
		if f.Y[4] != c.y || f.Cb[3] != c.cb || f.Cr[3] != c.cr || f.YStride != 3 || f.CStride != 2 {
			t.Errorf("%v: got Y %d Cb %d Cr %d, want %d %d %d", c.c, f.Y[4], f.Cb[3], f.Cr[3], c.y, c.cb, c.cr)
		}
	}
}

func TestLoadFolderErrors(t *testing.T) {
	wav := makeWAV(wavSpec{tag: 1, channels: 1, rate: 16000, bits: 16}, sineRamp(100, 1))
	cases := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"empty", func(dir string) { writeTestFile(t, filepath.Join(dir, "readme.txt"), nil) }, "empty segment folder"},
		{"mixed sizes", func(dir string) {
			writePNG(t, filepath.Join(dir, "f1.png"), 64, 48, greyNRGBA(1))
			writePNG(t, filepath.Join(dir, "f2.png"), 64, 48, greyNRGBA(1))
			writeJPEG(t, filepath.Join(dir, "f10.jpg"), 32, 48, greyNRGBA(1))
			writePNG(t, filepath.Join(dir, "f11.png"), 16, 16, greyNRGBA(1))
		}, "f10.jpg is 32x48 but f1.png is 64x48"},
		{"two wavs", func(dir string) {
			writeTestFile(t, filepath.Join(dir, "a.wav"), wav)
			writeTestFile(t, filepath.Join(dir, "b.WAV"), wav)
		}, "two WAV files, a.wav and b.WAV"},
		{"bad wav", func(dir string) { writeTestFile(t, filepath.Join(dir, "a.wav"), wav[:len(wav)-10]) }, "a.wav: data chunk truncated"},
		{"toml unknown key", func(dir string) {
			writeTestFile(t, filepath.Join(dir, "a.wav"), wav)
			writeTestFile(t, filepath.Join(dir, "segment.toml"), []byte("fps = \"25\"\nframerate = 3\n"))
		}, "segment.toml: unknown key \"framerate\""},
		{"toml bad fps", func(dir string) {
			writeTestFile(t, filepath.Join(dir, "a.wav"), wav)
			writeTestFile(t, filepath.Join(dir, "segment.toml"), []byte("fps = \"thirty\"\n"))
		}, "segment.toml: field fps: frame rate \"thirty\""},
		{"toml fps out of range", func(dir string) {
			writeTestFile(t, filepath.Join(dir, "a.wav"), wav)
			writeTestFile(t, filepath.Join(dir, "segment.toml"), []byte("fps = \"1/1000000\"\n"))
		}, "segment.toml: field fps: 1/1000000 is 1e-06 fps, want 1 to 240"},
		{"toml fps too high", func(dir string) {
			writeTestFile(t, filepath.Join(dir, "a.wav"), wav)
			writeTestFile(t, filepath.Join(dir, "segment.toml"), []byte("fps = \"1000\"\n"))
		}, "segment.toml: field fps: 1000 is 1000 fps, want 1 to 240"},
		{"toml syntax", func(dir string) {
			writeTestFile(t, filepath.Join(dir, "a.wav"), wav)
			writeTestFile(t, filepath.Join(dir, "segment.toml"), []byte("fps = 30000/1001\n"))
		}, "segment.toml: "},
		{"broken png", func(dir string) {
			writePNG(t, filepath.Join(dir, "f1.png"), 8, 8, greyNRGBA(1))
			writeTestFile(t, filepath.Join(dir, "f2.png"), []byte("\x89PNG\r\n\x1a\nbroken"))
		}, "f2.png: "},
	}
	for _, c := range cases {
		dir := t.TempDir()
		c.setup(dir)
		store := NewFrameStore(1 << 30)
		_, err := Load(context.Background(), dir, LoadOptions{Store: store})
		if err == nil || !strings.HasPrefix(err.Error(), dir+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q after the folder name", c.name, err, c.want)
		}
		if store.Used() != 0 {
			t.Errorf("%s: Used %d after a failed load", c.name, store.Used())
		}
	}
}

// Cancelling a folder load stops the decoders and gives back the memory.
func TestLoadFolderCancel(t *testing.T) {
	dir := t.TempDir()
	for k := range 24 {
		writePNG(t, filepath.Join(dir, "f"+strconv.Itoa(k)+".png"), 32, 32, greyNRGBA(uint8(k)))
	}
	store := NewFrameStore(1 << 30)
	ctx, cancel := context.WithCancel(context.Background())
	var last int
	_, err := Load(ctx, dir, LoadOptions{Store: store, Progress: func(done, total int) {
		last = done
		if done == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), dir+": ") {
		t.Errorf("got %v, want context.Canceled after the folder name", err)
	}
	if last != 3 || store.Used() != 0 {
		t.Errorf("progress went to %d, Used %d after cancel", last, store.Used())
	}
}
