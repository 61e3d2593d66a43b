package share

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
)

// newWHEPTestSession is a real Session on loopback, small and idle (no
// loop feeds it: the handler tests need only signalling).
func newWHEPTestSession(t testing.TB) *rtc.Session {
	t.Helper()
	sess, err := rtc.NewSession(rtc.Config{Width: 320, Height: 180, Rate: engine.Rate30, LoopbackOnly: true})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	return sess
}

func newWHEPTestServer(t testing.TB, sess *rtc.Session, maxViewers int) *Server {
	t.Helper()
	srv, err := New(sess, Options{Addr: "127.0.0.1:0", MaxViewers: maxViewers})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return srv
}

// whepOfferer is what a browser does in WHEP mode: a pion peer with
// receive-only video and audio, its offer gathered on loopback.
func whepOfferer(t testing.TB) (*webrtc.PeerConnection, string) {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	var me webrtc.MediaEngine
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&me))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatalf("offerer: %v", err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatalf("offerer transceiver: %v", err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatalf("offerer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatalf("offerer: %v", err)
	}
	<-gathered
	return pc, pc.LocalDescription().SDP
}

// whepDo runs one request through the handler, without a network, from
// a random source address (the per-address join limit has its own test).
func whepDo(h http.Handler, method, target, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.RemoteAddr = clientAddr(rand.IntN(1 << 24))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestWHEPWrongTokenIs404AndMakesNoViewer(t *testing.T) {
	sess := newWHEPTestSession(t)
	srv := newWHEPTestServer(t, sess, 0)
	h := srv.Handler()
	_, offer := whepOfferer(t)
	wrong := strings.Repeat("0", len(srv.token))
	for _, target := range []string{
		"/", "/whep", "/" + wrong + "/", "/" + wrong + "/whep",
		"/" + srv.token[:len(srv.token)-1] + "/whep", // one character short
		"/" + srv.token + "x/whep",                   // one too many
		"/" + strings.ToUpper(srv.token) + "/whep",
		"/whep/" + srv.token,
	} {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			rec := whepDo(h, m, target, "application/sdp", []byte(offer))
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 404", m, target, rec.Code)
			}
		}
	}
	if vs := sess.Viewers(); len(vs) != 0 {
		t.Fatalf("requests without the token created viewers: %+v", vs)
	}
	// An unknown viewer under the right token is 404 too.
	if rec := whepDo(h, http.MethodDelete, "/"+srv.token+"/whep/nobody", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("DELETE unknown viewer: %d, want 404", rec.Code)
	}
}

func TestWHEPBodyOver64KiBIs413(t *testing.T) {
	sess := newWHEPTestSession(t)
	srv := newWHEPTestServer(t, sess, 0)
	_, offer := whepOfferer(t)
	// A real offer padded past the limit with an SDP attribute line.
	big := offer + "a=x-pad:" + strings.Repeat("p", 64<<10) + "\r\n"
	rec := whepDo(srv.Handler(), http.MethodPost, "/"+srv.token+"/whep", "application/sdp", []byte(big))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d (%s), want 413", rec.Code, rec.Body)
	}
	if vs := sess.Viewers(); len(vs) != 0 {
		t.Fatalf("oversized offer created viewers: %+v", vs)
	}
	// Exactly at the limit is read (and then refused as bad SDP, not 413).
	rec = whepDo(srv.Handler(), http.MethodPost, "/"+srv.token+"/whep", "application/sdp", bytes.Repeat([]byte("x"), maxWHEPBody))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("64 KiB body: status %d, want 400", rec.Code)
	}
}

