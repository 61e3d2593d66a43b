package share

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"segcast/engine"
)

// watchPoll is how often the watched folder is listed. Polling rather
// than file-system events: it works the same on every OS and on network
// shares, and a listing every quarter second costs nothing.
const watchPoll = 250 * time.Millisecond

// doneMarker marks a segment folder complete when it has no segment.toml.
const doneMarker = ".done"

// watcher is one watched folder's goroutine.
type watcher struct {
	dir    string
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *watcher) stop() {
	w.cancel()
	<-w.done
}

// Watch queues every complete input that appears in dir from now on, in
// name order, each once: a file Segcast loads (written atomically: moved
// into dir, and unchanged over two listings), or a folder once it holds
// segment.toml or a .done file. What is there when watching starts is
// left alone, and nothing is ever deleted. A .wav beside a .y4m of the
// same name is that Y4M's sound (write it first), not a segment. Errors
// are logged and kept in Problems. "" stops watching.
func (c *Control) Watch(dir string) error {
	var w *watcher
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("watch %s: not a folder", dir)
		}
		ctx, cancel := context.WithCancel(context.Background())
		w = &watcher{dir: dir, cancel: cancel, done: make(chan struct{})}
		seen := c.listWatch(dir, nil)
		go func() {
			defer close(w.done)
			c.runWatch(ctx, dir, seen)
		}()
	}
	c.mu.Lock()
	old := c.watch
	c.watch = w
	closed := c.closed
	c.mu.Unlock()
	if old != nil {
		old.stop()
	}
	if closed && w != nil {
		w.stop()
		return errors.New("watch: control API closed")
	}
	if w != nil {
		c.log.Info("watching for segments", "dir", dir)
	}
	return nil
}

// watchID tells one version of a name from another.
type watchID struct {
	dir     bool
	size    int64
	modTime time.Time
}

// listWatch lists dir's candidate entries (hidden and partial names
// skipped); errs, when set, gets the listing's error.
func (c *Control) listWatch(dir string, errs func(error)) map[string]watchID {
	entries, err := os.ReadDir(dir)
	if err != nil && errs != nil {
		errs(err)
	}
	out := map[string]watchID{}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasPrefix(n, "~") || strings.HasSuffix(n, ".tmp") ||
			strings.HasSuffix(n, ".part") || strings.HasSuffix(n, ".crdownload") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // gone since the listing
		}
		out[n] = watchID{dir: fi.IsDir(), size: fi.Size(), modTime: fi.ModTime()}
	}
	return out
}

func (c *Control) runWatch(ctx context.Context, dir string, seen map[string]watchID) {
	last := map[string]watchID{} // the previous listing of names not yet taken
	listErr := ""
	t := time.NewTicker(watchPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := c.listWatch(dir, func(err error) {
			if err.Error() != listErr { // once per distinct error, not every poll
				c.problem(dir, err)
			}
			listErr = err.Error()
		})
		for n := range seen {
			if _, ok := now[n]; !ok {
				delete(seen, n) // gone: a new one of that name is new
			}
		}
		next := map[string]watchID{}
		for _, n := range sortedKeys(now) {
			id := now[n]
			if old, ok := seen[n]; ok && (old == id || old.dir && id.dir) {
				continue
			}
			path := filepath.Join(dir, n)
			if !c.watchReady(path, id, last[n]) {
				next[n] = id
				continue
			}
			seen[n] = id
			if !id.dir && strings.EqualFold(filepath.Ext(n), ".wav") && hasY4M(path) {
				continue // the Y4M's sound
			}
			if _, err := c.Push(ctx, path, engine.ModeQueue, OriginWatch); err != nil && ctx.Err() == nil {
				c.problem(path, err)
			}
		}
		last = next
	}
}

// watchReady says whether a new name is complete: a folder with its
// marker, or a file the loaders take that is unchanged since the last
// listing.
func (c *Control) watchReady(path string, id, prev watchID) bool {
	if id.dir {
		for _, m := range []string{"segment.toml", doneMarker} {
			if _, err := os.Stat(filepath.Join(path, m)); err == nil {
				return true
			}
		}
		return false
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".wav", ".y4m", ".mp4", ".m4v", ".mov", ".mkv", ".webm":
		return id == prev
	}
	return false
}

func hasY4M(wav string) bool {
	stem := strings.TrimSuffix(wav, filepath.Ext(wav))
	for _, ext := range []string{".y4m", ".Y4M"} {
		if _, err := os.Stat(stem + ext); err == nil {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]watchID) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Push loads the input at path (anything engine.Load takes) and queues
// it with mode: for the window's rows and the watched folder.
func (c *Control) Push(ctx context.Context, path string, mode engine.Mode, o Origin) (engine.EntryID, error) {
	seg, err := engine.Load(ctx, path, engine.LoadOptions{FPS: c.opt.Rate, Store: c.opt.Store, Size: c.opt.Size})
	if err != nil {
		return 0, err
	}
	id, err := c.enqueue(seg, engine.EnqueueOptions{Mode: mode}, o)
	if err != nil {
		return 0, fmt.Errorf("queue %s: %w", path, err)
	}
	c.log.Info("segment queued", "id", id, "name", seg.Name, "origin", o)
	return id, nil
}
