//go:build smoke

package ui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pion/webrtc/v4"
)

// The window on a laptop screen (1280×720) and on half a 1920×1080 one
// (960×1040): sharing on the LAN, the QR code in the screenshot decodes
// to a link that serves the viewer page, and once a viewer has joined
// through that link's WHEP endpoint its row (the green "connected" dot)
// is in view. Screenshots are kept in $SEGCAST_SHOTS when set.
func TestSmokeLayoutScreens(t *testing.T) {
	needTools(t, "Xvfb", "import")
	bin := buildBinary(t)
	for _, size := range []image.Point{{1280, 720}, {960, 1040}} {
		t.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(t *testing.T) {
			display := startXvfbSize(t, size.X, size.Y)
			// Any free port for the share (Settings → LAN address), so a
			// server already on 8787 cannot fail the test.
			home := t.TempDir()
			prefs := filepath.Join(home, ".config", "fyne", AppID)
			if err := os.MkdirAll(prefs, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(prefs, "preferences.json"), []byte(`{"lan_addr":":0"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			_, exited, log := startAppHome(t, home, bin, display, "--no-audio", "--share")
			var url string
			var shot *image.RGBA
			deadline := time.Now().Add(60 * time.Second)
			for url == "" {
				if time.Now().After(deadline) {
					saveShot(t, shot, "noqr")
					t.Fatalf("no readable QR code on screen\napp log:\n%s", tail(log(), 2000))
				}
				select {
				case <-exited:
					t.Fatalf("app exited:\n%s", tail(log(), 2000))
				case <-time.After(time.Second):
				}
				shot = screenshot(t, display)
				url = decodeQR(shot)
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Fatalf("GET the QR code's link %s: %v", url, err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("<video")) {
				t.Fatalf("GET %s: %s, %d bytes: not the viewer page", url, resp.Status, len(page))
			}
			pc := whepViewer(t, url+"whep")
			defer pc.Close()
			var dot image.Rectangle
			for deadline := time.Now().Add(30 * time.Second); ; {
				shot = screenshot(t, display)
				if n, box := colourBox(shot, color.RGBAModel.Convert(dotConnected).(color.RGBA)); n >= 40 {
					dot = box
					break
				}
				if time.Now().After(deadline) {
					saveShot(t, shot, "noviewer")
					t.Fatalf("no connected viewer's row on screen (peer %s)\napp log:\n%s", pc.ConnectionState(), tail(log(), 2000))
				}
				time.Sleep(500 * time.Millisecond)
			}
			if !dot.In(shot.Bounds()) || dot.Min.X < size.X/2 {
				t.Errorf("viewer row's dot at %v: want it in the right half of the %v screen", dot, size)
			}
			if url2 := decodeQR(shot); url2 != url {
				t.Errorf("with a viewer the QR code reads %q, want %q", url2, url)
			}
			if w, h := qrBox(shot); w < 100 || w-h > 3 || h-w > 3 {
				t.Errorf("the QR code's white square is %d×%d: not all of it is in view", w, h)
			}
			saveShot(t, shot, "viewer")
			t.Logf("QR code reads %s; connected viewer's dot at %v", url, dot)
		})
	}
}

// qrBox measures the white square the QR code sits in (its quiet zone
// included), from the finder patterns outwards: a code cut off by the
// edge of its panel is not square.
func qrBox(img *image.RGBA) (w, h int) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return 0, 0
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil || len(res.GetResultPoints()) < 3 {
		return 0, 0
	}
	pts := res.GetResultPoints()    // bottom-left, top-left, top-right finder centres
	inCode := func(x, y int) bool { // white or black: the code and its quiet zone
		c := img.RGBAAt(x, y)
		return (c.R > 200 && c.G > 200 && c.B > 200) || (c.R < 8 && c.G < 8 && c.B < 8)
	}
	walk := func(x, y, dx, dy int) int {
		for inCode(x+dx, y+dy) && image.Pt(x+dx, y+dy).In(img.Bounds()) {
			x, y = x+dx, y+dy
		}
		if dx != 0 {
			return x
		}
		return y
	}
	bl, tl, tr := pts[0], pts[1], pts[2]
	x0 := walk(int(tl.GetX()), int(tl.GetY()), -1, 0)
	y0 := walk(int(tl.GetX()), int(tl.GetY()), 0, -1)
	x1 := walk(int(tr.GetX()), int(tr.GetY()), 1, 0)
	y1 := walk(int(bl.GetX()), int(bl.GetY()), 0, 1)
	return x1 - x0 + 1, y1 - y0 + 1
}

// decodeQR reads the QR code in img ("" when there is none readable).
func decodeQR(img image.Image) string {
	if img == nil {
		return ""
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return ""
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return ""
	}
	return res.GetText()
}

// saveShot keeps img as $SEGCAST_SHOTS/<test>-<what>.png when that is set.
func saveShot(t *testing.T, img image.Image, what string) {
	dir := os.Getenv("SEGCAST_SHOTS")
	if dir == "" || img == nil {
		return
	}
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + what + ".png"
	var b bytes.Buffer
	if err := png.Encode(&b, img); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644)
	}
}

// whepViewer joins endpoint as a WHEP viewer (RFC 9725) with pion: a
// receive-only offer POSTed as application/sdp, the 201's answer applied.
func whepViewer(t *testing.T, endpoint string) *webrtc.PeerConnection {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("WHEP POST: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP POST: %s: %s", resp.Status, body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		t.Fatal(err)
	}
	return pc
}
