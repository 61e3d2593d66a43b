package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"segcast/engine"
)

// Settings survive a save and load through Fyne preferences, credential
// included (it is stored, never shown in errors).
func TestSettingsRoundTrip(t *testing.T) {
	a := test.NewTempApp(t)
	watch := t.TempDir()
	in := settingsForm{
		ICE:         "stun:stun.example.org:3478\nturn:turn.example.org:3478,alice,s3cret",
		FPS:         "30000/1001",
		Size:        "640x360",
		MinBitrate:  "200000",
		MaxBitrate:  "2000000",
		BudgetMiB:   "512",
		Device:      "pulse",
		LANAddr:     "0.0.0.0:9000",
		ControlAddr: "127.0.0.1:8788",
		WatchDir:    watch,
	}
	s, err := in.parse()
	if err != nil {
		t.Fatal(err)
	}
	s.save(a.Preferences())
	got := loadSettings(a.Preferences())
	if got.FPS != engine.Rate2997 || got.Width != 640 || got.Height != 360 {
		t.Errorf("output %v %dx%d, want 30000/1001 640x360", got.FPS, got.Width, got.Height)
	}
	if len(got.ICE) != 2 || got.ICE[1].Username != "alice" || got.ICE[1].Credential != "s3cret" {
		t.Errorf("ICE servers %v, want the two saved", got.ICE)
	}
	if got.MinBitrate != 200000 || got.MaxBitrate != 2000000 || got.budget() != 512<<20 {
		t.Errorf("bitrates %d..%d budget %d", got.MinBitrate, got.MaxBitrate, got.budget())
	}
	if got.AudioDevice != "pulse" || got.LANAddr != "0.0.0.0:9000" {
		t.Errorf("device %q lan %q", got.AudioDevice, got.LANAddr)
	}
	if got.form() != in {
		t.Errorf("form after reload = %+v, want %+v", got.form(), in)
	}
}

// Each bad field gets an error naming it; a TURN credential never appears.
func TestSettingsErrorsNameFields(t *testing.T) {
	bad := settingsForm{
		ICE:         "turn:turn.example.org,alice",
		FPS:         "fast",
		Size:        "641x360",
		MinBitrate:  "9000000",
		MaxBitrate:  "100000",
		BudgetMiB:   "-3",
		LANAddr:     "nohostport",
		ControlAddr: "127.0.0.1",
		WatchDir:    "/no/such/folder",
	}
	_, err := bad.parse()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, field := range []string{"ICE servers", "Output fps", "Output size", "Min bitrate", "Memory budget", "LAN address",
		"Control API address", "Watch folder"} {
		if !strings.Contains(msg, field) {
			t.Errorf("error lacks %q:\n%s", field, msg)
		}
	}
	_, err = settingsForm{ICE: "turn:x.org:3478,alice,TOPSECRET,extra", FPS: "30", Size: "1280x720"}.parse()
	if err == nil || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("error %v: want one without the credential", err)
	}
}

// Whatever is typed, parse returns settings or an error, never panics, and
// accepted output sizes are even (I420).
func FuzzSettingsForm(f *testing.F) {
	f.Add("stun:a.org:3478", "30", "1280x720", "", "", "", ":8787")
	f.Add("turn:t.org:3478,u,p", "29.97", "16x16", "50000", "60000", "64", "[::1]:1")
	f.Add("", "0/0", "x", "-1", "1e9", "abc", "host:99999")
	f.Fuzz(func(t *testing.T, ice, fps, size, minBr, maxBr, budget, lan string) {
		s, err := settingsForm{ICE: ice, FPS: fps, Size: size, MinBitrate: minBr, MaxBitrate: maxBr,
			BudgetMiB: budget, LANAddr: lan}.parse()
		if err != nil {
			return
		}
		if s.Width%2 != 0 || s.Height%2 != 0 || s.Width < 16 || s.FPS.Valid() != nil {
			t.Fatalf("accepted %dx%d at %v", s.Width, s.Height, s.FPS)
		}
	})
}

func TestTimecode(t *testing.T) {
	for _, c := range []struct {
		r    engine.Rate
		k    int
		want string
	}{
		{engine.Rate30, 0, "00:00:00:00"},
		{engine.Rate30, 29, "00:00:00:29"},
		{engine.Rate30, 30, "00:00:01:00"},
		{engine.Rate25, 25*3661 + 7, "01:01:01:07"},
		{engine.Rate2997, 30, "00:00:01:00"}, // frame 30 is at 1.001 s
		{engine.Rate2997, 29, "00:00:00:29"},
	} {
		if got := timecode(c.r, c.k); got != c.want {
			t.Errorf("timecode(%v, %d) = %s, want %s", c.r, c.k, got, c.want)
		}
	}
}
