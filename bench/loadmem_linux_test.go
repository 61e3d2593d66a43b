package bench

// Peak memory of loading, measured on the real binary: `segcast probe`
// (or `timeline`) runs as a child on generated inputs with small budgets,
// and its peak RSS is read while it runs (VmHWM in /proc/PID/status) and
// from rusage when it ends. The target (issue 11): at most
// 1.25 × budget + 150 MB, whether the load fits or is refused.
//
//	go test -run '^$' -bench LoadPeakRSS -benchtime 1x ./bench/
//
// SEGCAST_BIN names the binary (default: built from the module root).

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func ffmpeg(args ...string) error {
	out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y", "-nostdin"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return nil
}

// makeLoadInputs writes the inputs of the table: an 8K PNG folder, big
// WAVs (one of them sparse), a long MP4 of silent AAC, a 2-minute 720p
// MP4 and four 10 s 720p clips.
func makeLoadInputs(dir string) error {
	png8k := filepath.Join(dir, "png8k")
	if err := os.Mkdir(png8k, 0o755); err != nil {
		return err
	}
	steps := [][]string{
		{"-f", "lavfi", "-i", "testsrc2=size=7680x4320:rate=30", "-frames:v", "8", filepath.Join(png8k, "f%02d.png")},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "600", "-ac", "2", filepath.Join(dir, "stereo48k-10min.wav")},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "1800", filepath.Join(dir, "mono16k-30min.wav")},
		{"-f", "lavfi", "-i", "color=black:size=64x64:rate=1", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono",
			"-t", "3480", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", filepath.Join(dir, "silent-58min.mp4")},
		{"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-t", "120", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ac", "2",
			filepath.Join(dir, "720p-2min.mp4")},
	}
	for k := range 4 {
		steps = append(steps, []string{"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=1280x720:rate=30,hue=h=%d", 90*k),
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10", "-pix_fmt", "yuv420p",
			"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ac", "2", filepath.Join(dir, fmt.Sprintf("clip%d.mp4", k))})
	}
	for _, s := range steps {
		if err := ffmpeg(s...); err != nil {
			return err
		}
	}
	return sparseWAV(filepath.Join(dir, "sparse-1.38GB.wav"), 1_382_400_000)
}

// sparseWAV writes an 8 kHz mono 16-bit WAV of size bytes that holds only
// its header on disk: silence of 24 hours, 7.9 GiB at 48 kHz.
func sparseWAV(path string, size int64) error {
	data := uint32(size - 44)
	var h bytes.Buffer
	h.WriteString("RIFF")
	binary.Write(&h, binary.LittleEndian, data+36)
	h.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&h, binary.LittleEndian, v)
	}
	h.WriteString("data")
	binary.Write(&h, binary.LittleEndian, data)
	if err := os.WriteFile(path, h.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Truncate(path, size)
}

func segcastBinary(b *testing.B) string {
	if p := os.Getenv("SEGCAST_BIN"); p != "" {
		return p
	}
	p := filepath.Join(b.TempDir(), "segcast")
	cmd := exec.Command("go", "build", "-o", p, ".")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return p
}

// peakRSS runs the command and returns its peak RSS: VmHWM of the process
// itself, polled every 5 ms, and rusage's maxrss, which also covers the
// ffmpeg children it waited for. It returns the exit status and the last
// line of stderr too.
func peakRSS(bin string, args ...string) (hwm, rusage int64, code int, msg string, err error) {
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, "", err
	}
	done := make(chan struct{})
	var polled int64
	go func() {
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v := vmHWM(status); v > polled {
				polled = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	werr := cmd.Wait()
	close(done)
	if _, ok := werr.(*exec.ExitError); werr != nil && !ok {
		return 0, 0, 0, "", werr
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	return polled, ru.Maxrss << 10, cmd.ProcessState.ExitCode(), lines[len(lines)-1], nil
}

// vmHWM reads the peak RSS line of /proc/PID/status, in bytes; 0 once the
// process is gone.
func vmHWM(status string) int64 {
	f, err := os.Open(status)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func BenchmarkLoadPeakRSS(b *testing.B) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Skip("ffmpeg is not on PATH: the inputs are generated with it")
	}
	bin := segcastBinary(b)
	dir := b.TempDir() // the parent runs once; its sub-benchmarks share the inputs
	if err := makeLoadInputs(dir); err != nil {
		b.Fatal(err)
	}
	in := func(names ...string) []string {
		for k := range names {
			names[k] = filepath.Join(dir, names[k])
		}
		return names
	}
	const mb = 1_000_000
	cases := []struct {
		name   string
		cmd    string
		budget int64
		inputs []string
	}{
		{"png8k", "timeline", 300 * mb, in("png8k")},
		{"png8k", "timeline", 1000 * mb, in("png8k")},
		{"wav48k-10min", "timeline", 64 * mb, in("stereo48k-10min.wav")},
		{"wav48k-10min", "timeline", 256 * mb, in("stereo48k-10min.wav")},
		{"wav16k-30min", "timeline", 256 * mb, in("mono16k-30min.wav")},
		{"sparse-wav-1.38GB", "probe", 300 * mb, in("sparse-1.38GB.wav")},
		{"aac-58min", "probe", 300 * mb, in("silent-58min.mp4")},
		{"aac-58min", "timeline", 512 * mb, in("silent-58min.mp4")},
		{"720p-2min", "timeline", 128 * mb, in("720p-2min.mp4")},
		{"720p-2min", "timeline", 512 * mb, in("720p-2min.mp4")},
		{"720p-4clips", "timeline", 512 * mb, in("clip0.mp4", "clip1.mp4", "clip2.mp4", "clip3.mp4")},
		{"720p-4clips", "timeline", 2000 * mb, in("clip0.mp4", "clip1.mp4", "clip2.mp4", "clip3.mp4")},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("%s/%s/budget=%dMB", c.name, c.cmd, c.budget/mb), func(b *testing.B) {
			args := append([]string{c.cmd, "--budget", strconv.FormatInt(c.budget, 10)}, c.inputs...)
			if c.cmd == "timeline" {
				args = append(args, "--duration", "1s")
			}
			var hwm, ru int64
			var code int
			var msg string
			for b.Loop() {
				var err error
				if hwm, ru, code, msg, err = peakRSS(bin, args...); err != nil {
					b.Fatal(err)
				}
			}
			target := c.budget*5/4 + 150*mb
			b.ReportMetric(float64(hwm)/mb, "peak-MB")
			b.ReportMetric(float64(ru)/mb, "rusage-MB")
			b.ReportMetric(float64(target)/mb, "target-MB")
			b.ReportMetric(float64(code), "exit")
			b.ReportMetric(0, "ns/op")
			b.Logf("exit %d, peak %.0f MB (rusage %.0f MB), target %.0f MB: %s", code, float64(hwm)/mb, float64(ru)/mb, float64(target)/mb, msg)
			if hwm > target {
				b.Errorf("peak RSS %.0f MB over the target %.0f MB", float64(hwm)/mb, float64(target)/mb)
			}
		})
	}
}
