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

func TestViewerPageInlinesMeasureJS(t *testing.T) {
	for name, page := range map[string][]byte{"ViewerPage": ViewerPage(), "ViewerPageWHEP": ViewerPageWHEP("whep")} {
		if bytes.Contains(page, []byte(measureSlot)) {
			t.Errorf("%s: measure.js slot left empty", name)
		}
		if !bytes.Contains(page, []byte("export class Measurer")) || !bytes.Contains(page, []byte("globalThis.SegcastMeasure")) {
			t.Errorf("%s: measure.js not inlined", name)
		}
		if !bytes.Contains(page, []byte(`createDataChannel(SYNC_LABEL)`)) {
			t.Errorf("%s: page does not open the sync channel", name)
		}
	}
	// Inlined into a <script> element, the module must not close it.
	if bytes.Contains(bytes.ToLower(measureJS), []byte("</script")) {
		t.Error("measure.js contains </script, which would end the inline element")
	}
}
