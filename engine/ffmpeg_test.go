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
)

func needFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
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
		if seg.Audio == nil || seg.Audio.Channels() != 2 || seg.SourceChannels != 1 || seg.SourceAudioRate < 44100 {
			t.Fatalf("%s: audio %v, source %d Hz ×%d", name, seg.Audio, seg.SourceAudioRate, seg.SourceChannels)
		}
		if d := seg.AudioDuration().Seconds(); d < 1.95 || d > 2.1 {
			t.Errorf("%s: audio %.3f s, want 2", name, d)
		}
		pcm := seg.Audio.(*PCM)
		if a := amplitudeAt(pcm.Samples(), 2, 0, 24000, 48000, 1000); a < 0.05 {
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