func TestWHEPWrongMethodIs405(t *testing.T) {
	srv := newWHEPTestServer(t, newWHEPTestSession(t), 0)
	h := srv.Handler()
	cases := []struct{ method, path, allow string }{
		{http.MethodGet, "whep", "POST, OPTIONS"},
		{http.MethodPut, "whep", "POST, OPTIONS"},
		{http.MethodDelete, "whep", "POST, OPTIONS"},
		{http.MethodPost, "", "GET, HEAD"},
		{http.MethodGet, "whep/abc", "DELETE, OPTIONS"},
		{http.MethodPatch, "whep/abc", "DELETE, OPTIONS"}, // no trickle ICE
	}
	for _, c := range cases {
		rec := whepDo(h, c.method, "/"+srv.token+"/"+c.path, "application/sdp", nil)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s /<token>/%s: status %d, want 405", c.method, c.path, rec.Code)
		}
		if got := rec.Header().Get("Allow"); got != c.allow {
			t.Errorf("%s /<token>/%s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

func TestWHEPBadOfferIs400WithReason(t *testing.T) {
	sess := newWHEPTestSession(t)
	srv := newWHEPTestServer(t, sess, 0)
	h := srv.Handler()
	for _, body := range []string{"", "hello", "v=0\r\nthis is not sdp\r\n", "eyJ0eXBlIjoib2ZmZXIifQ=="} {
		rec := whepDo(h, http.MethodPost, "/"+srv.token+"/whep", "application/sdp", []byte(body))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("offer %q: status %d, want 400", body, rec.Code)
			continue
		}
		if msg := strings.TrimSpace(rec.Body.String()); !strings.HasPrefix(msg, "WHEP offer: ") || len(msg) < len("WHEP offer: ")+5 {
			t.Errorf("offer %q: error body %q does not say what is wrong", body, msg)
		}
	}
	for _, ct := range []string{"text/plain", "application/sdpfoo", "application/sdp-x", "application/sdp;;", ""} {
		rec := whepDo(h, http.MethodPost, "/"+srv.token+"/whep", ct, []byte("v=0"))
		if rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), "application/sdp") {
			t.Errorf("Content-Type %q: %d %q, want 415 naming application/sdp", ct, rec.Code, rec.Body)
		}
	}
	// The media type is matched whatever its case and parameters.
	for _, ct := range []string{"Application/SDP", "application/sdp; charset=utf-8"} {
		if rec := whepDo(h, http.MethodPost, "/"+srv.token+"/whep", ct, []byte("v=0")); rec.Code != http.StatusBadRequest {
			t.Errorf("Content-Type %q: %d, want the offer read (400 for this bad SDP)", ct, rec.Code)
		}
	}
	if vs := sess.Viewers(); len(vs) != 0 {
		t.Fatalf("bad offers created viewers: %+v", vs)
	}
}

// whepPost posts a fresh loopback offer and checks the 201 answer
// applies; it returns the viewer's Location.
func whepPost(t *testing.T, h http.Handler, endpoint string) (string, *webrtc.PeerConnection) {
	t.Helper()
	pc, offer := whepOfferer(t)
	rec := whepDo(h, http.MethodPost, endpoint, "application/sdp", []byte(offer))
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST offer: status %d (%s), want 201", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/sdp" {
		t.Errorf("answer Content-Type %q, want application/sdp", ct)
	}
	loc := rec.Header().Get("Location")
	if !strings.HasPrefix(loc, endpoint+"/") {
		t.Fatalf("Location %q is not under %s/", loc, endpoint)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: rec.Body.String()}); err != nil {
		t.Fatalf("answer does not apply to the offer: %v\n%s", err, rec.Body)
	}
	return loc, pc
}

func whepViewerIDs(sess *rtc.Session) []string {
	var ids []string
	for _, v := range sess.Viewers() {
		ids = append(ids, v.ID)
	}
	return ids
}

func TestWHEPOfferAnswerAndDelete(t *testing.T) {
	sess := newWHEPTestSession(t)
	srv := newWHEPTestServer(t, sess, 0)
	h := srv.Handler()
	endpoint := "/" + srv.token + "/whep"
	loc, _ := whepPost(t, h, endpoint)
	id := strings.TrimPrefix(loc, endpoint+"/")
	if ids := whepViewerIDs(sess); len(ids) != 1 || ids[0] != id {
		t.Fatalf("viewers %v, want just %q from the Location", ids, id)
	}
	if rec := whepDo(h, http.MethodDelete, loc, "", nil); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE %s: status %d, want 204", loc, rec.Code)
	}
	if ids := whepViewerIDs(sess); len(ids) != 0 {
		t.Fatalf("viewers after DELETE: %v", ids)
	}
	if rec := whepDo(h, http.MethodDelete, loc, "", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("second DELETE: status %d, want 404", rec.Code)
	}
}

func TestWHEPViewerCap(t *testing.T) {
	sess := newWHEPTestSession(t)
	srv := newWHEPTestServer(t, sess, 2)
	h := srv.Handler()
	endpoint := "/" + srv.token + "/whep"
	loc1, _ := whepPost(t, h, endpoint)
	whepPost(t, h, endpoint)
	_, offer := whepOfferer(t)
	rec := whepDo(h, http.MethodPost, endpoint, "application/sdp", []byte(offer))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("third viewer: status %d, want 503", rec.Code)
	}
	if n := len(sess.Viewers()); n != 2 {
		t.Fatalf("%d viewers after a refused third, want 2", n)
	}
	// A viewer that leaves frees its slot.
	if rec := whepDo(h, http.MethodDelete, loc1, "", nil); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", rec.Code)
	}
	whepPost(t, h, endpoint)
	// So does one closed by the app (the UI's close button).
	ids := whepViewerIDs(sess)
	if err := sess.CloseViewer(ids[0]); err != nil {
		t.Fatal(err)
	}
	whepPost(t, h, endpoint)
}

