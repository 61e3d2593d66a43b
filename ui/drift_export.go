package ui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sqweek/dialog"

	"segcast/rtc/measure/avsync"
)

// Names of the exported files, as `segcast measure` writes them.
const (
	reportJSONName = "report.json"
	reportPNGName  = "report.png"
	reportSVGName  = "report.svg"
)

// exportReport writes r as report.json (every measurement included) and
// its plot as report.png and report.svg into dir, which must exist. Each
// file is written under a temporary name and renamed, so a failed export
// never leaves a half-written report beside an old one.
func exportReport(dir string, r avsync.Report) error {
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("export report to %s: %w", dir, err)
	} else if !st.IsDir() {
		return fmt.Errorf("export report to %s: not a folder", dir)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("export report: encode JSON: %w", err)
	}
	jsonPath := filepath.Join(dir, reportJSONName)
	if err := writeReplacing(jsonPath, func(tmp string) error { return os.WriteFile(tmp, append(b, '\n'), 0o644) }); err != nil {
		return fmt.Errorf("export report %s: %w", jsonPath, err)
	}
	for _, plot := range []struct {
		name  string
		write func(string, avsync.Report) error
	}{{reportPNGName, avsync.WritePNG}, {reportSVGName, avsync.WriteSVG}} {
		path := filepath.Join(dir, plot.name)
		if err := writeReplacing(path, func(tmp string) error { return plot.write(tmp, r) }); err != nil {
			return fmt.Errorf("export report %s: %w", path, err)
		}
	}
	return nil
}

// writeReplacing has write fill a temporary file beside path, then moves
// it over path.
func writeReplacing(path string, write func(tmp string) error) error {
	tmp := path + ".partial"
	if err := write(tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// pickReportFolder shows the native folder picker for an export.
func pickReportFolder() (string, error) {
	return dialog.Directory().Title("Export A/V sync report to folder").Browse()
}
