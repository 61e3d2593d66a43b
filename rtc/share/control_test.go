package share

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

func TestControlURLAndTokens(t *testing.T) {
	r := newCtlRig(t, rigOpt{})
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/api/[0-9a-f]{32}/$`).MatchString(r.url) {
		t.Fatalf("control URL %q, want http://127.0.0.1:PORT/api/<128-bit hex token>/", r.url)
	}
	// The viewers' server has a token of its own; it gives no control.
	sess := newWHEPTestSession(t)
	viewers := newWHEPTestServer(t, sess, 0)
	if viewers.token == r.ctl.token {
		t.Fatal("viewer and control tokens are the same")
	}
	base := strings.TrimSuffix(r.url, r.ctl.token+"/")
	for _, tok := range []string{viewers.token, strings.Repeat("0", 32), r.ctl.token[:31], r.ctl.token + "0", ""} {
		for _, c := range []struct{ method, path string }{
			{"GET", "segments"}, {"POST", "segments"}, {"GET", "segments/1"}, {"DELETE", "segments/1"},
			{"PUT", "idle"}, {"DELETE", "idle"}, {"POST", "interrupt?clear=1"}, {"GET", "live"}, {"GET", ""},
		} {
			req, _ := http.NewRequest(c.method, base+tok+"/"+c.path, strings.NewReader(string(newClip(64, 36, engine.Rate30, 48000, time.Second).wav())))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s with token %q: %d, want 404", c.method, c.path, tok, resp.StatusCode)
			}
		}
	}
	if es := r.loop.Entries(); len(es) != 0 || r.loop.IdleClip() != nil {
		t.Fatalf("wrong tokens changed the loop: entries %+v", es)
	}
	// The right token works; the info names the output.
	var info map[string]any
	if resp := r.do(t, "GET", "", "", nil, &info); resp.StatusCode != 200 || info["width"] != 320.0 || info["fps"] != "30" {
		t.Fatalf("GET info: %d %v", resp.StatusCode, info)
	}
}

// A given token is the URL's (a replacement Control keeps its URL); one
// that is short or not hex is refused.
func TestControlGivenToken(t *testing.T) {
	tok, err := NewControlToken()
	if err != nil {
		t.Fatal(err)
	}
	r := newCtlRig(t, rigOpt{ctl: func(o *ControlOptions) { o.Token = tok }})
	if !strings.HasSuffix(r.url, "/api/"+tok+"/") {
		t.Fatalf("control URL %q does not carry the given token %s", r.url, tok)
	}
	if resp := r.do(t, "GET", "segments", "", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET segments with the given token: %d", resp.StatusCode)
	}
	for _, bad := range []string{"abc", strings.Repeat("g", 32), tok[:31]} {
		_, err := NewControl(r.loop, ControlOptions{Rate: engine.Rate30, Size: image.Pt(64, 36), Token: bad})
		if err == nil || !strings.Contains(err.Error(), "token") {
			t.Errorf("token %q: err %v, want a refusal naming the token", bad, err)
		}
	}
}

// pngFolder writes a segment folder: n PNG frames, a WAV and a
// segment.toml naming it.
func pngFolder(t *testing.T, dir string, n int, name string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 64, 36))
		for j := range img.Pix {
			img.Pix[j] = byte(i * 20)
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		os.WriteFile(filepath.Join(dir, "f"+string(rune('a'+i))+".png"), b.Bytes(), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "sound.wav"), newClip(64, 36, engine.Rate30, 16000, time.Second).wav(), 0o644)
	os.WriteFile(filepath.Join(dir, "segment.toml"), []byte("fps = \"10\"\nname = \""+name+"\"\n"), 0o644)
}

// archive packs the files under dir (as a top folder "clip") as a zip,
// a tar or a tar.gz.
func archive(t *testing.T, dir, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	var zw *zip.Writer
	var tw *tar.Writer
	var gz *gzip.Writer
	switch format {
	case "zip":
		zw = zip.NewWriter(&b)
	case "tar":
		tw = tar.NewWriter(&b)
	case "tgz":
		gz = gzip.NewWriter(&b)
		tw = tar.NewWriter(gz)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		name := "clip/" + e.Name()
		if zw != nil {
			w, _ := zw.Create(name)
			w.Write(data)
		} else {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
			tw.Write(data)
		}
	}
	if zw != nil {
		zw.Close()
	} else {
		tw.Close()
	}
	if gz != nil {
		gz.Close()
	}
	return b.Bytes()
}

func TestControlPostEveryFormat(t *testing.T) {
	r := newCtlRig(t, rigOpt{})
	c25 := newClip(160, 90, engine.Rate25, 24000, time.Second)
	folder := filepath.Join(t.TempDir(), "clip")
	pngFolder(t, folder, 5, "from toml")
	type want struct {
		name       string
		frames     int
		durationMS int64
	}
	cases := []struct {
		what, query string
		body        func() (*bytes.Reader, string)
		want        want
	}{
		{"y4m", "?name=one", func() (*bytes.Reader, string) { return bytes.NewReader(c25.y4m()), "video/x-yuv4mpeg" }, want{"one", 25, 1000}},
		{"wav", "", func() (*bytes.Reader, string) { return bytes.NewReader(c25.wav()), "audio/wav" }, want{"upload", 0, 1000}},
		{"y4m+wav", "?name=both&mode=queue", func() (*bytes.Reader, string) {
			b, ct := multipartBody(c25.y4m(), c25.wav(), false)
			return bytesOf(b), ct
		}, want{"both", 25, 1000}},
		{"wav+y4m", "", func() (*bytes.Reader, string) {
			b, ct := multipartBody(c25.y4m(), c25.wav(), true)
			return bytesOf(b), ct
		}, want{"clip", 25, 1000}},
		{"zip", "", func() (*bytes.Reader, string) { return bytes.NewReader(archive(t, folder, "zip")), "application/zip" }, want{"from toml", 5, 1000}},
		{"tar", "?name=tarred", func() (*bytes.Reader, string) { return bytes.NewReader(archive(t, folder, "tar")), "" }, want{"tarred", 5, 1000}},
		{"tgz", "", func() (*bytes.Reader, string) {
			return bytes.NewReader(archive(t, folder, "tgz")), "application/gzip"
		}, want{"from toml", 5, 1000}},
	}
	if ffmpeg, err := exec.LookPath("ffmpeg"); err == nil {
		mp4 := filepath.Join(t.TempDir(), "c.mp4")
		out, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30", "-f", "lavfi",
			"-i", "sine=f=440:r=44100", "-t", "1", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", mp4).CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		data, _ := os.ReadFile(mp4)
		cases = append(cases, struct {
			what, query string
			body        func() (*bytes.Reader, string)
			want        want
		}{"mp4 with a WAV part", "?name=mp4", func() (*bytes.Reader, string) {
			var b bytes.Buffer
			mw := newMultipart(&b, map[string][]byte{"video": data, "audio": c25.wav()})
			return bytes.NewReader(b.Bytes()), mw
		}, want{"mp4", 30, 1000}})
	} else {
		defer rtctest.Missing(t, "ffmpeg (Debian's ffmpeg) for the MP4 upload")
	}
	var last engine.EntryID
	for _, c := range cases {
		body, ct := c.body()
		var got entryJSON
		resp := r.do(t, "POST", "segments"+c.query, ct, body, &got)
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("%s: %d %s", c.what, resp.StatusCode, bodyOf(resp))
			continue
		}
		if loc := resp.Header.Get("Location"); loc != "segments/"+formatID(got.ID) {
			t.Errorf("%s: Location %q for id %d", c.what, loc, got.ID)
		}
		if got.ID <= last || got.Name != c.want.name || got.Frames != c.want.frames || got.DurationMS != c.want.durationMS ||
			got.State != "queued" || got.Origin != OriginAPI || got.StartedMediaMS != nil {
			t.Errorf("%s: %+v, want id > %d, %+v, queued, origin api", c.what, got, last, c.want)
		}
		last = got.ID
		var one entryJSON
		if resp := r.do(t, "GET", "segments/"+formatID(got.ID), "", nil, &one); resp.StatusCode != 200 || one.ID != got.ID {
			t.Errorf("%s: GET segments/%d: %d %+v", c.what, got.ID, resp.StatusCode, one)
		}
	}
	if es := r.entries(t); len(es) != len(cases) {
		t.Fatalf("GET segments lists %d entries, want %d", len(es), len(cases))
	}
	// The multipart sound replaced the MP4's own; mono doubled for the
	// streamed Y4M whose audio part came second.
	for _, e := range r.ctl.Entries() {
		if e.Origin != OriginAPI {
			t.Errorf("entry %d origin %q", e.ID, e.Origin)
		}
	}
}

func bytesOf(r interface{ Read([]byte) (int, error) }) *bytes.Reader {
	var b bytes.Buffer
	b.ReadFrom(r)
	return bytes.NewReader(b.Bytes())
}

func newMultipart(b *bytes.Buffer, parts map[string][]byte) string {
	body, ct := multipartBody(parts["video"], parts["audio"], false)
	b.ReadFrom(body)
	return ct
}

func TestControlRefusesBadInputAndDisturbsNothing(t *testing.T) {
	r := newCtlRig(t, rigOpt{budget: 64 << 20, ctl: func(o *ControlOptions) { o.MaxUpload = 8 << 20 }})
	good := newClip(160, 90, engine.Rate30, 48000, time.Second)
	var first entryJSON
	if resp := r.do(t, "POST", "segments", "", bytes.NewReader(good.y4m()), &first); resp.StatusCode != 201 {
		t.Fatalf("good POST: %d %s", resp.StatusCode, bodyOf(resp))
	}
	used := r.store.Used()
	y4m := good.y4m()
	slip := func() []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, _ := zw.Create("../../escaped.wav")
		w.Write(good.wav())
		zw.Close()
		return b.Bytes()
	}
	link := func() []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		tw.WriteHeader(&tar.Header{Name: "clip/sound.wav", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink})
		tw.Close()
		return b.Bytes()
	}
	big := newClip(320, 180, engine.Rate30, 48000, 2*time.Second).y4m() // 5.2 MB of frames, under the upload cap
	cases := []struct {
		what, query, ct string
		body            []byte
		code            int
		say             string
	}{
		{"garbage", "", "", []byte("hello, this is not media at all"), 415, "unsupported media"},
		{"empty", "", "", nil, 415, "unsupported media"},
		{"truncated y4m", "", "", y4m[:len(y4m)-1000], 400, "truncated"},
		{"bad wav", "", "", append([]byte("RIFF\x00\x00\x00\x00WAVEfmt "), make([]byte, 40)...), 400, "fmt chunk"},
		{"bad mode", "?mode=later", "", good.wav(), 400, "mode"},
		{"zip slip", "", "", slip(), 400, "leaves the folder"},
		{"tar symlink", "", "", link(), 400, "not a regular file"},
		{"unknown part", "", "", nil, 400, "part"},
		{"over the upload cap", "", "", wavBytes(make([]int16, 5<<20), 48000, 1), 413, "too large"},
		{"over the budget", "", "", big, 413, "budget"},
	}
	for _, c := range cases {
		body, ct := bytes.NewReader(c.body), c.ct
		if c.what == "unknown part" {
			var b bytes.Buffer
			mw := multipartWriter(&b, "sound")
			body, ct = bytes.NewReader(b.Bytes()), mw
		}
		if c.what == "over the budget" {
			r.store.SetBudget(used + 64<<10) // not even compressed
		}
		resp := r.do(t, "POST", "segments"+c.query, ct, body, nil)
		msg := bodyOf(resp)
		if resp.StatusCode != c.code || !strings.Contains(msg, c.say) {
			t.Errorf("%s: %d %s, want %d mentioning %q", c.what, resp.StatusCode, msg, c.code, c.say)
		}
		if strings.Contains(msg, os.TempDir()) || strings.Contains(msg, "segcast-upload-") {
			t.Errorf("%s: message names the temporary folder: %s", c.what, msg)
		}
		if es := r.loop.Entries(); len(es) != 1 || es[0].ID != first.ID {
			t.Fatalf("%s: queue now %+v, want only the first entry", c.what, es)
		}
		if got := r.store.Used(); got != used {
			t.Fatalf("%s: store holds %d bytes, want %d as before", c.what, got, used)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(r.ctl.opt.TempDir), "escaped.wav")); err == nil {
		t.Fatal("zip slip wrote outside the upload folder")
	}
	if left, _ := os.ReadDir(r.ctl.opt.TempDir); len(left) != 0 {
		t.Fatalf("uploads left behind: %v", left)
	}
	// Frames that do not fit uncompressed are loaded as the loaders do,
	// compressed, rather than refused.
	r.store.SetBudget(used + 3<<20)
	var e entryJSON
	if resp := r.do(t, "POST", "segments", "", bytes.NewReader(big), &e); resp.StatusCode != 201 || e.Frames != 60 {
		t.Fatalf("POST of 5.2 MB of frames into 3 MiB: %d %s, want 201 with the frames compressed", resp.StatusCode, bodyOf(resp))
	}
	if got := r.store.Used(); got <= used || got > used+3<<20 {
		t.Fatalf("store holds %d bytes, want within the budget", got)
	}
}

// multipartWriter writes a form with one part of that name.
func multipartWriter(b *bytes.Buffer, part string) string {
	mw := multipart.NewWriter(b)
	w, _ := mw.CreateFormFile(part, "x.wav")
	w.Write([]byte("RIFF"))
	mw.Close()
	return mw.FormDataContentType()
}

func TestControlCancelIdleInterrupt(t *testing.T) {
	r := newCtlRig(t, rigOpt{w: 160, h: 90, run: true})
	// Long enough to be playing still, however slow the machine: it is cut.
	long := newClip(160, 90, engine.Rate30, 48000, 20*time.Second).y4m()
	post := func(q string) entryJSON {
		var e entryJSON
		if resp := r.do(t, "POST", "segments"+q, "", bytes.NewReader(long), &e); resp.StatusCode != 201 {
			t.Fatalf("POST: %d %s", resp.StatusCode, bodyOf(resp))
		}
		return e
	}
	a, b, c := post("?name=a"), post("?name=b"), post("?name=c")
	r.waitEntry(t, a.ID, "playing", func(e engine.Entry) bool { return e.State == engine.EntryPlaying })
	// DELETE a queued entry drops it; a playing one is cut.
	if resp := r.do(t, "DELETE", "segments/"+formatID(b.ID), "", nil, nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE queued: %d", resp.StatusCode)
	}
	if e, _ := r.loop.Entry(b.ID); e.State != engine.EntryCancelled || e.Started {
		t.Fatalf("deleted queued entry: %+v", e)
	}
	if resp := r.do(t, "DELETE", "segments/"+formatID(a.ID), "", nil, nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE playing: %d", resp.StatusCode)
	}
	r.waitEntry(t, a.ID, "cancelled", func(e engine.Entry) bool { return e.State == engine.EntryCancelled })
	r.waitEntry(t, c.ID, "playing", func(e engine.Entry) bool { return e.State == engine.EntryPlaying })
	for _, q := range []struct {
		path string
		code int
	}{{"segments/" + formatID(a.ID), 409}, {"segments/999", 404}, {"segments/x", 404}, {"segments/0", 404}} {
		if resp := r.do(t, "DELETE", q.path, "", nil, nil); resp.StatusCode != q.code {
			t.Errorf("DELETE %s: %d, want %d", q.path, resp.StatusCode, q.code)
		}
	}
	if resp := r.do(t, "GET", "segments/999", "", nil, nil); resp.StatusCode != 404 {
		t.Errorf("GET unknown entry: %d", resp.StatusCode)
	}
	// PUT idle sets the clip that loops; DELETE idle restores the card.
	var idle map[string]any
	if resp := r.do(t, "PUT", "idle?name=breathing", "", bytes.NewReader(long), &idle); resp.StatusCode != 200 || idle["name"] != "breathing" {
		t.Fatalf("PUT idle: %d %v", resp.StatusCode, idle)
	}
	if seg := r.loop.IdleClip(); seg == nil || seg.Name != "breathing" || seg.Frames.Len() != 600 {
		t.Fatalf("idle clip %+v", seg)
	}
	if resp := r.do(t, "GET", "idle", "", nil, &idle); resp.StatusCode != 200 || idle["builtin"] != false {
		t.Fatalf("GET idle: %v", idle)
	}
	if resp := r.do(t, "PUT", "idle", "", strings.NewReader("nope"), nil); resp.StatusCode != 415 || r.loop.IdleClip().Name != "breathing" {
		t.Fatalf("bad PUT idle: %d, idle now %q", resp.StatusCode, r.loop.IdleClip().Name)
	}
	// POST interrupt?clear=1 cuts what plays and drops the queue.
	d, e := post("?name=d"), post("?name=e")
	if resp := r.do(t, "POST", "interrupt?clear=1", "", nil, nil); resp.StatusCode != 204 {
		t.Fatalf("interrupt: %d", resp.StatusCode)
	}
	for _, id := range []engine.EntryID{c.ID, d.ID, e.ID} {
		r.waitEntry(t, id, "cancelled", func(e engine.Entry) bool { return e.State == engine.EntryCancelled })
	}
	if resp := r.do(t, "POST", "interrupt?clear=maybe", "", nil, nil); resp.StatusCode != 400 {
		t.Errorf("interrupt?clear=maybe: %d, want 400", resp.StatusCode)
	}
	if resp := r.do(t, "DELETE", "idle", "", nil, nil); resp.StatusCode != 204 || r.loop.IdleClip() != nil {
		t.Fatalf("DELETE idle: %d, clip %v", resp.StatusCode, r.loop.IdleClip())
	}
	if resp := r.do(t, "PATCH", "segments", "", nil, nil); resp.StatusCode != 405 {
		t.Errorf("PATCH segments: %d, want 405", resp.StatusCode)
	}
	// Everything played or dropped is given back once the loop let go.
	deadline := time.Now().Add(time.Minute)
	for r.store.Used() != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if u := r.store.Used(); u != 0 {
		t.Fatalf("store still holds %d bytes", u)
	}
}

func TestControlWatchFolder(t *testing.T) {
	dir := t.TempDir()
	c := newClip(64, 36, engine.Rate30, 48000, time.Second)
	os.WriteFile(filepath.Join(dir, "before.wav"), c.wav(), 0o644) // there already: left alone
	r := newCtlRig(t, rigOpt{ctl: func(o *ControlOptions) { o.WatchDir = dir }})
	put := func(name string, data []byte) { // atomically, as the contract asks
		tmp := filepath.Join(dir, "."+name+".tmp")
		os.WriteFile(tmp, data, 0o644)
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	put("a.wav", c.wav())
	os.WriteFile(filepath.Join(dir, "b.y4m.part"), c.y4m(), 0o644) // partial: ignored
	seg := filepath.Join(dir, "folder")
	os.Mkdir(seg, 0o755)
	os.WriteFile(filepath.Join(seg, "f.png"), pngOf(t), 0o644)
	put("bad.y4m", []byte("YUV4MPEG2 W10 H10\nFRAME\nshort"))
	waitFor(t, "a.wav queued and bad.y4m refused", func() bool {
		return len(r.loop.Entries()) == 1 && len(r.ctl.Problems()) == 1
	})
	if e := r.ctl.Entries()[0]; e.Name != "a" || e.Origin != OriginWatch {
		t.Fatalf("watched entry %+v", e)
	}
	if p := r.ctl.Problems()[0]; !strings.HasSuffix(p.Source, "bad.y4m") || !strings.Contains(p.Err, "too short") {
		t.Fatalf("problem %+v", p)
	}
	// The folder is queued once its marker is there, and only once.
	os.WriteFile(filepath.Join(seg, ".done"), nil, 0o644)
	waitFor(t, "the folder queued", func() bool { return len(r.loop.Entries()) == 2 })
	time.Sleep(4 * watchPoll)
	if es := r.ctl.Entries(); len(es) != 2 || es[1].Name != "folder" {
		t.Fatalf("entries %+v, want a then folder, each once", es)
	}
	for _, n := range []string{"before.wav", "a.wav", "bad.y4m", "folder/f.png"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s: %v (watched files are never deleted)", n, err)
		}
	}
	// A Y4M with its WAV (written first) is one segment with sound.
	put("talk.wav", c.wav())
	put("talk.y4m", c.y4m())
	waitFor(t, "talk queued", func() bool { return len(r.loop.Entries()) == 3 })
	time.Sleep(4 * watchPoll)
	es := r.loop.Entries()
	if len(es) != 3 || es[2].Name != "talk" || es[2].Frames != 30 {
		t.Fatalf("entries %+v, want talk once with 30 frames", es)
	}
	if err := r.ctl.Watch(filepath.Join(dir, "nope")); err == nil {
		t.Error("watching a missing folder accepted")
	}
	if err := r.ctl.Watch(""); err != nil {
		t.Fatal(err)
	}
	put("late.wav", c.wav())
	time.Sleep(4 * watchPoll)
	if n := len(r.loop.Entries()); n != 3 {
		t.Fatalf("%d entries after watching stopped, want 3", n)
	}
}

func pngOf(t *testing.T) []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 36)))
	return b.Bytes()
}

// waitFor polls cond; the deadline only ends a test that would hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeStartsIdleWithControlAPI(t *testing.T) {
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: 160, Height: 90, Clock: clock, Lead: rtc.EncodeLead,
		Idle: pattern.IdleCard(160, 90)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctlCh := make(chan *Control, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- serveWithHook(ctx, loop, ServeOptions{Config: rtc.Config{Width: 160, Height: 90, Rate: engine.Rate30, Clock: clock, LoopbackOnly: true},
			Addr: "127.0.0.1:0", Out: &out}, func(_ *rtc.Session, c *Control) { ctlCh <- c })
	}()
	ctl := <-ctlCh
	r := &ctlRig{loop: loop, ctl: ctl, url: ctl.URL()}
	var e entryJSON
	if resp := r.do(t, "POST", "segments", "", bytes.NewReader(newClip(160, 90, engine.Rate30, 48000, time.Second).wav()), &e); resp.StatusCode != 201 {
		t.Fatalf("POST to serve's control API: %d %s", resp.StatusCode, bodyOf(resp))
	}
	r.waitEntry(t, e.ID, "done", func(e engine.Entry) bool { return e.State == engine.EntryDone })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(ctl.URL() + "segments"); err == nil {
		resp.Body.Close()
		t.Fatal("control API still serving after Serve returned")
	}
}
