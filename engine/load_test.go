package engine

import (
	"context"
	"errors"
	"image"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadWAVAlone(t *testing.T) {
	for _, s := range []wavSpec{
		{tag: 1, channels: 1, rate: 16000, bits: 16},
		{tag: 1, channels: 2, rate: 44100, bits: 24},
		{tag: 3, channels: 2, rate: 48000, bits: 32},
		{tag: 1, extensible: true, channels: 1, rate: 22050, bits: 32},
	} {
		path := filepath.Join(t.TempDir(), "voice.wav")
		writeTestFile(t, path, makeWAV(s, sineRamp(s.rate/2, s.channels))) // 0.5 s
		seg, err := Load(context.Background(), path, LoadOptions{Store: NewFrameStore(1 << 20)})
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if seg.Frames.Len() != 0 || seg.Name != "voice" || seg.Rate != Rate30 {
			t.Errorf("%+v: %d frames, name %q, rate %v", s, seg.Frames.Len(), seg.Name, seg.Rate)
		}
		if seg.Audio.Len() != 24000 || seg.Audio.Channels() != s.channels || seg.SourceAudioRate != s.rate {
			t.Errorf("%+v: audio %d frames × %d at %d Hz", s, seg.Audio.Len(), seg.Audio.Channels(), seg.SourceAudioRate)
		}
		if d := seg.Duration().Milliseconds(); d != 500 {
			t.Errorf("%+v: duration %d ms", s, d)
		}
	}
}

func TestLoadY4MWithWAV(t *testing.T) {
	dir := t.TempDir()
	frames := testFrames(48, 32, 12)
	writeTestFile(t, filepath.Join(dir, "clip.y4m"), makeY4M("W48 H32 F25:1 C420jpeg", frames))
	writeTestFile(t, filepath.Join(dir, "clip.wav"), makeWAV(wavSpec{tag: 1, channels: 2, rate: 24000, bits: 16}, sineRamp(12000, 2)))
	var calls [][2]int
	seg, err := Load(context.Background(), filepath.Join(dir, "clip.y4m"), LoadOptions{
		Store: NewFrameStore(1 << 30), FPS: Rate60,
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Release()
	if seg.Rate != Rate25 || seg.Frames.Len() != 12 || seg.Width != 48 || seg.Height != 32 {
		t.Errorf("got %v %d frames %dx%d", seg.Rate, seg.Frames.Len(), seg.Width, seg.Height)
	}
	if seg.Audio == nil || seg.Audio.Len() != 24000 || seg.Audio.Channels() != 2 {
		t.Fatalf("audio beside the Y4M not loaded: %v", seg.Audio)
	}
	for k := range frames {
		f, _ := seg.Frames.Frame(k)
		if psnrI420(f, frames[k]) < 99 {
			t.Errorf("frame %d differs from the file", k)
		}
	}
	// Progress: one call per frame, done rising by one, ending at total.
	if len(calls) != 12 {
		t.Fatalf("%d progress calls, want 12: %v", len(calls), calls)
	}
	for i, c := range calls {
		if c[0] != i+1 || c[1] < c[0] || (i > 0 && c[1] < calls[i-1][1]) {
			t.Errorf("progress call %d: %v", i, c)
		}
	}
	if last := calls[len(calls)-1]; last[0] != last[1] {
		t.Errorf("last progress call %v: done != total", last)
	}
}

// The output size option letterboxes every frame once, at load time.
func TestLoadScalesToSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.y4m")
	frames := testFrames(64, 64, 3)
	for _, f := range frames {
		fillPlane(f.Y, 200)
	}
	writeTestFile(t, path, makeY4M("W64 H64 F30:1", frames))
	seg, err := Load(context.Background(), path, LoadOptions{Store: NewFrameStore(1 << 30), Size: image.Pt(160, 90)})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Release()
	if seg.Width != 160 || seg.Height != 90 {
		t.Fatalf("size %dx%d, want 160x90", seg.Width, seg.Height)
	}
	f, _ := seg.Frames.Frame(2)
	if f.Rect.Dx() != 160 || f.Y[45*160+10] != blackY || f.Y[45*160+80] != 200 || f.Y[45*160+150] != blackY {
		t.Errorf("frame %v: left %d mid %d right %d", f.Rect, f.Y[45*160+10], f.Y[45*160+80], f.Y[45*160+150])
	}
	if seg.MemoryBytes() != 3*frameBytes(160, 90) {
		t.Errorf("holds %d bytes, want %d", seg.MemoryBytes(), 3*frameBytes(160, 90))
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "notes.txt")
	writeTestFile(t, txt, []byte("hi"))
	y4m := filepath.Join(dir, "a.y4m")
	writeTestFile(t, y4m, makeY4M("W8 H8 F30:1", testFrames(8, 8, 2))[:60])
	bad := filepath.Join(dir, "b.y4m")
	writeTestFile(t, bad, makeY4M("W8 H8 F30:1", testFrames(8, 8, 2)))
	writeTestFile(t, filepath.Join(dir, "b.wav"), []byte("RIFF\x04\x00\x00\x00WAVX"))
	zero := filepath.Join(dir, "zero.wav")
	writeTestFile(t, zero, makeWAV(wavSpec{tag: 1, channels: 2, rate: 48000, bits: 16}, nil))
	for _, c := range []struct{ path, want string }{
		{txt, `unsupported input "notes.txt": want a segment folder, .y4m, .wav, .mp4, .mov, .mkv or .webm`},
		{filepath.Join(dir, "missing.wav"), "no such file or directory"},
		{y4m, "file too short for one 8x8 frame"},
		{bad, "b.wav: not a WAV file"},
		{zero, "no audio samples"},
	} {
		store := NewFrameStore(1 << 30)
		_, err := Load(context.Background(), c.path, LoadOptions{Store: store})
		if err == nil || !strings.HasPrefix(err.Error(), c.path+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q after the path", err, c.want)
		}
		if store.Used() != 0 {
			t.Errorf("%s: Used %d after a failed load", c.path, store.Used())
		}
	}
}

func TestLoadCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.y4m")
	writeTestFile(t, path, makeY4M("W32 H32 F30:1", testFrames(32, 32, 20)))
	store := NewFrameStore(1 << 30)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Load(ctx, path, LoadOptions{Store: store, Progress: func(done, total int) {
		if done == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("got %v, want context.Canceled after the path", err)
	}
	if store.Used() != 0 {
		t.Errorf("Used %d after a cancelled load", store.Used())
	}
}

// A load over budget is refused through Load too: Used does not move and
// the segment loaded before keeps working.
func TestLoadBudgetRefusal(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "a.y4m"), makeY4M("W64 H64 F30:1", testFrames(64, 64, 4)))
	noisy := make([]*image.YCbCr, 50)
	for k := range noisy {
		noisy[k] = naturalFrame(64, 64, k, rand.New(rand.NewPCG(uint64(k), 9)))
	}
	writeTestFile(t, filepath.Join(dir, "b.y4m"), makeY4M("W64 H64 F30:1", noisy))
	store := NewFrameStore(16 * frameBytes(64, 64))
	a, err := Load(context.Background(), filepath.Join(dir, "a.y4m"), LoadOptions{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	used := store.Used()
	_, err = Load(context.Background(), filepath.Join(dir, "b.y4m"), LoadOptions{Store: store})
	var be *BudgetError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "MiB of frame memory but only") {
		t.Fatalf("got %v, want a *BudgetError", err)
	}
	if store.Used() != used {
		t.Errorf("Used %d, want %d as before the refused load", store.Used(), used)
	}
	if f, err := a.Frames.Frame(3); err != nil || f == nil {
		t.Errorf("earlier segment: %v", err)
	}
}
