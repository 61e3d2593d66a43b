//go:build unix

package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO named like media is refused, not opened: opening it for reading
// waits for a writer forever. Where the loader does block, the test
// unblocks it by opening the writing end (which only succeeds while a
// reader waits) and fails.
func TestLoadRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	mkfifo := func(path string) {
		t.Helper()
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// x.wav alone; a Y4M's WAV; an image and a WAV in a segment folder.
	mkfifo(filepath.Join(dir, "x.wav"))
	writeTestFile(t, filepath.Join(dir, "clip.y4m"), makeY4M("W8 H8 F30:1", testFrames(8, 8, 2)))
	mkfifo(filepath.Join(dir, "clip.wav"))
	folder := filepath.Join(dir, "seg")
	os.Mkdir(folder, 0o755)
	writePNG(t, filepath.Join(folder, "f1.png"), 8, 8, greyNRGBA(9))
	mkfifo(filepath.Join(folder, "f2.png"))
	folder2 := filepath.Join(dir, "seg2")
	os.Mkdir(folder2, 0o755)
	writePNG(t, filepath.Join(folder2, "f1.png"), 8, 8, greyNRGBA(9))
	mkfifo(filepath.Join(folder2, "voice.wav"))

	for _, c := range []struct{ load, fifo, want string }{
		{filepath.Join(dir, "x.wav"), filepath.Join(dir, "x.wav"), ": a named pipe (FIFO), not a regular file"},
		{filepath.Join(dir, "clip.y4m"), filepath.Join(dir, "clip.wav"), ": clip.wav: a named pipe (FIFO), not a regular file"},
		{folder, filepath.Join(folder, "f2.png"), ": f2.png: a named pipe (FIFO), not a regular file"},
		{folder2, filepath.Join(folder2, "voice.wav"), ": voice.wav: a named pipe (FIFO), not a regular file"},
	} {
		store := NewFrameStore(1 << 30)
		done := make(chan error, 1)
		go func() {
			_, err := Load(context.Background(), c.load, LoadOptions{Store: store})
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			if w, werr := os.OpenFile(c.fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); werr == nil {
				w.Close()
				t.Errorf("%s: Load blocked opening the FIFO", c.load)
			}
			err = <-done
		}
		if err == nil || err.Error() != c.load+c.want {
			t.Errorf("got %v, want %q", err, c.load+c.want)
		}
		if store.Used() != 0 {
			t.Errorf("%s: Used %d after a refused load", c.load, store.Used())
		}
	}
	// The same goes for devices.
	if _, err := os.Stat("/dev/null"); err == nil {
		link := filepath.Join(dir, "null.wav")
		os.Symlink("/dev/null", link)
		_, err := Load(context.Background(), link, LoadOptions{Store: NewFrameStore(1 << 30)})
		if err == nil || !strings.HasSuffix(err.Error(), "a device, not a regular file") {
			t.Errorf("got %v for a link to /dev/null", err)
		}
	}
}
