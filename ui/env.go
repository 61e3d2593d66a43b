package ui

import (
	"errors"
	"time"

	"github.com/sqweek/dialog"

	"segcast/engine"
)

// audioDevice is what the window needs from the sound output
// (*audioout.Output); tests run without one.
type audioDevice interface {
	engine.Sink
	engine.Clock
	Device() string
	Latency() time.Duration
	SetVolume(float64)
	SetMuted(bool)
	Close() error
}

// env holds the parts of the outside world the window reaches: the audio
// device and the native file dialogs. Tests replace them.
type env struct {
	openAudio  func(device string) (audioDevice, error)
	pickFiles  func() ([]string, error)
	pickFolder func() (string, error)
	saveFile   func(name string) (string, error)
	// pickPlaylist and savePlaylist choose a playlist file to open or
	// write; openURL opens a link in the browser (nil: the app's).
	pickPlaylist func() (string, error)
	savePlaylist func(name string) (string, error)
	openURL      func(url string) error
	// do runs f on the UI thread (fyne.Do; tests serialise instead).
	do func(f func())
	// loopbackOnly keeps ICE on 127.0.0.1 (tests).
	loopbackOnly bool
}

// pickFiles shows the native open dialog (sqweek/dialog opens one file).
func pickFiles() ([]string, error) {
	p, err := dialog.File().Title("Add segment").
		Filter("Media (Y4M, WAV, MP4, MOV, MKV, WebM)", "y4m", "wav", "mp4", "m4v", "mov", "mkv", "webm").
		Filter("All files", "*").Load()
	if err != nil {
		return nil, err
	}
	return []string{p}, nil
}

// pickFolder shows the native folder dialog for a segment folder.
func pickFolder() (string, error) {
	return dialog.Directory().Title("Add segment folder").Browse()
}

// pickSaveFile shows the native save dialog.
func pickSaveFile(name string) (string, error) {
	return dialog.File().Title("Save viewer page").Filter("HTML page", "html").SetStartFile(name).Save()
}

// pickPlaylistFile shows the native open dialog for a playlist.
func pickPlaylistFile() (string, error) {
	return dialog.File().Title("Open playlist").Filter("Playlist (M3U)", "m3u8", "m3u").Load()
}

// pickPlaylistSave shows the native save dialog for a playlist.
func pickPlaylistSave(name string) (string, error) {
	return dialog.File().Title("Save playlist").Filter("Playlist (M3U)", "m3u8").SetStartFile(name).Save()
}

// isCancel tells a dismissed dialog from a failure.
func isCancel(err error) bool { return errors.Is(err, dialog.ErrCancelled) }
