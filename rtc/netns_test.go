package rtc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// The rtc tests run inside a private network namespace of their own: only
// loopback plus one veth pair (10.213.0.1/24) that exists nowhere else.
// Chromium gathers no loopback ICE candidates, so without the veth it would
// use the machine's real interface; inside the namespace every packet the
// tests send stays in it. The default route points into the veth's other
// end, which has no address: Firefox gathers no ICE candidates at all
// without a default route, and nothing routed there goes anywhere.
// TestMain re-runs the test binary there.

const netnsEnv = "SEGCAST_TEST_NETNS"

// netnsSetup brings up lo and the veth pair, then runs the test binary.
const netnsSetup = `ip link set lo up &&
ip link add segcast0 type veth peer name segcast1 &&
ip addr add 10.213.0.1/24 dev segcast0 &&
ip link set segcast0 up && ip link set segcast1 up &&
ip route add default via 10.213.0.2 dev segcast0 &&
exec "$@"`

func TestMain(m *testing.M) {
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
	// the browser tests skip themselves.
	fmt.Fprintf(os.Stderr, "rtc tests: no private network namespace (%v); browser tests will skip\n", err)
	os.Setenv(netnsEnv, "unavailable")
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

// requireNetns skips a test whose traffic must stay in the private namespace.
func requireNetns(t testing.TB) {
	t.Helper()
	if os.Getenv(netnsEnv) != "1" {
		t.Skip("needs the private network namespace (unshare -rn and ip from iproute2); see netns_test.go")
	}
}
