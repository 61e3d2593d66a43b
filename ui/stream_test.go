package ui

import (
	"bytes"
	"image"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"segcast/assets"
)

// Share on LAN shows a QR code that decodes to the URL beside it, and the
// URL serves the viewer page; stopping sharing takes both away.
func TestShareOnLANShowsQR(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.c.stream
	h.onUI(func() { h.c.set.LANAddr = "127.0.0.1:0" }) // any free port
	h.tap(s.link.toggle)
	var img image.Image
	var url string
	h.onUI(func() {
		if !s.link.details.Visible() || s.link.qr.Image == nil {
			t.Fatalf("no QR code after Share on LAN; message %q", s.message.Text)
		}
		img, url = s.link.qr.Image, s.link.url.Text
	})
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	if res.GetText() != url || url == "" {
		t.Fatalf("QR says %q, label says %q", res.GetText(), url)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	h.tap(s.link.toggle)
	h.onUI(func() {
		if s.link.details.Visible() || s.link.url.Text != "" || s.share != nil {
			t.Error("QR code still shown after Stop sharing")
		}
	})
	// The server stops off the UI thread, after the viewers' goodbye.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("page still served 5 s after Stop sharing: %s", resp.Status)
		}
	}
}

// "Save viewer page" writes the embedded page where the dialog says.
func TestSaveViewerPage(t *testing.T) {
	h := newHarness(t, Options{})
	out := filepath.Join(t.TempDir(), "viewer.html")
	h.picks <- out
	h.onUI(h.c.stream.saveViewerPage)
	h.waitFor("the saved message", func() bool { return bytes.Contains([]byte(h.c.stream.message.Text), []byte(out)) })
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, assets.ViewerPage()) {
		t.Errorf("saved %d bytes, want the %d-byte viewer page", len(got), len(assets.ViewerPage()))
	}
}
