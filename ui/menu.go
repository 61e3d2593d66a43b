package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// menu is the main menu; shortcuts show beside their items.
func (c *controller) menu() *fyne.MainMenu {
	t, loop := c.tr, c.player.loop
	open := fyne.NewMenuItem("Add files…", c.list.openFiles)
	open.Shortcut = shortcutOpen()
	quit := fyne.NewMenuItem("Quit", c.app.Quit)
	quit.Shortcut = shortcutQuit()
	quit.IsQuit = true
	file := fyne.NewMenu("File",
		open,
		fyne.NewMenuItem("Add folder…", c.list.openFolder),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Save viewer page…", c.stream.saveViewerPage),
		fyne.NewMenuItem("Settings…", c.showSettings),
		fyne.NewMenuItemSeparator(),
		quit,
	)
	playback := fyne.NewMenu("Playback",
		fyne.NewMenuItem("Play / Pause (Space)", t.togglePlay),
		fyne.NewMenuItem("Stop (Home)", loop.Stop),
		fyne.NewMenuItem("Previous segment (Page Up)", loop.Prev),
		fyne.NewMenuItem("Next segment (Page Down)", loop.Next),
		fyne.NewMenuItem("Loop on/off (L)", t.toggleLoop),
		fyne.NewMenuItem("Mute on/off (M)", t.toggleMute),
	)
	syncMenu := fyne.NewMenu("Sync",
		fyne.NewMenuItem("Local sync…", func() { c.openLocalSync() }),
	)
	return fyne.NewMainMenu(file, playback, syncMenu)
}

// showSettings opens the settings dialog; what applies to the next stream
// reaches the stream panel's settings.
func (c *controller) showSettings() {
	showSettings(c.app.Preferences(), c.win, &c.set, c.run, c.stream.say)
}

// installShortcuts binds the transport keys (Space play/pause, ←/→ step,
// Page Up/Down previous/next segment, Home stop, L loop, M mute); menu
// items carry Ctrl+O and Ctrl+Q, registered on the canvas too so they work
// everywhere.
func (c *controller) installShortcuts() {
	cv := c.win.Canvas()
	t, loop := c.tr, c.player.loop
	cv.SetOnTypedKey(func(e *fyne.KeyEvent) {
		switch e.Name {
		case fyne.KeySpace:
			t.togglePlay()
		case fyne.KeyLeft:
			t.step(-1)
		case fyne.KeyRight:
			t.step(+1)
		case fyne.KeyPageUp:
			loop.Prev()
		case fyne.KeyPageDown:
			loop.Next()
		case fyne.KeyHome:
			loop.Stop()
		case fyne.KeyL:
			t.toggleLoop()
		case fyne.KeyM:
			t.toggleMute()
		}
	})
	cv.AddShortcut(shortcutOpen(), func(fyne.Shortcut) { c.list.openFiles() })
	cv.AddShortcut(shortcutQuit(), func(fyne.Shortcut) { c.app.Quit() })
}

func shortcutOpen() *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
}

func shortcutQuit() *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
}
