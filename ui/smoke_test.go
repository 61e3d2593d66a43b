//go:build smoke

package ui

// The smoke test and the preview benchmark run the real binary in a real
// window under Xvfb. Run them with
//
//	go test -tags smoke -run Smoke -v ./ui/
//	go test -tags smoke -run '^$' -bench PreviewXvfb -benchtime 1x ./ui/
//
// SEGCAST_BIN names the binary to test; by default the test builds the
// repository's main package. Without Xvfb or ImageMagick they skip, or
// fail when CI=1 is set.

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var smokeColour = color.RGBA{R: 230, G: 120, B: 20, A: 255}

func needTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, "%s not installed (.ci/deps.sh test installs it): %v", tool, err)
		}
	}
}

// buildBinary returns the binary under test: $SEGCAST_BIN, or main built
// afresh.
func buildBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SEGCAST_BIN"); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), "segcast")
	if msg, err := exec.Command("go", "build", "-o", out, "..").CombinedOutput(); err != nil {
		t.Fatalf("build segcast: %v\n%s", err, msg)
	}
	return out
}

// startXvfb starts a 1280×800 X server on a free display and returns it.
func startXvfb(t testing.TB) string {
	t.Helper()
	return startXvfbSize(t, 1280, 800)
}

// startXvfbSize starts a w×h X server on a free display and returns it.
func startXvfbSize(t testing.TB, width, height int) string {
	t.Helper()
	display, _ := startXvfbPid(t, width, height)
	return display
}

// startXvfbPid is startXvfbSize, also returning the server's pid.
func startXvfbPid(t testing.TB, width, height int) (string, int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb reported no display")
		}
		return ":" + n, cmd.Process.Pid
	case <-time.After(15 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	return "", 0
}

// startApp runs bin with args on display. The channel closes when it
// exits; log returns what it has written to stdout and stderr so far.
func startApp(t testing.TB, bin, display string, args ...string) (exited <-chan struct{}, log func() string) {
	_, exited, log = startAppHome(t, t.TempDir(), bin, display, args...) // fresh preferences
	return exited, log
}

func startAppHome(t testing.TB, home, bin, display string, args ...string) (*exec.Cmd, <-chan struct{}, func() string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "app.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child holds its own copy
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "LANG=C.UTF-8")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	log := func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}
	return cmd, done, log
}

