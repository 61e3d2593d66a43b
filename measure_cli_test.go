//go:build linux

package main

import (
	"os"
	"strings"
	"testing"

	"segcast/rtc/measure"
	"segcast/rtc/publish/lkserver"
)

// `segcast measure --livekit` refuses what cannot work: exit 2 and one
// stderr line, before or instead of measuring.
func TestCLIMeasureLiveKitErrors(t *testing.T) {
	bin := segcastBin(t)
	c := lkserver.Start(t, lkserver.Options{})
	url := c.Nodes[0].URL
	common := []string{"measure", "--pattern", "--size", "160x120", "--duration", "2s", "--out", t.TempDir()}
	cases := []struct {
		name    string
		args    []string
		browser bool // the case gets as far as starting the browser
		want    string
	}{
		{"token without a page token", []string{"--livekit", url, "--token", "t"}, false, "--token needs --viewer-token"},
		{"wrong secret", []string{"--livekit", url, "--api-key", "devkey", "--api-secret", "nope"}, true, "rejected the API key or secret"},
		{"bad URL", []string{"--livekit", "ftp://x", "--api-key", "k", "--api-secret", "s"}, true, "want a ws://"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(measure.DefaultBrowser); tc.browser && err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("CI: %s is needed: %v", measure.DefaultBrowser, err)
				}
				t.Skipf("needs %s: %v", measure.DefaultBrowser, err)
			}
			r := runCLI(t, bin, "", append(append([]string(nil), common...), tc.args...)...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != 2 || !strings.Contains(lines[len(lines)-1], tc.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 ending in a line containing %q", r.code, r.stderr, tc.want)
			}
		})
	}
}