func TestWHEPServesPageUnderToken(t *testing.T) {
	srv := newWHEPTestServer(t, newWHEPTestSession(t), 0)
	h := srv.Handler()
	rec := whepDo(h, http.MethodGet, "/"+srv.token+"/", "", nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(rec.Body.String(), `<meta name="segcast-whep" content="whep">`) {
		t.Fatal("page does not name its WHEP endpoint")
	}
	if rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Error("page may leak its token in Referer")
	}
	rec = whepDo(h, http.MethodGet, "/"+srv.token, "", nil)
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/"+srv.token+"/" {
		t.Fatalf("page without slash: %d → %q, want 301 to /<token>/", rec.Code, rec.Header().Get("Location"))
	}
}

func TestShareServerOverLoopback(t *testing.T) {
	sess := newWHEPTestSession(t)
	srv := newWHEPTestServer(t, sess, 0)
	if srv.PageURL() != "" {
		t.Fatal("PageURL before Start")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	page := srv.PageURL()
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/[0-9a-f]{32}/$`).MatchString(page) {
		t.Fatalf("PageURL %q: want http://127.0.0.1:PORT/<128-bit hex token>/", page)
	}
	if srv.WHEPURL() != page+"whep" {
		t.Fatalf("WHEPURL %q, want %q", srv.WHEPURL(), page+"whep")
	}
	other := newWHEPTestServer(t, sess, 0)
	if other.token == srv.token {
		t.Fatal("two servers share a token")
	}
	resp, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET page: %d", resp.StatusCode)
	}
	_, offer := whepOfferer(t)
	resp, err = http.Post(srv.WHEPURL(), "application/sdp", strings.NewReader(offer))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST offer: %d", resp.StatusCode)
	}
	// Closing the share ends the viewers that came through it.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if ids := whepViewerIDs(sess); len(ids) != 0 {
		t.Fatalf("viewers after Close: %v", ids)
	}
	if _, err := http.Get(page); err == nil {
		t.Fatal("server still answers after Close")
	}
}

func TestShareOptionsChecked(t *testing.T) {
	sess := newWHEPTestSession(t)
	if _, err := New(sess, Options{Addr: "8787"}); err == nil || !strings.Contains(err.Error(), `"8787"`) {
		t.Errorf("address without a port: err %v, want one naming the address", err)
	}
	if _, err := New(sess, Options{MaxViewers: -1}); err == nil {
		t.Error("negative MaxViewers accepted")
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("nil session accepted")
	}
	srv, err := New(sess, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if srv.opt.Addr != ":8787" || srv.opt.MaxViewers != 16 {
		t.Errorf("defaults: addr %q, max %d; want :8787, 16", srv.opt.Addr, srv.opt.MaxViewers)
	}
}

func TestLANAddress(t *testing.T) {
	got := LANAddress()
	ip := net.ParseIP(got)
	if ip == nil || ip.To4() == nil {
		t.Fatalf("LANAddress %q is not an IPv4 address", got)
	}
	// Cross-check against the interfaces: a non-loopback address must be
	// one of this machine's; loopback only when there is no other.
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	haveLAN, mine := false, false
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			mine = mine || ipn.IP.Equal(ip)
			haveLAN = haveLAN || (!ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast())
		}
	}
	if !ip.IsLoopback() && !mine {
		t.Fatalf("LANAddress %s is not an address of this machine", got)
	}
	if ip.IsLoopback() && haveLAN {
		t.Logf("LANAddress fell back to loopback although an IPv4 address exists (interface down?)")
	}
	if !ip.IsLoopback() && !haveLAN {
		t.Fatalf("LANAddress %s, yet no LAN address exists", got)
	}
}

// decodeQR reads a QR code image and returns its text and
// error-correction level. It first finds the code by its finder patterns,
// as a camera app does; where gozxing's detector misses, it reads the
// image as the pure, upright code it is. That detector misses about 1 % of
// valid codes: 14 of 2000 random page URLs at 256 px, every one of which
// zbarimg reads (a CI run failed on one).
func decodeQR(t testing.TB, img image.Image) (text, level string) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		pure := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true}
		var perr error
		if res, perr = zxqr.NewQRCodeReader().Decode(bmp, pure); perr != nil {
			t.Fatalf("decode QR: %v; as a pure code: %v", err, perr)
		}
		t.Logf("decode QR: the finder-pattern detector missed (%v); read as a pure code", err)
	}
	ec, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL].(string)
	return res.GetText(), ec
}

func TestQRCodeRoundTrip(t *testing.T) {
	want := "http://192.168.1.20:8787/0123456789abcdef0123456789abcdef/"
	img, err := QRCode(want, 256)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Fatalf("QR image %v, want 256×256", b)
	}
	text, ec := decodeQR(t, img)
	if text != want {
		t.Fatalf("QR says %q, want %q", text, want)
	}
	if ec != "M" {
		t.Errorf("error correction %q, want M", ec)
	}
	if _, err := QRCode("", 256); err == nil {
		t.Error("empty URL accepted")
	}
}

func TestShareBanner(t *testing.T) {
	var buf bytes.Buffer
	page, whep, ctl := "http://10.0.0.2:8787/abc/", "http://10.0.0.2:8787/abc/whep", "http://127.0.0.1:4000/api/def/"
	if err := writeShareBanner(&buf, page, whep, ctl); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 12 || lines[0] != page || lines[1] != whep || lines[2] != ctl {
		t.Fatalf("banner starts %q, want the page URL, the WHEP URL, the control URL, then the QR code", lines[:min(len(lines), 4)])
	}
	// ToSmallString draws two modules per character with block glyphs.
	qr := strings.Join(lines[3:], "\n")
	if !strings.ContainsAny(qr, "█▀▄") {
		t.Fatalf("no QR code drawn:\n%s", qr)
	}
}

// FuzzWHEPRequest drives the handler with arbitrary methods, paths,
// content types and bodies. Whatever comes, it must not panic, must
// answer 404 without the token, may create a viewer only through a
// 201 to POST /<token>/whep, and must keep to the viewer cap.
func FuzzWHEPRequest(f *testing.F) {
	sess := newWHEPTestSession(f)
	srv := newWHEPTestServer(f, sess, 2)
	h := srv.Handler()
	_, offer := whepOfferer(f)
	f.Add("POST", true, "whep", "application/sdp", []byte(offer))
	f.Add("POST", true, "whep", "application/sdp", []byte("v=0\r\n"))
	f.Add("POST", false, "whep", "application/sdp", []byte(offer))
	f.Add("GET", true, "", "", []byte{})
	f.Add("DELETE", true, "whep/x", "", []byte{})
	f.Add("OPTIONS", true, "whep", "", []byte{})
	f.Add("POST", true, "whep/../whep", "application/SDP; charset=utf-8", []byte("garbage"))
	f.Add("PATCH", true, "whep/%2e%2e", "application/trickle-ice-sdpfrag", []byte("a=candidate"))
	f.Fuzz(func(t *testing.T, method string, withToken bool, rest, contentType string, body []byte) {
		path := "/" + rest
		if withToken {
			path = "/" + srv.token + "/" + rest
		}
		req := &http.Request{
			Method:     method,
			URL:        &url.URL{Path: path},
			Header:     http.Header{"Content-Type": {contentType}},
			Body:       io.NopCloser(bytes.NewReader(body)),
			RemoteAddr: clientAddr(rand.IntN(1 << 24)), // the join limit has its own tests
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req = req.WithContext(ctx)
		before := len(sess.Viewers())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		after := len(sess.Viewers())
		tokened := strings.HasPrefix(path, "/"+srv.token+"/") || path == "/"+srv.token
		if !tokened && rec.Code != http.StatusNotFound {
			t.Fatalf("%s %q without the token: %d, want 404", method, path, rec.Code)
		}
		if rec.Code == http.StatusCreated {
			if method != http.MethodPost || path != "/"+srv.token+"/whep" {
				t.Fatalf("201 for %s %q", method, path)
			}
		} else if after > before {
			t.Fatalf("%s %q: status %d yet a viewer was created", method, path, rec.Code)
		}
		if after > 2 {
			t.Fatalf("%d viewers, over the cap of 2", after)
		}
		for _, v := range sess.Viewers() { // keep iterations independent
			_ = sess.CloseViewer(v.ID)
		}
	})
}

func TestServeRunsForDurationAndPrintsBanner(t *testing.T) {
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: 320, Height: 180, Clock: clock, Lead: 100 * time.Millisecond})
	loop.Add(pattern.New(320, 180, engine.Rate30, time.Second))
	loop.Play()
	var out, logged bytes.Buffer
	opt := ServeOptions{
		Config: rtc.Config{Width: 320, Height: 180, Rate: engine.Rate30, Clock: clock, LoopbackOnly: true,
			Log: slog.New(slog.NewTextHandler(&logged, nil))},
		Addr:      "127.0.0.1:0",
		Duration:  500 * time.Millisecond,
		Out:       &out,
		StatsFile: filepath.Join(t.TempDir(), "stats.json"),
	}
	if err := Serve(context.Background(), loop, opt); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	var sum rtc.StreamSummary
	if data, err := os.ReadFile(opt.StatsFile); err != nil {
		t.Errorf("stats file: %v", err)
	} else if err := json.Unmarshal(data, &sum); err != nil || sum.Loop != loop.Stats() || sum.Streamed < opt.Duration || sum.Error != "" {
		t.Errorf("stats file (%v): %s; want the loop's stats %+v", err, data, loop.Stats())
	}
	lines := strings.Split(out.String(), "\n")
	if len(lines) < 12 || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/[0-9a-f]{32}/$`).MatchString(lines[0]) || lines[1] != lines[0]+"whep" ||
		!regexp.MustCompile(`^http://127\.0\.0\.1:\d+/api/[0-9a-f]{32}/$`).MatchString(lines[2]) {
		t.Fatalf("banner starts %q, want page URL, WHEP URL, then the control API's URL", lines[:min(len(lines), 3)])
	}
	// A link on 127.0.0.1 opens on this machine only: serve says so.
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "loopback") {
		t.Errorf("no warning about listening on loopback only; log:\n%s", logged.String())
	}
	// The loop ran for the duration (15 frames at 30 fps in 500 ms).
	if st := loop.Stats(); st.VideoFrames < 10 {
		t.Fatalf("loop emitted %d frames while serving 500 ms", st.VideoFrames)
	}
	// The loop is free again: Serve removed its sink and stopped running.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := loop.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("loop after Serve: %v, want it runnable (context canceled)", err)
	}
}

