// Package chromium is the one list of flags Segcast runs Debian's headless
// Chromium with: in `segcast measure` and in the browser tests.
package chromium

import "github.com/chromedp/chromedp"

// DefaultPath is Debian's chromium.
const DefaultPath = "/usr/bin/chromium"

// Options are the flags Segcast runs headless Chromium with, here
// and in the tests: a fresh profile, autoplay with sound, plain host
// candidates instead of mDNS names (no multicast, no resolver needed), no
// background networking or throttling of the measuring page.
func Options(browser, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(profile),
	}
}
