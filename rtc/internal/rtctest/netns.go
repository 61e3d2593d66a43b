package rtctest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"segcast/rtc"
)

// The browser tests run inside a private network namespace of their own:
// only loopback plus one veth pair (10.213.0.1/24) that exists nowhere
// else. Chromium gathers no loopback ICE candidates, so without the veth
// it would use the machine's real interface; inside the namespace every
// packet the tests send stays in it. The default route points into the
// veth's other end, which has no address: Firefox gathers no ICE
// candidates at all without a default route, and nothing routed there
// goes anywhere. Main re-runs the test binary there.

const netnsEnv = "SEGCAST_TEST_NETNS"

// netnsSetup brings up lo and the veth pair, then runs the test binary.
const netnsSetup = `ip link set lo up &&
ip link add segcast0 type veth peer name segcast1 &&
ip addr add 10.213.0.1/24 dev segcast0 &&
ip link set segcast0 up && ip link set segcast1 up &&
ip route add default via 10.213.0.2 dev segcast0 &&
exec "$@"`

// Main is TestMain for a package with browser tests: it re-runs the test
// binary in the private namespace and exits with its status.
func Main(m *testing.M) {
	rtc.SpareProcs() // as the app's main does
	if os.Getenv(netnsEnv) != "" {
		os.Exit(m.Run())
	}
	err := runInNetns()
	var exit *exec.ExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		os.Exit(exit.ExitCode())
	}
	// No namespace to be had (no unshare, no user namespaces): run here;
	// RequireNetns fails (CI) or skips the browser tests.
	fmt.Fprintf(os.Stderr, "no private network namespace (%v): browser tests cannot run\n", err)
	os.Setenv(netnsEnv, "unavailable: "+err.Error())
	os.Exit(m.Run())
}

func runInNetns() error {
	if _, err := exec.LookPath("unshare"); err != nil {
		return err
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return err
	}
	// Probe first so a missing capability is told apart from failing tests.
	if err := exec.Command("unshare", "-rn", "sh", "-c", "ip link set lo up").Run(); err != nil {
		return fmt.Errorf("unshare -rn: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := append([]string{"-rn", "sh", "-c", netnsSetup, "sh", self}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	return cmd.Run()
}

// RequireNetns stops a test whose traffic must stay in the private
// namespace when there is none.
func RequireNetns(t testing.TB) {
	t.Helper()
	if st := os.Getenv(netnsEnv); st != "1" {
		Missing(t, "the private network namespace (unshare -rn and ip from iproute2; see rtc/internal/rtctest/netns.go): "+st)
	}
}

// Missing stops a test whose real component is not there: under CI
// (CI set, as .ci/run does) it fails, so a CI machine without it is never
// green by skipping; elsewhere it skips.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI=%s and this test needs %s", os.Getenv("CI"), what)
	}
	t.Skipf("needs %s", what)
}
