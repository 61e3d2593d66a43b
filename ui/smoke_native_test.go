//go:build smoke

package ui

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The playing preview draws in X11 child windows (pane.go). The real
// binary under Xvfb: the picture is there; paused, a window laid over it
// and taken away leaves it whole (the child redraws on Expose); a Fyne
// dialog opened over it is seen, not hidden under the child window.
func TestSmokeNativePreview(t *testing.T) {
	needTools(t, "Xvfb", "import", "xdotool", "xmessage")
	bin := buildBinary(t)
	display := startXvfbSize(t, 1280, 720)
	clip := t.TempDir() + "/clip.y4m"
	writeY4M(t, clip, 320, 180, 60, 30, smokeColour)
	exited, log := startApp(t, bin, display, "--no-audio", "--loop", clip)

	x := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("xdotool", args...)
		cmd.Env = append(cmd.Environ(), "DISPLAY="+display)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("xdotool %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// count is the number of pixels of the clip's colour on screen, and
	// solid whether they fill their bounding box.
	count := func() (n int, solid bool) {
		n, box := colourBox(screenshot(t, display), smokeColour)
		return n, n > 0 && n >= box.Dx()*box.Dy()*95/100
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(300 * time.Millisecond) {
			select {
			case <-exited:
				t.Fatalf("app exited while waiting for %s:\n%s", what, tail(log(), 2000))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 30 s\napp log:\n%s", what, tail(log(), 2000))
			}
		}
	}

	var full int
	waitFor("solid preview", func() bool { n, solid := count(); full = n; return solid && n > 200*100 })
	waitFor("child windows", func() bool { return strings.Contains(log(), "preview draws in X11 child windows") })
	if strings.Contains(log(), "preview draws through Fyne") {
		t.Fatalf("the child windows failed:\n%s", tail(log(), 2000))
	}

	win := x("search", "--onlyvisible", "--name", "Segcast")
	x("windowfocus", strings.Fields(win)[0])
	x("key", "space") // pause: no new frame will redraw the picture
	time.Sleep(time.Second)

	cover := exec.Command("xmessage", "-geometry", "400x300+440+160", "cover")
	cover.Env = append(cover.Environ(), "DISPLAY="+display)
	if err := cover.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor("window over the preview", func() bool { n, _ := count(); return n < full*3/4 })
	cover.Process.Kill()
	cover.Wait()
	waitFor("whole picture after the window over it went", func() bool { _, solid := count(); return solid })

	x("key", "ctrl+comma") // Settings…: a dialog over the window, shading it
	waitFor("dialog over the preview", func() bool {
		n, _ := count()
		return n < full/10
	})
	t.Logf("preview %d px, whole again after a window covered it, under the Settings dialog", full)
}
