package ui

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"

	"segcast/engine"
	"segcast/rtc"
)

// Preference keys (Fyne stores them per app ID).
const (
	prefICE        = "ice_servers" // one "URL[,user,cred]" per line
	prefFPS        = "output_fps"
	prefWidth      = "output_width"
	prefHeight     = "output_height"
	prefMinBitrate = "min_bitrate"
	prefMaxBitrate = "max_bitrate"
	prefBudgetMiB  = "budget_mib"
	prefDevice     = "audio_device"
	prefLANAddr    = "lan_addr"
	prefFill       = "output_fill"
	prefRecent     = "recent_files"
	prefControl    = "control_addr"
	prefWatch      = "watch_dir"
)

// matchSource is the frame rate setting that follows the clips.
const matchSource = "source"

// settings are the user's persisted choices. Zero values mean defaults.
type settings struct {
	ICE         []rtc.ICEServer // Credential is never logged or shown
	FPS         engine.Rate     // the output rate unless MatchFPS
	MatchFPS    bool            // the output rate follows the first clip's ("match source")
	Width       int
	Height      int
	Fill        bool // clips of another shape are cropped to fill the frame, not letterboxed
	MinBitrate  int  // bps
	MaxBitrate  int  // bps
	BudgetMiB   int64
	AudioDevice string // "" = system default
	LANAddr     string // host:port for Share on LAN; "" = :8787
	ControlAddr string // host:port of the control API; "" = 127.0.0.1:0
	WatchDir    string // queued through the control API as inputs appear; "" = none
	iceText     string // as typed, for the form
}

func loadSettings(p fyne.Preferences) settings {
	s := settings{
		Width:       p.IntWithFallback(prefWidth, 1280),
		Height:      p.IntWithFallback(prefHeight, 720),
		MinBitrate:  p.Int(prefMinBitrate),
		MaxBitrate:  p.Int(prefMaxBitrate),
		BudgetMiB:   int64(p.Int(prefBudgetMiB)),
		AudioDevice: p.String(prefDevice),
		LANAddr:     p.String(prefLANAddr),
		ControlAddr: p.String(prefControl),
		WatchDir:    p.String(prefWatch),
		Fill:        p.Bool(prefFill),
		iceText:     p.String(prefICE),
	}
	// Stored values were validated when saved; anything unreadable (an
	// older or hand-edited file) falls back to the default.
	s.FPS, s.MatchFPS = engine.Rate30, true
	if r, err := engine.ParseRate(p.StringWithFallback(prefFPS, matchSource)); err == nil {
		s.FPS, s.MatchFPS = r, false
	}
	if ice, err := parseICEList(s.iceText); err == nil {
		s.ICE = ice
	}
	if s.Width <= 0 || s.Height <= 0 {
		s.Width, s.Height = 1280, 720
	}
	return s
}

func (s settings) save(p fyne.Preferences) {
	p.SetString(prefICE, s.iceText)
	s.saveOutput(p)
	p.SetInt(prefMinBitrate, s.MinBitrate)
	p.SetInt(prefMaxBitrate, s.MaxBitrate)
	p.SetInt(prefBudgetMiB, int(s.BudgetMiB))
	p.SetString(prefDevice, s.AudioDevice)
	p.SetString(prefLANAddr, s.LANAddr)
	p.SetString(prefControl, s.ControlAddr)
	p.SetString(prefWatch, s.WatchDir)
}

// saveOutput keeps the output format as the default for the next start.
func (s settings) saveOutput(p fyne.Preferences) {
	fps := s.FPS.String()
	if s.MatchFPS {
		fps = matchSource
	}
	p.SetString(prefFPS, fps)
	p.SetInt(prefWidth, s.Width)
	p.SetInt(prefHeight, s.Height)
	p.SetBool(prefFill, s.Fill)
}

// format is the output format the settings ask for (at match source, the
// rate until a clip says).
func (s settings) format() outFormat {
	return outFormat{W: s.Width, H: s.Height, Rate: s.FPS, Fill: s.Fill}
}

// budget is the frame store budget in bytes.
func (s settings) budget() int64 {
	if s.BudgetMiB > 0 {
		return s.BudgetMiB << 20
	}
	return engine.DefaultBudget()
}

// settingsForm is what the settings dialog edits, as text.
type settingsForm struct {
	ICE, FPS, Size, MinBitrate, MaxBitrate, BudgetMiB, Device, LANAddr string
	ControlAddr, WatchDir                                              string
}

