package ui

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A saved playlist reads back the same; relative paths resolve against
// its folder; the pattern keeps its length.
func TestPlaylistFileRoundTrip(t *testing.T) {
	in := []playlistEntry{
		{Name: "Sync pattern", Duration: time.Minute},
		{Path: "/media/a clip.mp4", Name: "a clip.mp4", Duration: 12 * time.Second},
		{Path: "/media/folder", Name: "folder"},
	}
	var b bytes.Buffer
	if err := writePlaylist(&b, in); err != nil {
		t.Fatal(err)
	}
	got, err := readPlaylist(&b, "/elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("read %d entries, want %d:\n%s", len(got), len(in), b.String())
	}
	for i := range in {
		if got[i] != in[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], in[i])
		}
	}
	rel, err := readPlaylist(strings.NewReader("\xef\xbb\xbfclip.y4m\n\n# a comment\nsub/x.wav\r\n"), "/lists")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join("/lists", "clip.y4m"), filepath.Join("/lists", "sub", "x.wav")}
	if len(rel) != 2 || rel[0].Path != want[0] || rel[1].Path != want[1] || rel[0].Name != "clip.y4m" {
		t.Errorf("plain M3U: %+v, want %v", rel, want)
	}
	for _, bad := range []string{"", "#EXTM3U\n", "http://example.org/a.mp4\n", strings.Repeat("x", maxPlaylistBytes+1)} {
		if _, err := readPlaylist(strings.NewReader(bad), "/"); err == nil {
			t.Errorf("%.40q: no error", bad)
		}
	}
	if err := writePlaylist(&b, []playlistEntry{{Path: "a\nb"}}); err == nil {
		t.Error("a path with a line break was written")
	}
}

// Whatever a playlist file holds, reading it returns entries or an error,
// never panics, and every path is absolute.
func FuzzReadPlaylist(f *testing.F) {
	f.Add("#EXTM3U\n#EXTINF:10,a\na.mp4\n")
	f.Add("#SEGCAST:pattern\n#EXTINF:60.000,Sync\n")
	f.Add("#EXTINF:-1e400,\n\n../x\n")
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := readPlaylist(strings.NewReader(s), "/base")
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Path != "" && !filepath.IsAbs(e.Path) {
				t.Fatalf("relative path %q", e.Path)
			}
			if e.Duration < 0 {
				t.Fatalf("negative duration %v", e.Duration)
			}
		}
	})
}
