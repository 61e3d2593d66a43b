package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The export button writes into the folder the picker returns and says so.
func TestDriftViewExportButton(t *testing.T) {
	dir := t.TempDir()
	done := make(chan struct{})
	v := newDriftView(&fakeFeed{rows: knownRows()}, func(f func()) { f(); close(done) }, "Latency", "Freezes")
	v.pickDir = func() (string, error) { return dir, nil }
	v.exportClicked()
	<-done
	if !strings.Contains(v.note.Text, "121 measurements") {
		t.Errorf("note %q, want it to report 121 measurements", v.note.Text)
	}
	for _, name := range []string{"report.json", "report.png", "report.svg"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", name, err)
		}
	}
}
