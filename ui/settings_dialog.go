package ui

import (
	"fyne.io/fyne/v2"
	fdialog "fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"segcast/engine/audioout"
)

// showSettings edits the persisted settings (prefs) over win. Output size,
// rate, budget and audio device take effect at the next start (the loop's
// timeline and the encoders are fixed for a session); ICE, bitrates and
// the LAN address apply to the next stream, so they are copied into set.
// say tells the user what was saved.
func showSettings(prefs fyne.Preferences, win fyne.Window, set *settings, r *runner, say func(format string, args ...any)) {
	f := set.form()
	ice := widget.NewMultiLineEntry()
	ice.SetText(f.ICE)
	ice.SetPlaceHolder("stun:stun.example.org:3478\nturn:turn.example.org:3478,user,secret")
	fps := widget.NewEntry()
	fps.SetText(f.FPS)
	size := widget.NewEntry()
	size.SetText(f.Size)
	minBr, maxBr := widget.NewEntry(), widget.NewEntry()
	minBr.SetText(f.MinBitrate)
	maxBr.SetText(f.MaxBitrate)
	minBr.SetPlaceHolder("default 300000")
	maxBr.SetPlaceHolder("default 4000000 at 720p")
	budget := widget.NewEntry()
	budget.SetText(f.BudgetMiB)
	budget.SetPlaceHolder("default: a quarter of RAM")
	device := widget.NewSelectEntry(nil)
	device.SetText(f.Device)
	device.SetPlaceHolder("system default")
	lan := widget.NewEntry()
	lan.SetText(f.LANAddr)
	lan.SetPlaceHolder(":8787")
	r.start(func() {
		if names, err := audioout.Devices(); err == nil {
			r.do(func() { device.SetOptions(names) })
		}
	})
	items := []*widget.FormItem{
		widget.NewFormItem("ICE servers", ice),
		widget.NewFormItem("Output fps", fps),
		widget.NewFormItem("Output size", size),
		widget.NewFormItem("Min bitrate (bps)", minBr),
		widget.NewFormItem("Max bitrate (bps)", maxBr),
		widget.NewFormItem("Memory budget (MiB)", budget),
		widget.NewFormItem("Audio device", device),
		widget.NewFormItem("LAN address", lan),
	}
	d := fdialog.NewForm("Settings", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		s, err := settingsForm{ICE: ice.Text, FPS: fps.Text, Size: size.Text, MinBitrate: minBr.Text,
			MaxBitrate: maxBr.Text, BudgetMiB: budget.Text, Device: device.Text, LANAddr: lan.Text}.parse()
		if err != nil {
			fdialog.ShowError(err, win)
			return
		}
		s.save(prefs)
		set.ICE, set.iceText = s.ICE, s.iceText
		set.MinBitrate, set.MaxBitrate, set.LANAddr = s.MinBitrate, s.MaxBitrate, s.LANAddr
		say("Settings saved. Output size, fps, memory budget and audio device apply at the next start.")
	}, win)
	d.Resize(fyne.NewSize(560, 520))
	d.Show()
}
