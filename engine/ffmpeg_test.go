package engine

import (
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needFFmpeg skips a test that needs ffmpeg where there is none, but
// fails it under CI=1, where skipping would hide that nothing was tested.
func needFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") == "1" {
			t.Fatal("ffmpeg is not on PATH (CI=1): install Debian's ffmpeg (.ci/deps.sh test)")
		}
		t.Skip("ffmpeg is not on PATH: this test decodes a clip that ffmpeg generates")
	}
}

// runFFmpeg runs ffmpeg with args, failing the test on error.
func runFFmpeg(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y", "-nostdin"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// ffmpegFrames renders n frames of a lavfi source as I420.
func ffmpegFrames(t testing.TB, lavfi string, n int) []*image.YCbCr {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "src.y4m")
	runFFmpeg(t, "-f", "lavfi", "-i", lavfi, "-frames:v", strconv.Itoa(n), "-pix_fmt", "yuv420p", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, frames, err := readAllY4M(f)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

// makeClip writes a 2 s 320x240 30 fps clip with a 1 kHz tone.
func makeClip(t testing.TB, name string) string {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), name)
	args := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=frequency=1000",
		"-t", "2", "-pix_fmt", "yuv420p"}
	if strings.HasSuffix(name, ".webm") { // VP8 realtime: VP9's default is slow
		args = append(args, "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8")
	}
	runFFmpeg(t, append(args, path)...)
	return path
}

func TestLoadVideoFiles(t *testing.T) {
	names := []string{"clip.mp4", "clip.mkv", "clip.webm", "clip.MOV"}
	if testing.Short() {
		names = names[:1]
	}
	for _, name := range names {
		path := makeClip(t, name)
		store := NewFrameStore(1 << 30)
		seg, err := Load(context.Background(), path, LoadOptions{Store: store})
		if err != nil {
			t.Fatal(err)
		}
		if seg.Width != 320 || seg.Height != 240 || seg.Rate != Rate30 || seg.Frames.Len() != 60 {
			t.Errorf("%s: %dx%d @ %v, %d frames; want 320x240 @ 30, 60", name, seg.Width, seg.Height, seg.Rate, seg.Frames.Len())
		}
		// Mono stays mono: half the memory of stereo.
		if seg.Audio == nil || seg.Audio.Channels() != 1 || seg.SourceChannels != 1 || seg.SourceAudioRate < 44100 {
			t.Fatalf("%s: audio (nil %v), source %d Hz ×%d", name, seg.Audio == nil, seg.SourceAudioRate, seg.SourceChannels)
		}
		if d := seg.AudioDuration().Seconds(); d < 1.95 || d > 2.1 {
			t.Errorf("%s: audio %.3f s, want 2", name, d)
		}
		pcm := seg.Audio.(*PCM)
		if a := amplitudeAt(pcm.Samples(), 1, 0, 24000, 48000, 1000); a < 0.05 {
			t.Errorf("%s: 1 kHz amplitude %.3f: no tone", name, a)
		}
		// testsrc2's frames differ from each other and are not black.
		f0, _ := seg.Frames.Frame(0)
		f30, _ := seg.Frames.Frame(30)
		if p := psnrI420(f0, f30); p > 30 {
			t.Errorf("%s: frames 0 and 30 nearly equal (PSNR %.1f)", name, p)
		}
		seg.Release()
		if store.Used() != 0 {
			t.Errorf("%s: Used %d after Release", name, store.Used())
		}
	}
}

