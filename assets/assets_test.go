package assets

import (
	"bytes"
	"strings"
	"testing"
)

func TestViewerPageIsSelfContained(t *testing.T) {
	page := string(ViewerPage())
	for _, want := range []string{"<video", "RTCPeerConnection", "window.segcastStats", "getStats", whepMeta} {
		if !strings.Contains(page, want) {
			t.Errorf("viewer page lacks %q", want)
		}
	}
	// Offline viewers: nothing may be fetched from elsewhere.
	for _, bad := range []string{"<script src", "<link ", "http://", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("viewer page refers to an outside resource (%q)", bad)
		}
	}
}

func TestViewerPageIsACopy(t *testing.T) {
	a := ViewerPage()
	a[0] = 'X'
	if b := ViewerPage(); b[0] == 'X' {
		t.Fatal("ViewerPage returned the embedded bytes, not a copy")
	}
}

func TestViewerPageWHEPFillsEndpoint(t *testing.T) {
	page := ViewerPageWHEP(`whep"><script>`)
	if bytes.Contains(page, []byte(whepMeta)) {
		t.Fatal("placeholder meta left in page")
	}
	want := `<meta name="segcast-whep" content="whep&#34;&gt;&lt;script&gt;">`
	if !bytes.Contains(page, []byte(want)) {
		t.Fatalf("endpoint not written (escaped) into the page; want %s", want)
	}
	if !bytes.Contains(ViewerPage(), []byte(whepMeta)) {
		t.Fatal("ViewerPageWHEP changed the embedded page")
	}
}
