// Package alsafile lets a test play through a real PortAudio device on a
// machine without a sound card: it re-runs the test in a child process
// whose ALSA default device is a `file` PCM (DESIGN.md, "Testing"), so
// what the child plays can be read back. For tests only.
package alsafile

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RunChild re-runs the calling test binary's test named test, with HOME
// at a fresh directory whose .asoundrc makes ALSA's default device write
// raw samples to a file, and the environment variable env set to the path
// where the child must write its JSON result. It decodes that result into
// res and returns the path of the raw samples. The child is the same test
// seeing env set: it plays, writes the result, and returns.
func RunChild(t testing.TB, test, env string, res any) (raw string) {
	t.Helper()
	dir := t.TempDir()
	raw = filepath.Join(dir, "OUT.raw")
	rc := fmt.Sprintf("pcm.!default { type file slave.pcm \"null\" file %q format \"raw\" }\n", raw)
	if err := os.WriteFile(filepath.Join(dir, ".asoundrc"), []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	resPath := filepath.Join(dir, "result.json")
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HOME="+dir, env+"="+resPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child %s: %v\n%s", test, err, out)
	}
	b, err := os.ReadFile(resPath)
	if err != nil {
		t.Fatalf("child %s wrote no result: %v", test, err)
	}
	if err := json.Unmarshal(b, res); err != nil {
		t.Fatalf("child %s result: %v", test, err)
	}
	return raw
}