func TestLoadVideoNeedsFFmpeg(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.mp4")
	if err := os.WriteFile(path, []byte("not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err := Load(context.Background(), path, LoadOptions{Store: NewFrameStore(1 << 30)})
	want := path + ": decoding MP4 needs the ffmpeg program, which is not on PATH"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestLoadVideoBroken(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "broken.mkv")
	if err := os.WriteFile(path, []byte("garbage that is no matroska"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), path, LoadOptions{Store: NewFrameStore(1 << 30)})
	if err == nil || !strings.HasPrefix(err.Error(), path+": ffprobe failed") {
		t.Errorf("got %v, want an ffprobe failure naming the file", err)
	}
}

func TestLoadVideoCancel(t *testing.T) {
	path := makeClip(t, "clip.mp4")
	store := NewFrameStore(1 << 30)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Load(ctx, path, LoadOptions{Store: store, Progress: func(done, total int) {
		if done == 5 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), path) {
		t.Errorf("got %v, want context.Canceled naming the file", err)
	}
	if store.Used() != 0 {
		t.Errorf("Used %d after a cancelled load", store.Used())
	}
}

// A phone's portrait clip is stored landscape with a display matrix that
// turns it. ffmpeg turns the decoded frames, so the segment has the turned
// size and each frame shows the picture the right way round: the white
// left half of the stored picture ends where the turn puts it.
func TestLoadVideoRotated(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	stored := filepath.Join(dir, "stored.mp4")
	runFFmpeg(t, "-f", "lavfi", "-i", "color=black:size=320x180:rate=30,drawbox=x=0:y=0:w=160:h=180:color=white:t=fill",
		"-t", "1", "-pix_fmt", "yuv420p", "-c:v", "libx264", stored)
	// Where the stored left half shows, per rotate tag (the display matrix
	// turns counter-clockwise by the tag's degrees).
	for _, c := range []struct {
		rotate string
		w, h   int
		white  string
	}{
		{"90", 180, 320, "bottom"},
		{"180", 320, 180, "right"},
		{"270", 180, 320, "top"},
	} {
		path := filepath.Join(dir, "rot"+c.rotate+".mp4")
		rotateClip(t, stored, path, c.rotate)
		seg, err := Load(context.Background(), path, LoadOptions{Store: NewFrameStore(1 << 30)})
		if err != nil {
			t.Fatal(err)
		}
		if seg.Width != c.w || seg.Height != c.h || seg.Frames.Len() != 30 {
			t.Errorf("rotate=%s: %dx%d, %d frames; want %dx%d, 30", c.rotate, seg.Width, seg.Height, seg.Frames.Len(), c.w, c.h)
			seg.Release()
			continue
		}
		f, _ := seg.Frames.Frame(15)
		lum := func(x, y int) uint8 { return f.Y[y*f.YStride+x] }
		sides := map[string]uint8{
			"top": lum(c.w/2, 4), "bottom": lum(c.w/2, c.h-5), "left": lum(4, c.h/2), "right": lum(c.w-5, c.h/2),
		}
		for side, v := range sides {
			bright := v > 128
			// The side opposite the white one is black; the two across
			// the turn straddle both halves, so only the pair is checked.
			if side == c.white && !bright || side == opposite(c.white) && bright {
				t.Errorf("rotate=%s: %s edge luma %d (white side should be %s)", c.rotate, side, v, c.white)
			}
		}
		seg.Release()
	}
	// A clip recorded portrait (no display matrix) keeps its size.
	portrait := filepath.Join(dir, "portrait.mp4")
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30", "-t", "1", "-pix_fmt", "yuv420p", "-c:v", "libx264", portrait)
	seg, err := Load(context.Background(), portrait, LoadOptions{Store: NewFrameStore(1 << 30)})
	if err != nil {
		t.Fatal(err)
	}
	if seg.Width != 360 || seg.Height != 640 || seg.Frames.Len() != 30 {
		t.Errorf("portrait: %dx%d, %d frames", seg.Width, seg.Height, seg.Frames.Len())
	}
	seg.Release()
}

// rotateClip copies src to dst with a display matrix turning it deg
// degrees counter-clockwise: through the rotate tag, which ffmpeg up to 5
// turns into the matrix, or -display_rotation, which replaced it in 6.
func rotateClip(t *testing.T, src, dst, deg string) {
	t.Helper()
	runFFmpeg(t, "-i", src, "-c", "copy", "-metadata:s:v", "rotate="+deg, dst)
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream_side_data=rotation", "-of", "csv=p=0", dst).Output()
	if err == nil && strings.TrimSpace(string(out)) != "" {
		return
	}
	runFFmpeg(t, "-display_rotation:v:0", deg, "-i", src, "-c", "copy", dst)
}

func opposite(side string) string {
	return map[string]string{"top": "bottom", "bottom": "top", "left": "right", "right": "left"}[side]
}

// makeAACClip writes an H.264/AAC MP4 of secs seconds with a 1 kHz tone,
// its index (moov) first so that a cut copy still probes.
func makeAACClip(t testing.TB, name string, secs int) string {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), name)
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", strconv.Itoa(secs), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart", path)
	return path
}

// A cut MP4 decodes to part of what its index declares, and ffmpeg exits
// 0 doing it: the load is refused, naming what was declared and decoded.
func TestLoadVideoTruncated(t *testing.T) {
	path := makeAACClip(t, "cut.mp4", 5)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	store := NewFrameStore(1 << 30)
	_, err = Load(context.Background(), path, LoadOptions{Store: store})
	if err == nil {
		t.Fatal("a cut file loaded without an error")
	}
	msg := err.Error()
	for _, want := range []string{path + ": truncated or damaged", "declares 150 frames and 5.000 s of sound", "could be decoded"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if store.Used() != 0 {
		t.Errorf("Used %d after a refused load", store.Used())
	}
}

// A 10.000 s H.264/AAC clip lasts 10.000 s: the AAC encoder's padding at
// the end (and its priming at the start) is not kept.
func TestLoadVideoDeclaredDuration(t *testing.T) {
	path := makeAACClip(t, "ten.mp4", 10)
	seg, err := Load(context.Background(), path, LoadOptions{Store: NewFrameStore(1 << 30)})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Release()
	if seg.Audio == nil {
		t.Fatal("no sound")
	}
	if seg.Audio.Len() != 10*AudioRate || seg.Frames.Len() != 300 || seg.Duration() != 10*time.Second {
		t.Errorf("audio %v frames, %d frames, duration %v; want 480000, 300, 10s", seg.Audio.Len(), seg.Frames.Len(), seg.Duration())
	}
	// The tone runs to the end: the trim keeps sound, not padding.
	pcm := seg.Audio.(*PCM)
	if a := amplitudeAt(pcm.Samples(), 1, 0, 9*AudioRate, AudioRate, 1000); a < 0.05 {
		t.Errorf("1 kHz amplitude %.3f in the last second", a)
	}
}

// A long sound that cannot fit the budget is refused from the declared
// duration, before ffmpeg decodes it, naming what it needs and what is
// left.
func TestLoadVideoSoundOverBudget(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "long.mp4")
	runFFmpeg(t, "-f", "lavfi", "-i", "color=black:size=64x64:rate=1", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono",
		"-t", "120", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", path)
	store := NewFrameStore(8 << 20) // 120 s of 48 kHz mono is 11 MB
	_, err := Load(context.Background(), path, LoadOptions{Store: store})
	var be *BudgetError
	if !errors.As(err, &be) || be.What != soundMemory || be.Need != 120*AudioRate*2 || be.Left != 8<<20 {
		t.Fatalf("got %v (%+v), want a *BudgetError for 11 MB of sound", err, be)
	}
	if want := path + ": needs 11.0 MiB of memory for its sound (48 kHz) but only 8.0 MiB of the budget is left"; err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	if store.Used() != 0 {
		t.Errorf("Used %d after a refused load", store.Used())
	}
}
