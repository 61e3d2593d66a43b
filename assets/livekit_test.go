package assets

import (
	"bytes"
	"strings"
	"testing"
)

func TestLiveKitViewerPageIsSelfContained(t *testing.T) {
	page := string(LiveKitViewerPage())
	for _, want := range []string{"<video", "window.LivekitClient", "LivekitClient={}", "class Measurer", "class SyncLink", "window.segcastLiveKit"} {
		if !strings.Contains(page, want) {
			t.Errorf("LiveKit viewer page lacks %q", want)
		}
	}
	for _, slot := range []string{liveKitSlot, liveKitSyncSlot, measureSlot} {
		if strings.Contains(page, slot) {
			t.Errorf("slot %q left in the page", slot)
		}
	}
	// Offline: no script or style is fetched (the library's own URLs are
	// only used by features the page does not call).
	for _, bad := range []string{"<script src", "<link "} {
		if strings.Contains(page, bad) {
			t.Errorf("LiveKit viewer page fetches an outside resource (%q)", bad)
		}
	}
	// An inlined script must not end the <script> element early.
	if strings.Contains(string(liveKitClientJS), "</script") {
		t.Error("livekit-client contains </script: it cannot be inlined as is")
	}
}

func TestLiveKitViewerPageIsACopy(t *testing.T) {
	a := LiveKitViewerPage()
	a[0] = 'X'
	if b := LiveKitViewerPage(); b[0] == 'X' || !bytes.Equal(b[:9], []byte("<!doctype")) {
		t.Fatal("LiveKitViewerPage returned the embedded bytes, not a copy")
	}
}
