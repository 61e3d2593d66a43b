package measure

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
	"segcast/rtc/measure/avsync"
	"segcast/rtc/share"
)

// firefoxPrefs make a fresh headless profile behave like a viewer's own
// Firefox that allows autoplay, and keep it off the network: host ICE
// candidates as plain addresses (Firefox hides them behind mDNS names
// unless the page holds a camera permission, and pion resolves none).
const firefoxPrefs = `
user_pref("devtools.console.stdout.content", true);
user_pref("media.autoplay.default", 0);
user_pref("media.autoplay.blocking_policy", 0);
user_pref("media.peerconnection.ice.obfuscate_host_addresses", false);
user_pref("media.peerconnection.ice.loopback", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
`

// firefoxWatch is how long the page must keep reporting.
const firefoxWatch = 10 * time.Second

// TestFirefoxPlaysOverWHEP opens the LAN link in headless Firefox ESR
// (Debian's firefox-esr), which joins over WHEP like a phone. There is no
// driver: the page's sync channel reports what it plays. Over
// firefoxWatch, every getStats sample must show video frames leaving the
// jitter buffer (the interval's jitterBufferDelay needs emitted frames)
// and no freeze, and the page must answer the app's clock pings. Sound is
// not checked: headless Firefox opens no audio output on a machine
// without a sound server (its AudioContext stays suspended), so rows,
// which need the beep heard, do not come.
func TestFirefoxPlaysOverWHEP(t *testing.T) {
	rtctest.RequireNetns(t)
	ff, err := exec.LookPath("firefox-esr")
	if err != nil {
		rtctest.Missing(t, fmt.Sprintf("Debian's firefox-esr: %v", err))
	}
	var hub *Hub
	_, sess := rtctest.StreamPattern(t, rtctest.BrowserW, rtctest.BrowserH, withHub(t, &hub))
	var logs rtctest.LogBuffer
	srv, err := share.New(sess, share.Options{Addr: "127.0.0.1:0",
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	home := t.TempDir()
	profile := filepath.Join(home, "profile")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(firefoxPrefs), 0o600); err != nil {
		t.Fatal(err)
	}
	var out rtctest.LogBuffer
	cmd := exec.Command(ff, "--headless", "--no-remote", "--profile", profile, srv.PageURL())
	cmd.Env = append(os.Environ(), "HOME="+home, "MOZ_HEADLESS=1")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nshare server log:\n%s\nFirefox's output (page console included):\n%s", append(args, logs.String(), out.String())...)
	}

	deadline := time.Now().Add(60 * time.Second)
	var v rtc.ViewerInfo
	for v.State != rtc.ViewerConnected {
		if time.Now().After(deadline) {
			fail("Firefox never connected (viewers %+v)", sess.Viewers())
		}
		time.Sleep(200 * time.Millisecond)
		if vs := sess.Viewers(); len(vs) == 1 {
			v = vs[0]
		}
	}
	// The page sends a getStats sample a second, each over its own
	// interval; read the latest once a second, from the first on.
	var samples []avsync.Stats
	for end := time.Now().Add(firefoxWatch); time.Now().Before(end); time.Sleep(time.Second) {
		si, ok := hub.Sync(v.ID)
		if !ok {
			fail("viewer %s went away while playing (viewers %+v)", v.ID, sess.Viewers())
		}
		if len(samples) == 0 && !si.LastStats.Freezes.Known() {
			if time.Now().After(deadline) {
				fail("no getStats sample from the page (sync %+v)", si)
			}
			end = end.Add(time.Second) // the watch starts at the first sample
			continue
		}
		samples = append(samples, si.LastStats)
	}
	si, _ := hub.Sync(v.ID)
	t.Logf("Firefox viewer %+v; sync %+v; %d stats samples", v, si, len(samples))
	if !si.Open || !si.ClockOffsetMS.Known() {
		fail("sync channel open %v, clock offset %v: the page's measuring code is not answering", si.Open, si.ClockOffsetMS)
	}
	for i, s := range samples {
		if !s.JitterBufferMS.Known() {
			fail("sample %d: no video frame left the jitter buffer in its interval: %+v", i, s)
		}
		if !s.Freezes.Known() || s.Freezes > 0 {
			fail("sample %d: freezeCount %v", i, s.Freezes)
		}
	}
}
