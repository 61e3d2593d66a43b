package ui

import (
	"fyne.io/fyne/v2"
	fdialog "fyne.io/fyne/v2/dialog"
)

// menu is the main menu; shortcuts show beside their items.
func (c *controller) menu() *fyne.MainMenu {
	open := fyne.NewMenuItem("Add files…", c.openFiles)
	open.Shortcut = shortcutOpen()
	quit := fyne.NewMenuItem("Quit", c.app.Quit)
	quit.Shortcut = shortcutQuit()
	quit.IsQuit = true
	file := fyne.NewMenu("File",
		open,
		fyne.NewMenuItem("Add folder…", c.openFolder),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Save viewer page…", c.stream.saveViewerPage),
		fyne.NewMenuItem("Settings…", c.showSettings),
		fyne.NewMenuItemSeparator(),
		quit,
	)
	playback := fyne.NewMenu("Playback",
		fyne.NewMenuItem("Play / Pause (Space)", c.togglePlay),
		fyne.NewMenuItem("Stop (Home)", c.loop.Stop),
		fyne.NewMenuItem("Previous segment (Page Up)", c.loop.Prev),
		fyne.NewMenuItem("Next segment (Page Down)", c.loop.Next),
		fyne.NewMenuItem("Loop on/off (L)", c.toggleLoop),
		fyne.NewMenuItem("Mute on/off (M)", c.toggleMute),
	)
	syncMenu := fyne.NewMenu("Sync",
		fyne.NewMenuItem("Local sync…", func() { c.openLocalSync() }),
	)
	return fyne.NewMainMenu(file, playback, syncMenu)
}

// showError shows err in a dialog over the window.
func (c *controller) showError(err error) { fdialog.ShowError(err, c.win) }