func TestServeRefusesBadOptions(t *testing.T) {
	loop := engine.NewLoop(engine.LoopConfig{Width: 320, Height: 180})
	good := rtc.Config{Width: 320, Height: 180, Rate: engine.Rate30, Clock: engine.NewWallClock(), LoopbackOnly: true}
	cases := map[string]struct {
		loop *engine.Loop
		opt  ServeOptions
		want string
	}{
		"nil loop":       {nil, ServeOptions{Config: good}, "nil loop"},
		"no clock":       {loop, ServeOptions{Config: rtc.Config{Width: 320, Height: 180, Rate: engine.Rate30}}, "Clock"},
		"bad size":       {loop, ServeOptions{Config: rtc.Config{Rate: engine.Rate30, Clock: good.Clock}}, "size"},
		"bad address":    {loop, ServeOptions{Config: good, Addr: "nope"}, `"nope"`},
		"bad max":        {loop, ServeOptions{Config: good, MaxViewers: -1}, "MaxViewers"},
		"negative limit": {loop, ServeOptions{Config: good, Duration: -time.Second}, "negative"},
	}
	for name, c := range cases {
		err := Serve(context.Background(), c.loop, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, c.want)
		}
	}
}

// An answer that finishes after Close (its ICE gathering outlived the
// shutdown grace) must not leave a viewer behind, and Close waits for it.
func TestWHEPAnswerAfterCloseIsEnded(t *testing.T) {
	sess := newWHEPTestSession(t)
	srv := newWHEPTestServer(t, sess, 0)
	_, offer := whepOfferer(t)
	if err := srv.reserve(); err != nil {
		t.Fatalf("no slot on an empty server: %v", err)
	}
	v, _, err := sess.AnswerSDP(context.Background(), offer)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	// Close cannot return while the answer holds its slot.
	for {
		srv.mu.Lock()
		stopped := srv.closed
		srv.mu.Unlock()
		if stopped {
			break
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while an answer was in progress", err)
	default:
	}
	if srv.release(v.ID()) {
		t.Fatal("release after Close accepted the viewer")
	}
	_ = v.Close() // what serveWHEP does then
	srv.work.Done()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if len(srv.viewers) != 0 || srv.busy != 0 {
		t.Fatalf("server still tracks %d viewers, %d busy", len(srv.viewers), srv.busy)
	}
	if err := srv.reserve(); !errors.Is(err, errStopped) {
		t.Fatalf("reserve after Close: %v, want %v", err, errStopped)
	}
}
