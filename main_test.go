package main

// Tests of the command-line contract, run against the real binary.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"segcast/engine"
)

// segcastBin builds segcast once per test run (or takes $SEGCAST_BIN).
func segcastBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SEGCAST_BIN"); p != "" {
		return p
	}
	p := filepath.Join(t.TempDir(), "segcast")
	out, err := exec.Command("go", "build", "-o", p, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return p
}

type result struct {
	stdout, stderr string
	code           int
}

func runCLI(t *testing.T, bin, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LANGUAGE=") // the common CI locale
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// writeWAV writes a 16-bit mono WAV of n samples at rate.
func writeWAV(t *testing.T, path string, rate, n int) {
	t.Helper()
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, le, v)
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*n))
	b.Write(make([]byte, 2*n))
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCLIBadInputExitsTwoWithOneLine(t *testing.T) {
	bin := segcastBin(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.wav")
	os.WriteFile(broken, []byte("RIFF\x10\x00\x00\x00WAVEjunk"), 0o644)
	empty := filepath.Join(dir, "emptyfolder")
	os.Mkdir(empty, 0o755)

	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string // must appear in the one stderr line
	}{
		{"broken wav", "", []string{"probe", broken}, "broken.wav"},
		{"missing file", "", []string{"timeline", filepath.Join(dir, "nothere.y4m")}, "nothere.y4m"},
		{"empty folder", "", []string{"probe", empty}, "emptyfolder"},
		{"bad fps", "", []string{"timeline", "--pattern", "--fps", "abc"}, "--fps"},
		{"unknown flag", "", []string{"timeline", "--bogus"}, "bogus"},
		{"probe without input", "", []string{"probe"}, "INPUT"},
		{"viewer without out", "", []string{"viewer"}, "--out"},
		{"bad listen port", "", []string{"serve", "--pattern", "--listen", "127.0.0.1:99999"}, "--listen"},
		{"garbage offer", "not an offer\n", []string{"stream", "--pattern", "--size", "160x120"}, "offer"},
		{"window watch not a folder", "", []string{"--no-audio", "--watch", filepath.Join(dir, "nofolder")}, "--watch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, bin, c.stdin, c.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, exitUsage, r.stderr)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Errorf("stderr should be one line naming %q, got:\n%s", c.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty, got %q", r.stdout)
			}
		})
	}
}

// The CSV follows the contract exactly: every value derived from seq.
func TestCLITimelineCSV(t *testing.T) {
	bin := segcastBin(t)
	r := runCLI(t, bin, "", "timeline", "--pattern", "--fps", "30000/1001", "--duration", "10s")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "kind,seq,media_ns,rtp_ts,segment,source_index" {
		t.Fatalf("header %q", got)
	}
	rate := engine.Rate2997
	var video, audio int64
	last := int64(-1)
	for _, row := range rows[1:] {
		seq, _ := strconv.ParseInt(row[1], 10, 64)
		ns, _ := strconv.ParseInt(row[2], 10, 64)
		rtp, _ := strconv.ParseUint(row[3], 10, 32)
		var wantNS int64
		var wantRTP uint32
		switch row[0] {
		case "video":
			if seq != video {
				t.Fatalf("video seq %d, want %d", seq, video)
			}
			video++
			wantNS, wantRTP = rate.FrameNS(seq), rate.FrameRTP(seq)
			if src, _ := strconv.Atoi(row[5]); row[4] == "0" && int64(src) != seq {
				t.Fatalf("pattern frame %d shows source %d", seq, src)
			}
		case "audio":
			if seq != audio {
				t.Fatalf("audio seq %d, want %d", seq, audio)
			}
			audio++
			wantNS, wantRTP = seq*20_000_000, uint32(seq*960)
		default:
			t.Fatalf("kind %q", row[0])
		}
		if ns != wantNS || uint32(rtp) != wantRTP {
			t.Fatalf("%v: want media_ns %d rtp %d", row, wantNS, wantRTP)
		}
		if ns < last {
			t.Fatalf("%v: media time goes back from %d", row, last)
		}
		last = ns
	}
	// 10 s: frames with media time < 10 s, and 500 chunks.
	if video != rate.FramesIn(10e9) || audio != 500 {
		t.Errorf("got %d frames and %d chunks, want %d and 500", video, audio, rate.FramesIn(10e9))
	}
}

