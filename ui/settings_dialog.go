package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	fdialog "fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/engine/audioout"
)

// settingsDialog edits the persisted settings. Save checks every field
// first: a refused value is named under the form and the dialog stays
// open with every edit as typed; only valid settings are saved and the
// dialog closed.
type settingsDialog struct {
	d                                 *fdialog.CustomDialog
	ice, fps, size, minBr, maxBr, lan *keyEntry
	control, watch                    *keyEntry
	budget                            *keyEntry
	device                            *widget.SelectEntry
	errText                           *widget.Label
	save                              *widget.Button
	applied                           func(settings)
	prefs                             fyne.Preferences
	set                               *settings
}

// showSettings opens the dialog over win; applied runs after a save with
// what was saved (set already holds it).
func showSettings(prefs fyne.Preferences, win fyne.Window, set *settings, r *runner, applied func(settings)) *settingsDialog {
	f := set.form()
	d := &settingsDialog{prefs: prefs, set: set, applied: applied}
	entry := func(text, placeholder string) *keyEntry {
		e := newKeyEntry(false)
		e.SetText(text)
		e.SetPlaceHolder(placeholder)
		return e
	}
	d.ice = newKeyEntry(true)
	d.ice.SetText(f.ICE)
	d.ice.SetPlaceHolder("stun:stun.example.org:3478\nturn:turn.example.org:3478,user,secret")
	d.ice.SetMinRowsVisible(2)
	d.fps = entry(f.FPS, `"source" follows the clips, or 25, 30000/1001…`)
	d.size = entry(f.Size, "1280x720")
	d.minBr = entry(f.MinBitrate, "default 300000")
	d.maxBr = entry(f.MaxBitrate, "default 4000000 at 720p")
	d.budget = entry(f.BudgetMiB, "default: a quarter of RAM")
	d.device = widget.NewSelectEntry(nil)
	d.device.SetText(f.Device)
	d.device.SetPlaceHolder("system default")
	d.lan = entry(f.LANAddr, ":8787")
	d.control = entry(f.ControlAddr, "127.0.0.1:0 (loopback, any free port)")
	d.watch = entry(f.WatchDir, "a folder whose new files are queued")
	r.start(func() {
		if names, err := audioout.Devices(); err == nil {
			r.do(func() { d.device.SetOptions(names) })
		}
	})
	form := widget.NewForm(
		widget.NewFormItem("ICE servers", d.ice),
		widget.NewFormItem("Output fps", d.fps),
		widget.NewFormItem("Output size", d.size),
		widget.NewFormItem("Min bitrate (bps)", d.minBr),
		widget.NewFormItem("Max bitrate (bps)", d.maxBr),
		widget.NewFormItem("Memory budget (MiB)", d.budget),
		widget.NewFormItem("Audio device", d.device),
		widget.NewFormItem("LAN address", d.lan),
		widget.NewFormItem("Control API address", d.control),
		widget.NewFormItem("Watch folder", d.watch),
	)
	d.errText = widget.NewLabel("")
	d.errText.Importance = widget.DangerImportance
	d.errText.Wrapping = fyne.TextWrapWord
	d.errText.Hide()
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { d.d.Hide() })
	d.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), d.trySave)
	d.save.Importance = widget.HighImportance
	body := container.NewBorder(nil, d.errText, nil, nil, container.NewVScroll(form))
	d.d = fdialog.NewCustomWithoutButtons("Settings", body, win)
	d.d.SetButtons([]fyne.CanvasObject{cancel, d.save})
	d.d.Resize(fyne.NewSize(min(560, win.Canvas().Size().Width-20), min(520, win.Canvas().Size().Height-20)))
	d.d.Show()
	return d
}

// form is what the fields hold now.
func (d *settingsDialog) form() settingsForm {
	return settingsForm{ICE: d.ice.Text, FPS: d.fps.Text, Size: d.size.Text, MinBitrate: d.minBr.Text,
		MaxBitrate: d.maxBr.Text, BudgetMiB: d.budget.Text, Device: d.device.Text, LANAddr: d.lan.Text,
		ControlAddr: d.control.Text, WatchDir: d.watch.Text}
}

// trySave saves and closes, or shows why not and keeps the edits.
func (d *settingsDialog) trySave() {
	s, err := d.form().parse()
	if err != nil {
		d.errText.SetText("Not saved: " + err.Error())
		d.errText.Show()
		return
	}
	s.Fill = d.set.Fill // the Output menu's
	s.save(d.prefs)
	*d.set = s
	d.d.Hide()
	if d.applied != nil {
		d.applied(s)
	}
}