func screenshot(t testing.TB, display string) *image.RGBA {
	t.Helper()
	out, err := exec.Command("import", "-display", display, "-window", "root", "png:-").Output()
	if err != nil {
		t.Fatalf("import -window root: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

// colourBox counts pixels near c and returns their bounding box.
func colourBox(img *image.RGBA, c color.RGBA) (n int, box image.Rectangle) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := img.RGBAAt(x, y)
			if near(p.R, c.R) && near(p.G, c.G) && near(p.B, c.B) {
				n++
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return n, box
}

// The real binary under Xvfb loads a solid-colour clip, plays it, and the
// screenshot shows that colour filling a 16:9 preview area.
func TestSmokeXvfb(t *testing.T) {
	needTools(t, "Xvfb", "import")
	bin := buildBinary(t)
	display := startXvfb(t)
	clipPath := filepath.Join(t.TempDir(), "solid.y4m")
	writeY4M(t, clipPath, 320, 180, 60, 30, smokeColour)
	exited, log := startApp(t, bin, display, "--loop", clipPath)

	deadline := time.Now().Add(60 * time.Second)
	var n int
	var box image.Rectangle
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		select {
		case <-exited:
			t.Fatalf("app exited:\n%s", tail(log(), 2000))
		default:
		}
		shot := screenshot(t, display)
		n, box = colourBox(shot, smokeColour)
		area := shot.Bounds().Dx() * shot.Bounds().Dy()
		if n > area/10 && n >= box.Dx()*box.Dy()*95/100 {
			break
		}
	}
	if n == 0 {
		t.Fatalf("the clip's colour is nowhere on screen\napp log:\n%s", tail(log(), 2000))
	}
	if n < box.Dx()*box.Dy()*95/100 {
		t.Fatalf("clip colour covers %d of its %v bounding box: not a solid preview", n, box)
	}
	if aspect := float64(box.Dx()) / float64(box.Dy()); aspect < 16.0/9*0.97 || aspect > 16.0/9*1.03 {
		t.Fatalf("preview area %v has aspect %.3f, want 16:9 (the clip's, kept)", box, aspect)
	}
	if box.Dx() < 320 {
		t.Fatalf("preview area %v is smaller than the clip", box)
	}
	t.Logf("preview shows the clip's colour in %v (%d px)", box, n)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

var shownRE = regexp.MustCompile(`msg="preview stats" shown=(\d+) preview_dropped=(\d+)`)

// BenchmarkPreviewXvfb measures preview frames shown per second and the
// app's CPU use while it previews a 720p30 clip whose every frame differs,
// on the wall clock (no audio device), and the X server's (xvfb-cores:
// what drawing the window costs it).
func BenchmarkPreviewXvfb(b *testing.B) {
	benchPreview(b, b.TempDir(), "--no-audio")
}

// BenchmarkPreviewXvfbAudioClock is the same with sound through PortAudio
// into an ALSA file device: the device's played position paces the preview.
func BenchmarkPreviewXvfbAudioClock(b *testing.B) {
	home := b.TempDir()
	rc := fmt.Sprintf("pcm.!default { type file slave.pcm \"null\" file \"%s\" format \"raw\" }\n",
		filepath.Join(home, "OUT.raw"))
	if err := os.WriteFile(filepath.Join(home, ".asoundrc"), []byte(rc), 0o644); err != nil {
		b.Fatal(err)
	}
	benchPreview(b, home)
}

func benchPreview(b *testing.B, home string, extra ...string) {
	needTools(b, "Xvfb")
	bin := buildBinary(b)
	display, xvfb := startXvfbPid(b, 1280, 800)
	clipPath := filepath.Join(b.TempDir(), "clip720.y4m")
	writeRampY4M(b, clipPath, 1280, 720, 90, 30)
	args := append([]string{"--stats", "500ms", "--loop"}, extra...)
	app, _, log := startAppHome(b, home, bin, display, append(args, clipPath)...)

	sample := func() (shown, dropped int, cpu time.Duration, at time.Time) {
		m := shownRE.FindAllStringSubmatch(log(), -1)
		if len(m) > 0 {
			shown, _ = strconv.Atoi(m[len(m)-1][1])
			dropped, _ = strconv.Atoi(m[len(m)-1][2])
		}
		return shown, dropped, cpuTime(b, app.Process.Pid), time.Now()
	}
	// Warm up until frames flow, then measure 10 s.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if s, _, _, _ := sample(); s > 60 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("no frames shown\n%s", tail(log(), 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.ResetTimer()
	s0, d0, c0, t0 := sample()
	x0 := cpuTime(b, xvfb)
	time.Sleep(10 * time.Second)
	s1, d1, c1, t1 := sample()
	x1 := cpuTime(b, xvfb)
	wall := t1.Sub(t0).Seconds()
	b.ReportMetric(float64(s1-s0)/wall, "shown/s")
	b.ReportMetric(float64(d1-d0)/wall, "dropped/s")
	b.ReportMetric((c1-c0).Seconds()/wall, "cores")
	b.ReportMetric((x1-x0).Seconds()/wall, "xvfb-cores")
}

// BenchmarkFyneFloorXvfb measures bench/fynefloor on the same Xvfb: a
// bare Fyne window replacing one picture of the preview's on-screen size
// (632×356 in the default window) 30 times a second. Its cores are the
// floor under BenchmarkPreviewXvfb that no work in this package can
// remove (Fyne repaints the whole window per change, on llvmpipe here).
func BenchmarkFyneFloorXvfb(b *testing.B) {
	needTools(b, "Xvfb")
	bin := filepath.Join(b.TempDir(), "fynefloor")
	if msg, err := exec.Command("go", "build", "-o", bin, "../bench/fynefloor").CombinedOutput(); err != nil {
		b.Fatalf("build bench/fynefloor: %v\n%s", err, msg)
	}
	app, _, _ := startAppHome(b, b.TempDir(), bin, startXvfb(b))
	time.Sleep(5 * time.Second) // the window up and drawing
	b.ResetTimer()
	c0, t0 := cpuTime(b, app.Process.Pid), time.Now()
	time.Sleep(10 * time.Second)
	c1, t1 := cpuTime(b, app.Process.Pid), time.Now()
	b.ReportMetric((c1-c0).Seconds()/t1.Sub(t0).Seconds(), "cores")
}

// cpuTime is user+system CPU of pid from /proc (clock ticks of 10 ms).
func cpuTime(t testing.TB, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// writeRampY4M writes n frames whose grey level changes every frame, so
// the preview converts and uploads every one.
func writeRampY4M(t testing.TB, path string, w, h, n, fps int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", w, h, fps)
	luma := make([]byte, w*h)
	chroma := bytes.Repeat([]byte{128}, w*h/2)
	for k := range n {
		for i := range luma {
			luma[i] = byte(16 + (k*2+i/w)%200)
		}
		bw.WriteString("FRAME\n")
		bw.Write(luma)
		bw.Write(chroma)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}
