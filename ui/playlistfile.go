package ui

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// Playlists are saved as extended M3U (UTF-8, .m3u8), the format VLC and
// most players read: "#EXTM3U", then per entry "#EXTINF:seconds,name" and
// the path. The sync pattern, which has no file, is the line
// "#SEGCAST:pattern" followed by "#EXTINF:seconds,name" only. Relative
// paths are relative to the playlist's folder.

// maxPlaylistBytes bounds a playlist file: a few thousand entries.
const maxPlaylistBytes = 1 << 20

// patternTag marks the pattern's entry.
const patternTag = "#SEGCAST:pattern"

// playlistEntry is one line of a playlist: a path, or the pattern.
type playlistEntry struct {
	Path     string        // "" for the pattern
	Name     string        // shown until loaded
	Duration time.Duration // the pattern's length (0: the default)
}

// writePlaylist writes entries as M3U; paths are written as given.
func writePlaylist(w io.Writer, entries []playlistEntry) error {
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n")
	for _, e := range entries {
		name := strings.NewReplacer("\n", " ", "\r", " ").Replace(e.Name)
		if e.Path == "" {
			fmt.Fprintf(&b, "%s\n#EXTINF:%.3f,%s\n", patternTag, e.Duration.Seconds(), name)
			continue
		}
		if strings.ContainsAny(e.Path, "\r\n") {
			return fmt.Errorf("playlist: path %q has a line break", e.Path)
		}
		fmt.Fprintf(&b, "#EXTINF:%.0f,%s\n%s\n", e.Duration.Seconds(), name, e.Path)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// readPlaylist reads an M3U playlist (plain or extended); relative paths
// are joined to dir. Blank lines and other comments are skipped; the
// input is bounded by maxPlaylistBytes.
func readPlaylist(r io.Reader, dir string) ([]playlistEntry, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPlaylistBytes+1))
	if err != nil {
		return nil, fmt.Errorf("playlist: %w", err)
	}
	if len(data) > maxPlaylistBytes {
		return nil, fmt.Errorf("playlist: over %d bytes", maxPlaylistBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM
	var out []playlistEntry
	var name string
	var dur time.Duration
	pattern := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxPlaylistBytes)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case line == patternTag:
			pattern = true
		case strings.HasPrefix(line, "#EXTINF:"):
			secs, title, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			name, dur = title, 0
			var s float64
			if _, err := fmt.Sscan(secs, &s); err == nil && s > 0 && s < 1e6 {
				dur = time.Duration(s * float64(time.Second))
			}
			if pattern {
				out = append(out, playlistEntry{Name: name, Duration: dur})
				pattern, name, dur = false, "", 0
			}
		case strings.HasPrefix(line, "#"):
		default:
			if strings.Contains(line, "://") {
				return nil, fmt.Errorf("playlist line %d: %q is a URL; only local files can be loaded", n, line)
			}
			p := filepath.FromSlash(line)
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if name == "" {
				name = filepath.Base(p)
			}
			out = append(out, playlistEntry{Path: p, Name: name, Duration: dur})
			name, dur = "", 0
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("playlist: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("playlist: no entries")
	}
	return out, nil
}
