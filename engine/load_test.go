package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
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
		// Streamed block by block, the sound is what the whole-file path
		// makes of it.
		f, _ := os.Open(path)
		w, err := ReadWAV(f, DefaultWAVLimit)
		f.Close()
		if err != nil || !slices.Equal(seg.Audio.(*PCM).Samples(), Resample48k(w.Samples, w.Channels, w.Rate)) {
			t.Errorf("%+v: loaded sound differs from ReadWAV + Resample48k (%v)", s, err)
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

// sparseWAV writes a 16-bit mono WAV at rate whose data chunk says
// dataBytes but holds only its header on disk.
func sparseWAV(t *testing.T, path string, rate int, dataBytes int64) {
	t.Helper()
	hdr := makeWAV(wavSpec{tag: 1, channels: 1, rate: rate, bits: 16}, nil)
	binary.LittleEndian.PutUint32(hdr[len(hdr)-4:], uint32(dataBytes))
	writeTestFile(t, path, hdr)
	if err := os.Truncate(path, int64(len(hdr))+dataBytes); err != nil {
		t.Fatal(err)
	}
}

// A WAV's 48 kHz sound counts against the budget, and one that cannot fit
// is refused from its header alone: the 1.38 GB file of 8 kHz
// silence (24 hours, 7.9 GiB at 48 kHz; sparse on disk) took minutes and
// 13.85 GB before.
func TestLoadWAVOverBudgetRefusedFromHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "day.wav")
	const data = 1_382_400_000 - 52
	sparseWAV(t, path, 8000, data)
	store := NewFrameStore(300_000_000)
	_, err := Load(context.Background(), path, LoadOptions{Store: store})
	var be *BudgetError
	if !errors.As(err, &be) || be.What != soundMemory || be.Need != data/2*6*2 || be.Left != 300_000_000 {
		t.Fatalf("got %v, want a *BudgetError for the sound", err)
	}
	if want := path + ": needs 7910.2 MiB of memory for its sound (48 kHz) but only 286.1 MiB of the budget is left"; err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	if store.Used() != 0 {
		t.Errorf("Used %d after a refused load", store.Used())
	}
}

// Loaded sound holds budget until the segment is released; a Y4M whose
// WAV does not fit is refused before any frame is read.
func TestLoadSoundInBudget(t *testing.T) {
	dir := t.TempDir()
	frames := testFrames(32, 32, 4)
	writeTestFile(t, filepath.Join(dir, "a.y4m"), makeY4M("W32 H32 F25:1", frames))
	writeTestFile(t, filepath.Join(dir, "a.wav"), makeWAV(wavSpec{tag: 1, channels: 2, rate: 16000, bits: 16}, sineRamp(16000, 2)))
	store := NewFrameStore(1 << 30)
	seg, err := Load(context.Background(), filepath.Join(dir, "a.y4m"), LoadOptions{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	sound := int64(AudioRate * 2 * 2) // 1 s of 48 kHz stereo
	if seg.Audio.Bytes() != sound || store.Used() != 4*frameBytes(32, 32)+sound {
		t.Errorf("Used %d, sound %d; want %d", store.Used(), seg.Audio.Bytes(), 4*frameBytes(32, 32)+sound)
	}
	seg.Release()
	if store.Used() != 0 {
		t.Errorf("Used %d after Release", store.Used())
	}
	small := NewFrameStore(sound - 1)
	var calls int
	_, err = Load(context.Background(), filepath.Join(dir, "a.y4m"), LoadOptions{Store: small, Progress: func(int, int) { calls++ }})
	var be *BudgetError
	if !errors.As(err, &be) || be.What != soundMemory || !strings.HasPrefix(err.Error(), filepath.Join(dir, "a.y4m")+": a.wav: needs") {
		t.Errorf("got %v, want a *BudgetError for a.wav's sound", err)
	}
	if calls != 0 || small.Used() != 0 {
		t.Errorf("%d frames loaded, Used %d: want none", calls, small.Used())
	}
}

// Frames that cannot fit even as the smallest JPEGs beside the decode
// cache are refused from the header, before a frame is read: here 20
// frames of 8K (the cache alone is 8 × 47.5 MiB) in 300 MB. The file is
// sparse: reading it would fail on its first FRAME header.
func TestLoadFramesOverBudgetRefusedFromHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.y4m")
	hdr := "YUV4MPEG2 W7680 H4320 F30:1 C420jpeg\n"
	writeTestFile(t, path, []byte(hdr))
	if err := os.Truncate(path, int64(len(hdr))+20*(6+frameBytes(7680, 4320))); err != nil {
		t.Fatal(err)
	}
	store := NewFrameStore(300_000_000)
	_, err := Load(context.Background(), path, LoadOptions{Store: store})
	var be *BudgetError
	if !errors.As(err, &be) || be.What != frameMemory || be.Need <= store.Budget() {
		t.Fatalf("got %v, want a *BudgetError for the frames", err)
	}
	if !strings.HasPrefix(err.Error(), path+": needs ") || store.Used() != 0 {
		t.Errorf("got %q, Used %d", err, store.Used())
	}
}

// Frame rates a file declares are bounded: one frame of 11.6 days is a
// mistake, not a clip.
func TestLoadY4MRateBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slow.y4m")
	writeTestFile(t, path, makeY4M("W8 H8 F1:1000000", testFrames(8, 8, 2)))
	_, err := Load(context.Background(), path, LoadOptions{Store: NewFrameStore(1 << 30)})
	if err == nil || err.Error() != path+": frame rate tag: 1/1000000 is 1e-06 fps, want 1 to 240" {
		t.Errorf("got %v", err)
	}
}

func TestCheckFPS(t *testing.T) {
	for _, c := range []struct {
		r  Rate
		ok bool
	}{
		{Rate{1, 1}, true}, {Rate30, true}, {Rate2997, true}, {Rate{240, 1}, true},
		{Rate{1, 2}, false}, {Rate{241, 1}, false}, {Rate{240001, 1000}, false}, {Rate{0, 1}, false},
	} {
		if err := CheckFPS(c.r); (err == nil) != c.ok {
			t.Errorf("CheckFPS(%v) = %v", c.r, err)
		}
	}
}

// LimitHeap derives the collector's soft limit from the budget, unless
// GOMEMLIMIT says otherwise.
func TestLimitHeap(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	t.Setenv("GOMEMLIMIT", "")
	if got, want := LimitHeap(400<<20), int64(500<<20+heapBase); got != want {
		t.Errorf("LimitHeap(400 MiB) = %d, want %d", got, want)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := LimitHeap(100 << 20); got != int64(500<<20+heapBase) {
		t.Errorf("with GOMEMLIMIT set, LimitHeap changed the limit to %d", got)
	}
}