func TestCLIProbeJSON(t *testing.T) {
	bin := segcastBin(t)
	wav := filepath.Join(t.TempDir(), "voice.wav")
	writeWAV(t, wav, 16000, 16000*3/2) // 1.5 s
	r := runCLI(t, bin, "", "probe", "--json", wav)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got []struct {
		Name      string  `json:"name"`
		Frames    int     `json:"frames"`
		AudioRate int     `json:"audio_rate"`
		Channels  int     `json:"audio_channels"`
		Duration  float64 `json:"duration_s"`
		Memory    int64   `json:"memory_bytes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if len(got) != 1 || got[0].Name != "voice" || got[0].Frames != 0 || got[0].AudioRate != 16000 ||
		got[0].Channels != 1 || got[0].Duration != 1.5 || got[0].Memory <= 0 {
		t.Errorf("probe = %+v", got)
	}
}

// Without a display the window is refused with a clear line, not a panic.
func TestCLIWindowWithoutDisplay(t *testing.T) {
	bin := segcastBin(t)
	cmd := exec.Command(bin, "--no-audio")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !bytes.Contains(out, []byte("no display")) || bytes.Contains(out, []byte("panic")) {
		t.Errorf("exit %v, output:\n%s", err, out)
	}
}

func TestCLIViewerWritesPage(t *testing.T) {
	bin := segcastBin(t)
	out := filepath.Join(t.TempDir(), "viewer.html")
	if r := runCLI(t, bin, "", "viewer", "--out", out); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(page, []byte("<video")) || !bytes.Contains(page, []byte("RTCPeerConnection")) {
		t.Errorf("viewer page: %v, %d bytes", err, len(page))
	}
}

// -h on a subcommand prints its flags and succeeds.
func TestCLISubcommandHelp(t *testing.T) {
	bin := segcastBin(t)
	r := runCLI(t, bin, "", "stream", "-h")
	if r.code != 0 || !strings.Contains(r.stdout, "-ice-server") || r.stderr != "" {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// needFFmpeg skips a test that generates media with ffmpeg where there is
// none, but fails it under CI=1.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") == "1" {
			t.Fatal("ffmpeg is not on PATH (CI=1): install Debian's ffmpeg (.ci/deps.sh test)")
		}
		t.Skip("ffmpeg is not on PATH")
	}
}

func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y", "-nostdin"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// Hostile and broken media files: exit 2 and one line naming the file and
// what is wrong with it, never a hang or a partial load.
func TestCLIBadMediaExitsTwo(t *testing.T) {
	needFFmpeg(t)
	bin := segcastBin(t)
	dir := t.TempDir()

	cut := filepath.Join(dir, "cut.mp4") // index first, then cut in half
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=sample_rate=48000",
		"-t", "5", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart", cut)
	if fi, err := os.Stat(cut); err != nil || os.Truncate(cut, fi.Size()/2) != nil {
		t.Fatal("cannot cut the clip")
	}

	// 24 hours of 8 kHz silence, sparse: 7.9 GiB at 48 kHz.
	day := filepath.Join(dir, "day.wav")
	writeWAV(t, day, 8000, 0)
	const data = 1_382_400_000 - 44
	hdr, _ := os.ReadFile(day)
	binary.LittleEndian.PutUint32(hdr[4:], 36+data)
	binary.LittleEndian.PutUint32(hdr[40:], data)
	os.WriteFile(day, hdr, 0o644)
	os.Truncate(day, 44+data)

	slow := filepath.Join(dir, "slow")
	os.Mkdir(slow, 0o755)
	writeWAV(t, filepath.Join(slow, "voice.wav"), 16000, 1600)
	os.WriteFile(filepath.Join(slow, "segment.toml"), []byte("fps = \"1/1000000\"\n"), 0o644)

	voice := filepath.Join(dir, "voice.wav")
	writeWAV(t, voice, 16000, 16000) // 1 s: 96 000 bytes at 48 kHz mono

	cases := []struct {
		name string
		args []string
		want []string // all in the one stderr line
	}{
		{"truncated mp4", []string{"probe", cut}, []string{"cut.mp4: truncated or damaged", "declares 150 frames and 5.000 s of sound"}},
		{"sound over budget", []string{"probe", "--budget", "300000000", day},
			[]string{"day.wav: needs 7910.2 MiB of memory for its sound (48 kHz) but only 286.1 MiB of the budget is left"}},
		{"probe budget", []string{"probe", "--budget", "50000", voice}, []string{"voice.wav: needs 0.1 MiB of memory for its sound"}},
		{"timeline budget", []string{"timeline", "--budget", "50000", voice}, []string{"voice.wav: needs 0.1 MiB"}},
		{"toml fps", []string{"timeline", slow}, []string{"slow: segment.toml: field fps: 1/1000000 is 1e-06 fps, want 1 to 240"}},
		{"flag fps", []string{"timeline", "--pattern", "--fps", "1000"}, []string{"--fps: 1000 is 1000 fps, want 1 to 240"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, bin, "", c.args...)
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if r.code != exitUsage || len(lines) != 1 || r.stdout != "" {
				t.Fatalf("exit %d, want %d with one line on stderr; stderr:\n%sstdout:\n%s", r.code, exitUsage, r.stderr, r.stdout)
			}
			for _, w := range c.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("stderr %q does not say %q", lines[0], w)
				}
			}
		})
	}
}

// A FIFO named x.wav is refused at once. Should segcast block opening it,
// the test opens the writing end (which succeeds only while a reader
// waits) to let it go, and fails.
func TestCLIProbeRefusesFIFO(t *testing.T) {
	bin := segcastBin(t)
	fifo := filepath.Join(t.TempDir(), "x.wav")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	finished, blocked := make(chan struct{}), make(chan bool, 1)
	go func() {
		select {
		case <-finished:
			blocked <- false
		case <-time.After(10 * time.Second):
			w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
			if err == nil {
				w.Close()
			}
			blocked <- err == nil
		}
	}()
	r := runCLI(t, bin, "", "probe", fifo)
	close(finished)
	if <-blocked {
		t.Error("probe blocked opening the FIFO")
	}
	if r.code != exitUsage || r.stderr != "segcast: "+fifo+": a named pipe (FIFO), not a regular file\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// probe reports what the container declares: a 10.000 s H.264/AAC clip
// lasts 10.000 s (not the AAC encoder's padded 10.005 s), and a clip whose
// display matrix turns it a quarter has the turned size.
func TestCLIProbeDeclaredDurationAndRotation(t *testing.T) {
	needFFmpeg(t)
	bin := segcastBin(t)
	dir := t.TempDir()
	ten := filepath.Join(dir, "ten.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=sample_rate=48000",
		"-t", "10", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", ten)
	turned := filepath.Join(dir, "turned.mp4")
	ffmpeg(t, "-i", ten, "-c", "copy", "-metadata:s:v", "rotate=90", turned)
	if out, _ := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream_side_data=rotation", "-of", "csv=p=0", turned).Output(); strings.TrimSpace(string(out)) == "" {
		ffmpeg(t, "-display_rotation:v:0", "90", "-i", ten, "-c", "copy", turned) // ffmpeg 6 and later
	}
	type info struct {
		Frames   int     `json:"frames"`
		Width    int     `json:"width"`
		Height   int     `json:"height"`
		Duration float64 `json:"duration_s"`
	}
	probeOne := func(path string) info {
		t.Helper()
		r := runCLI(t, bin, "", "probe", "--json", path)
		var got []info
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil || len(got) != 1 {
			t.Fatalf("probe %s: exit %d: %s%s", path, r.code, r.stderr, r.stdout)
		}
		return got[0]
	}
	if got := probeOne(ten); got.Duration != 10 || got.Frames != 300 || got.Width != 320 || got.Height != 240 {
		t.Errorf("ten.mp4: %+v, want 300 frames of 320x240 lasting 10 s", got)
	}
	if got := probeOne(turned); got.Width != 240 || got.Height != 320 || got.Duration != 10 {
		t.Errorf("turned.mp4: %+v, want 240x320 lasting 10 s", got)
	}
	// Probed together, each keeps its own size (not letterboxed to the first's).
	r := runCLI(t, bin, "", "probe", "--json", ten, turned)
	var both []info
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &both) != nil || len(both) != 2 ||
		both[0].Width != 320 || both[1].Width != 240 || both[1].Height != 320 {
		t.Errorf("probe of both: exit %d, %+v %s", r.code, both, r.stderr)
	}
}

// startCLI starts the binary with stdin from in and returns it with its
// stdout as lines (on a channel) and its stderr collected.
func startCLI(t *testing.T, bin string, in *os.File, args ...string) (*exec.Cmd, <-chan string, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LANGUAGE=")
	cmd.Stdin = in
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines, stderr
}

// syncBuffer is a bytes.Buffer safe for the exec copier and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// firstLine waits for the process's first stdout line.
func firstLine(t *testing.T, lines <-chan string, stderr *syncBuffer) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("no output; stderr:\n%s", stderr)
		}
		return l
	case <-time.After(60 * time.Second):
		t.Fatalf("no output in 60 s; stderr:\n%s", stderr)
	}
	return ""
}

// exitAfterSIGTERM sends SIGTERM and returns the exit status (-1: killed
// by a signal).
func exitAfterSIGTERM(t *testing.T, cmd *exec.Cmd, stderr *syncBuffer) int {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30 s after SIGTERM; stderr:\n%s", stderr)
	}
	return 0
}

// pionOffer is a real WHEP-style offer (receive video and audio), its
// candidates gathered.
func pionOffer(t *testing.T) string {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	return recvOffer(t, pc)
}

// recvOffer makes pc offer to receive video and audio, gathers its
// candidates and returns the offer's SDP; pc is closed when the test ends.
func recvOffer(t *testing.T, pc *webrtc.PeerConnection) string {
	t.Helper()
	t.Cleanup(func() { _ = pc.Close() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

// SIGTERM (kill, systemd, docker stop) stops serve as Ctrl+C does: the
// viewers are closed, --stats written and the exit status is 0.
// Listening on loopback only, it warns that a phone cannot open the link.
func TestCLIServeStopsOnSIGTERM(t *testing.T) {
	bin := segcastBin(t)
	stats := filepath.Join(t.TempDir(), "stats.json")
	cmd, lines, stderr := startCLI(t, bin, nil, "serve", "--pattern", "--size", "160x120", "--listen", "127.0.0.1:0", "--stats", stats)
	page := firstLine(t, lines, stderr)
	whep := firstLine(t, lines, stderr)
	if !strings.HasPrefix(page, "http://127.0.0.1:") || whep != page+"whep" {
		t.Fatalf("banner %q, %q", page, whep)
	}
	if !strings.Contains(stderr.String(), "level=WARN") || !strings.Contains(stderr.String(), "loopback only") {
		t.Errorf("no warning that the link opens on this machine only; stderr:\n%s", stderr)
	}
	resp, err := http.Post(whep, "application/sdp", strings.NewReader(pionOffer(t)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP join: %d", resp.StatusCode)
	}
	if code := exitAfterSIGTERM(t, cmd, stderr); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr.String(), "viewer removed") {
		t.Errorf("the viewer was not closed; stderr:\n%s", stderr)
	}
	checkStats(t, stats, 1)
}

// checkStats reads a --stats file written at a normal stop that had
// viewers viewers.
func checkStats(t *testing.T, path string, viewers int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no stats file after SIGTERM: %v", err)
	}
	var sum struct {
		Session struct {
			Viewers []any `json:"viewers"`
		} `json:"session"`
		Loop  map[string]any `json:"loop"`
		Error string         `json:"error"`
	}
	if err := json.Unmarshal(data, &sum); err != nil || sum.Loop == nil || sum.Error != "" || len(sum.Session.Viewers) != viewers {
		t.Errorf("stats file (%v), want %d viewers and no error: %s", err, viewers, data)
	}
}

// SIGTERM stops stream gracefully too, here while it waits for the
// answer: exit 0 and the --stats file written.
func TestCLIStreamStopsOnSIGTERMWithStats(t *testing.T) {
	bin := segcastBin(t)
	stdinR, stdinW, err := os.Pipe() // held open: the answer never comes
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	stats := filepath.Join(t.TempDir(), "stats.json")
	cmd, lines, stderr := startCLI(t, bin, stdinR, "stream", "--pattern", "--size", "160x120", "--offer", "--stats", stats)
	stdinR.Close()
	if offer := firstLine(t, lines, stderr); len(offer) < 100 {
		t.Fatalf("offer line %q", offer)
	}
	if code := exitAfterSIGTERM(t, cmd, stderr); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, stderr)
	}
	checkStats(t, stats, 1)
}

// stream stops reading stdin at its 64 KiB limit (issue 11: `cat /dev/zero
// | segcast stream --pattern` grew by 430 MB/s): exit 2 naming the limit.
func TestCLIStreamStopsReadingEndlessStdin(t *testing.T) {
	bin := segcastBin(t)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "stream", "--pattern", "--size", "160x120")
	cmd.Stdin = stdinR
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	// Zeros, as /dev/zero gives; 16 MiB at most, then the pipe stays open
	// and silent, so a reader that does not stop would wait forever.
	const most = 16 << 20
	written := make(chan int, 1)
	go func() {
		buf := make([]byte, 32<<10)
		n := 0
		for n < most {
			k, err := stdinW.Write(buf)
			n += k
			if err != nil {
				break // the process exited
			}
		}
		written <- n
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("still reading stdin after 60 s; stderr:\n%s", stderr)
	}
	stdinW.Close()
	n := <-written
	if code := cmd.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(stderr.String(), "limit") {
		t.Errorf("exit %d, want %d naming the limit; stderr:\n%s", code, exitUsage, stderr)
	}
	// The limit + 1 byte, plus what the pipe and one write hold.
	if n >= 1<<20 {
		t.Errorf("the process took %d bytes of stdin", n)
	}
}

// measure --out makes a folder that does not exist yet, as report tools
// do (a browser that fails to start ends the run right after).
func TestCLIMeasureMakesOutFolder(t *testing.T) {
	bin := segcastBin(t)
	out := filepath.Join(t.TempDir(), "reports", "today")
	r := runCLI(t, bin, "", "measure", "--pattern", "--size", "160x120", "--duration", "1s", "--browser", "/bin/false", "--out", out)
	if strings.Contains(r.stderr, "--out") {
		t.Fatalf("--out refused: %s", r.stderr)
	}
	if st, err := os.Stat(out); err != nil || !st.IsDir() {
		t.Fatalf("--out %s not made (%v); exit %d, stderr:\n%s", out, err, r.code, r.stderr)
	}
}