func (s settings) form() settingsForm {
	itoa := func(v int) string {
		if v == 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	fps := s.FPS.String()
	if s.MatchFPS {
		fps = matchSource
	}
	return settingsForm{
		ICE: s.iceText, FPS: fps, Size: fmt.Sprintf("%dx%d", s.Width, s.Height),
		MinBitrate: itoa(s.MinBitrate), MaxBitrate: itoa(s.MaxBitrate), BudgetMiB: itoa(int(s.BudgetMiB)),
		Device: s.AudioDevice, LANAddr: s.LANAddr, ControlAddr: s.ControlAddr, WatchDir: s.WatchDir,
	}
}

// parse validates the form; each error names its field.
func (f settingsForm) parse() (settings, error) {
	var s settings
	var errs []error
	bad := func(field string, err error) { errs = append(errs, fmt.Errorf("%s: %w", field, err)) }
	var err error
	if s.ICE, err = parseICEList(f.ICE); err != nil {
		bad("ICE servers", err)
	}
	s.iceText = strings.TrimSpace(f.ICE)
	switch v := strings.TrimSpace(f.FPS); v {
	case "", matchSource:
		s.FPS, s.MatchFPS = engine.Rate30, true
	default:
		if s.FPS, err = engine.ParseRate(v); err == nil {
			err = engine.CheckFPS(s.FPS)
		}
		if err != nil {
			bad("Output fps", fmt.Errorf("%w (or %q to follow the clips)", err, matchSource))
		}
	}
	size, err := engine.ParseSize(f.Size)
	if err != nil {
		bad("Output size", err)
	}
	s.Width, s.Height = size.X, size.Y
	posInt := func(field, v string, lo, hi int) int {
		if strings.TrimSpace(v) == "" {
			return 0
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			bad(field, fmt.Errorf("%q: want a whole number from %d to %d (or empty for the default)", v, lo, hi))
		}
		return n
	}
	s.MinBitrate = posInt("Min bitrate", f.MinBitrate, 50_000, 50_000_000)
	s.MaxBitrate = posInt("Max bitrate", f.MaxBitrate, 50_000, 50_000_000)
	if s.MinBitrate > 0 && s.MaxBitrate > 0 && s.MinBitrate > s.MaxBitrate {
		bad("Min bitrate", fmt.Errorf("%d is above the max bitrate %d", s.MinBitrate, s.MaxBitrate))
	}
	s.BudgetMiB = int64(posInt("Memory budget (MiB)", f.BudgetMiB, 64, 1<<20))
	s.AudioDevice = strings.TrimSpace(f.Device)
	s.LANAddr = strings.TrimSpace(f.LANAddr)
	if s.LANAddr != "" {
		if _, port, err := net.SplitHostPort(s.LANAddr); err != nil {
			bad("LAN address", fmt.Errorf("%q: want host:port, e.g. :8787", s.LANAddr))
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			bad("LAN address", fmt.Errorf("port %q: want 1 to 65535", port))
		}
	}
	s.ControlAddr = strings.TrimSpace(f.ControlAddr)
	if s.ControlAddr != "" {
		if _, port, err := net.SplitHostPort(s.ControlAddr); err != nil {
			bad("Control API address", fmt.Errorf("%q: want host:port, e.g. 127.0.0.1:8788", s.ControlAddr))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("Control API address", fmt.Errorf("port %q: want 0 (any free port) to 65535", port))
		}
	}
	s.WatchDir = strings.TrimSpace(f.WatchDir)
	if st, err := os.Stat(s.WatchDir); s.WatchDir != "" && (err != nil || !st.IsDir()) {
		bad("Watch folder", fmt.Errorf("%q: not a folder", s.WatchDir))
	}
	return s, errors.Join(errs...)
}

// parseICEList reads one "URL[,user,cred]" per line; blank lines skip.
func parseICEList(text string) ([]rtc.ICEServer, error) {
	var out []rtc.ICEServer
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		srv, err := rtc.ParseICEServer(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, srv)
	}
	return out, nil
}

// override applies the command line's choices for this run only (they are
// not saved).
func (s *settings) override(opt Options) error {
	if opt.FPS != "" {
		r, err := engine.ParseRate(opt.FPS)
		if err != nil {
			return fmt.Errorf("--fps: %w", err)
		}
		s.FPS, s.MatchFPS = r, false
	}
	if opt.Size != "" {
		size, err := engine.ParseSize(opt.Size)
		if err != nil {
			return fmt.Errorf("--size: %w", err)
		}
		s.Width, s.Height = size.X, size.Y
	}
	if opt.Watch != "" {
		if st, err := os.Stat(opt.Watch); err != nil || !st.IsDir() {
			return fmt.Errorf("--watch %s: not a folder", opt.Watch)
		}
		s.WatchDir = opt.Watch
	}
	if opt.Budget < 0 {
		return fmt.Errorf("--budget: %d is negative", opt.Budget)
	}
	if opt.Budget > 0 {
		s.BudgetMiB = max(opt.Budget>>20, 1)
	}
	return nil
}
