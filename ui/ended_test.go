package ui

import (
	"fmt"
	"testing"
	"time"
)

// A viewer page that joined through the LAN link shows "Stream ended"
// with the host's reason as soon as the host stops sharing (the bye
// message), not "connected" on a frozen picture; its paste boxes are
// folded while connected.
func TestViewerPageSaysStreamEnded(t *testing.T) {
	ctx := startChromium(t, 60*time.Second)
	h := newHarness(t, Options{Size: "320x180"})
	s := h.c.stream
	h.onUI(func() { h.c.set.LANAddr = "127.0.0.1:0" })
	h.tap(s.link.toggle)
	var url string
	h.onUI(func() { url = s.link.url.Text })
	if url == "" {
		t.Fatalf("no link: %q", s.message.Text)
	}
	if _, err := pageEval[any](ctx, fmt.Sprintf("location.href = %q", url)); err != nil {
		t.Fatal(err)
	}
	waitPage := func(what, expr string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if ok, err := pageEval[bool](ctx, expr); err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("page: timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitPage("connected", `document.getElementById("state").textContent === "connected"`)
	waitPage("the sync channel", `window.segcastSync.open === true`)
	if folded, err := pageEval[bool](ctx, `!document.getElementById("paste").open`); err != nil || !folded {
		t.Errorf("paste boxes open while connected (err %v)", err)
	}
	stopped := time.Now()
	h.tap(s.link.toggle) // stop sharing
	waitPage("the ended state", `document.getElementById("state").textContent === "ended" && !document.getElementById("ended").hidden`)
	took := time.Since(stopped)
	reason, err := pageEval[string](ctx, `document.getElementById("endedReason").textContent`)
	if err != nil {
		t.Fatal(err)
	}
	if reason != "The host stopped sharing." {
		t.Errorf("ended reason %q, want the host's", reason)
	}
	t.Logf("page said the stream ended %v after Stop sharing", took.Round(10*time.Millisecond))
}
