package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// menu is the main menu; every action with a key shows it beside the
// item. Shortcuts with a modifier reach menu items whatever has focus
// (the driver asks the main menu first); the plain keys are the
// transport's (handleKey), listed here as their items' shortcuts.
func (c *controller) menu() *fyne.MainMenu {
	t := c.tr
	item := func(label string, do func(), sc fyne.Shortcut) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, do)
		it.Shortcut = sc
		return it
	}
	quit := item("Quit", c.app.Quit, shortcutQuit())
	quit.IsQuit = true
	c.list.recentMenu = fyne.NewMenuItem("Open recent", nil)
	c.list.refreshRecent()
	file := fyne.NewMenu("File",
		item("Add files…", c.list.openFiles, shortcutOpen()),
		fyne.NewMenuItem("Add folder…", c.list.openFolder),
		c.list.recentMenu,
		fyne.NewMenuItemSeparator(),
		item("Open playlist…", c.list.openPlaylist, ctrlShift(fyne.KeyO)),
		item("Save playlist…", c.list.savePlaylist, ctrl(fyne.KeyS)),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Save viewer page…", c.stream.saveViewerPage),
		item("Settings…", c.showSettings, ctrl(fyne.KeyComma)),
		fyne.NewMenuItemSeparator(),
		quit,
	)
	playback := fyne.NewMenu("Playback",
		item("Play / Pause", t.togglePlay, key(fyne.KeySpace)),
		item("Stop", t.doStop, key(fyne.KeyHome)),
		item("Frame back (paused) / 1 s back", func() { t.step(-1) }, key(fyne.KeyLeft)),
		item("Frame forward (paused) / 1 s on", func() { t.step(+1) }, key(fyne.KeyRight)),
		item("Previous segment", func() { c.player.loop.Prev() }, key(fyne.KeyPageUp)),
		item("Next segment", func() { c.player.loop.Next() }, key(fyne.KeyPageDown)),
		item("Loop on/off", t.toggleLoop, key(fyne.KeyL)),
		item("Mute on/off", t.toggleMute, key(fyne.KeyM)),
		item("Fullscreen preview", c.toggleFullscreen, key(fyne.KeyF)),
	)
	stream := fyne.NewMenu("Stream",
		item("Share on LAN / stop sharing", c.stream.toggleShare, ctrl(fyne.KeyL)),
		item("Add viewer from clipboard", c.stream.fromClipboard, ctrlShift(fyne.KeyV)),
		fyne.NewMenuItem("Add viewer (offer)", c.stream.offer),
	)
	syncMenu := fyne.NewMenu("Sync",
		fyne.NewMenuItem("Local sync…", func() { c.openLocalSync() }),
	)
	return fyne.NewMainMenu(file, playback, c.output.menu, stream, syncMenu)
}

// showSettings opens the settings dialog; what it changes applies at
// once where it can (output format, bitrates and ICE for the next viewer)
// and at the next start otherwise (memory budget, audio device).
func (c *controller) showSettings() {
	was := c.set
	showSettings(c.app.Preferences(), c.win, &c.set, c.run, func(s settings) {
		c.stream.say("Settings saved. The memory budget and audio device apply at the next start.")
		c.applyControl(was, s)
		f := c.player.format
		f.W, f.H = s.Width, s.Height
		if !s.MatchFPS {
			f.Rate = s.FPS
		} else if seg := c.list.firstClip(); seg != nil && seg.Rate.Valid() == nil {
			f.Rate = seg.Rate
		}
		c.applyFormat(f)
		c.output.refresh()
	})
}

func ctrl(k fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}
}

func ctrlShift(k fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
}

// key is a plain key shown beside a menu item; handleKey acts on it.
func key(k fyne.KeyName) *desktop.CustomShortcut { return &desktop.CustomShortcut{KeyName: k} }

func shortcutOpen() *desktop.CustomShortcut { return ctrl(fyne.KeyO) }
func shortcutQuit() *desktop.CustomShortcut { return ctrl(fyne.KeyQ) }
