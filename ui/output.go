package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
)

// preset is an output size people stream at.
type preset struct {
	name string
	w, h int
}

var presets = []preset{
	{"Landscape 1280×720", 1280, 720},
	{"Landscape 1920×1080", 1920, 1080},
	{"Portrait 720×1280", 720, 1280},
	{"Portrait 1080×1920", 1080, 1920},
	{"Square 720×720", 720, 720},
	{"Square 1080×1080", 1080, 1080},
}

// presetRates are the frame rates offered besides "match source".
var presetRates = []engine.Rate{{Num: 24, Den: 1}, engine.Rate25, engine.Rate2997, engine.Rate30, {Num: 50, Den: 1}, {Num: 60, Den: 1}}

// outputMenu is the output format: the main menu's Output menu, the same
// items from a button over the preview, and the banner that offers the
// portrait presets when the first clip is portrait.
type outputMenu struct {
	c      *controller
	menu   *fyne.Menu
	button *widget.Button
	banner *fyne.Container
	note   *widget.Label
}

func newOutputMenu(c *controller) *outputMenu {
	o := &outputMenu{c: c}
	o.menu = fyne.NewMenu("Output")
	o.button = widget.NewButtonWithIcon("", theme.SettingsIcon(), nil)
	o.button.OnTapped = func() {
		cv := c.win.Canvas()
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(o.button)
		widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", o.items()...), cv, pos.AddXY(0, o.button.Size().Height))
	}
	o.note = widget.NewLabel("")
	o.note.Wrapping = fyne.TextWrapWord
	o.banner = container.NewVBox()
	o.banner.Hide()
	o.refresh()
	return o
}

// describe is the output format in words: "1280×720 · 25 fps (match
// source) · fit".
func (o *outputMenu) describe() string {
	f := o.c.player.format
	fps := rateText(f.Rate) + " fps"
	if o.c.set.MatchFPS {
		fps += " (match source)"
	}
	fit := "fit"
	if f.Fill {
		fit = "fill"
	}
	return fmt.Sprintf("%d×%d · %s · %s", f.W, f.H, fps, fit)
}

// refresh brings the menu and the button in line with the format.
func (o *outputMenu) refresh() {
	o.menu.Items = o.items()
	o.menu.Refresh()
	f := o.c.player.format
	fit := "fit"
	if f.Fill {
		fit = "fill"
	}
	o.button.SetText(fmt.Sprintf("%d×%d · %s fps · %s", f.W, f.H, rateText(f.Rate), fit))
}

// items are the Output menu's items, the current choices checked.
func (o *outputMenu) items() []*fyne.MenuItem {
	c := o.c
	f := c.player.format
	var items []*fyne.MenuItem
	for _, p := range presets {
		it := fyne.NewMenuItem(p.name, func() { o.setSize(p.w, p.h) })
		it.Checked = f.W == p.w && f.H == p.h
		items = append(items, it)
	}
	fit := fyne.NewMenuItem("Fit (letterbox)", func() { o.setFill(false) })
	fit.Checked = !f.Fill
	fill := fyne.NewMenuItem("Fill (crop)", func() { o.setFill(true) })
	fill.Checked = f.Fill
	items = append(items, fyne.NewMenuItemSeparator(), fit, fill, fyne.NewMenuItemSeparator())
	match := fyne.NewMenuItem("Frame rate: match source", func() { o.setRate(engine.Rate{}, true) })
	match.Checked = c.set.MatchFPS
	items = append(items, match)
	for _, r := range presetRates {
		it := fyne.NewMenuItem(fmt.Sprintf("Frame rate: %s fps", rateText(r)), func() { o.setRate(r, false) })
		it.Checked = !c.set.MatchFPS && f.Rate == r
		items = append(items, it)
	}
	return items
}

func (o *outputMenu) setSize(w, h int) {
	f := o.c.player.format
	f.W, f.H = w, h
	o.apply(f)
}

func (o *outputMenu) setFill(on bool) {
	f := o.c.player.format
	f.Fill = on
	o.apply(f)
}

// setRate sets a fixed rate, or (match) follows the first clip's.
func (o *outputMenu) setRate(r engine.Rate, match bool) {
	c := o.c
	c.set.MatchFPS = match
	f := c.player.format
	if match {
		if seg := c.list.firstClip(); seg != nil && seg.Rate.Valid() == nil {
			r = seg.Rate
		} else {
			r = f.Rate
		}
	}
	f.Rate = r
	c.set.FPS = r
	c.set.saveOutput(c.app.Preferences())
	o.apply(f)
}

func (o *outputMenu) apply(f outFormat) {
	o.hideBanner()
	o.c.applyFormat(f)
	o.refresh()
}

// offerPortrait shows the banner for a portrait first clip.
func (o *outputMenu) offerPortrait(seg *engine.Segment) {
	o.note.SetText(fmt.Sprintf("%s is portrait (%d×%d); the output is %d×%d. Stream it in portrait?",
		seg.Name, seg.SourceWidth, seg.SourceHeight, o.c.player.format.W, o.c.player.format.H))
	small := widget.NewButton("Portrait 720×1280", func() { o.setSize(720, 1280) })
	small.Importance = widget.HighImportance
	big := widget.NewButton("Portrait 1080×1920", func() { o.setSize(1080, 1920) })
	fill := widget.NewButton("Keep, fill (crop)", func() { o.setFill(true) })
	keep := widget.NewButton("Keep", o.hideBanner)
	o.banner.Objects = []fyne.CanvasObject{o.note, container.NewHBox(small, big, fill, keep)}
	o.banner.Show()
	o.banner.Refresh()
}

func (o *outputMenu) hideBanner() {
	o.banner.Hide()
	o.banner.Objects = nil
}
