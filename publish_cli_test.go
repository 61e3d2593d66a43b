//go:build linux

package main

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"segcast/rtc/publish/lkserver"
)

// `segcast publish` against a real LiveKit server: one stdout line, the
// tracks in the room while it runs, exit 0 at the end of --duration.
func TestCLIPublishLiveKit(t *testing.T) {
	bin := segcastBin(t)
	c := lkserver.Start(t, lkserver.Options{})
	url := c.Nodes[0].URL
	cmd := exec.Command(bin, "publish", "--pattern", "--size", "320x240", "--duration", "6s",
		"--livekit", url, "--room", "cli", "--identity", "segcast-cli")
	cmd.Env = append(cmd.Environ(), "LIVEKIT_API_KEY="+lkserver.APIKey, "LIVEKIT_API_SECRET="+lkserver.APISecret)
	var errb strings.Builder
	cmd.Stderr = &errb
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 4)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// The room exists once the publisher is in and has printed its line.
	var first string
	select {
	case first = <-lines:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("no stdout line in time")
	}
	sub := lkserver.Subscribe(t, url, "cli", "viewer", false)
	rest := []string{}
	for l := range lines { // until stdout closes at exit
		rest = append(rest, l)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("publish: %v; stderr:\n%s", err, errb.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("publish did not end after --duration; stderr:\n%s", errb.String())
	}
	if len(rest) != 0 || !strings.HasPrefix(first, "livekit room=cli url="+url+" identity=segcast-cli viewer=https://") {
		t.Errorf("stdout %q then %q: want one line naming the room and a viewer link", first, rest)
	}
	if strings.Contains(errb.String(), lkserver.APISecret+" ") {
		t.Errorf("stderr shows the secret:\n%s", errb.String())
	}
	if frames, audio := sub.Counts(); frames < 30 || audio < 50 {
		t.Errorf("the viewer got %d frames and %d audio packets", frames, audio)
	}
}

// Every failure to reach the server: exit 2 and one stderr line, soon.
func TestCLIPublishErrors(t *testing.T) {
	bin := segcastBin(t)
	c := lkserver.Start(t, lkserver.Options{})
	url := c.Nodes[0].URL
	closed, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := closed.Addr().String()
	closed.Close()
	common := []string{"publish", "--pattern", "--size", "160x120", "--duration", "2s"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no target", nil, "give --livekit URL or --whip URL"},
		{"both targets", []string{"--livekit", url, "--whip", "http://x/whip"}, "give --livekit URL or --whip URL"},
		{"bad URL", []string{"--livekit", "ftp://x", "--token", "t"}, "want a ws://"},
		{"wrong secret", []string{"--livekit", url, "--api-key", "devkey", "--api-secret", "nope", "--room", "r"}, "rejected the API key or secret"},
		{"bad token", []string{"--livekit", url, "--token", "not-a-jwt"}, "unauthorized"},
		{"server down", []string{"--livekit", "ws://" + down, "--token", "t"}, "connection refused"},
		{"whip down", []string{"--whip", "http://" + down + "/whip"}, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, bin, "", append(append([]string(nil), common...), tc.args...)...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line containing %q", r.code, r.stderr, tc.want)
			}
		})
	}
}
