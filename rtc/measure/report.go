package measure

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"segcast/rtc/measure/avsync"
)

// Names of the report files in the folder they are written to.
const (
	ReportJSON = "report.json"
	ReportPNG  = "report.png"
	ReportSVG  = "report.svg"
)

// WriteReport writes r as dir/report.json (every measurement included)
// and its plot as dir/report.png and dir/report.svg, creating dir if
// needed. Each file is
// written under a temporary name and renamed, so a failed write never
// leaves a half-written report beside an old one. `segcast measure` and
// the window's Export both write through it.
func WriteReport(dir string, r avsync.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report folder %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encode JSON: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, ReportJSON), func(tmp string) error {
		return os.WriteFile(tmp, append(b, '\n'), 0o644)
	}); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, ReportPNG), func(tmp string) error { return avsync.WritePNG(tmp, r) }); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, ReportSVG), func(tmp string) error { return avsync.WriteSVG(tmp, r) })
}

// writeAtomic has write fill a temporary file beside path, then renames
// it over path.
func writeAtomic(path string, write func(tmp string) error) error {
	tmp := path + ".partial"
	if err := write(tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
