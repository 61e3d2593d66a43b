// Package ui is Segcast's desktop window: the playlist, the preview with
// sound, the transport, the stream panel and the settings. It turns user
// actions into engine and rtc calls; it holds no media logic of its own.
//
// The player (player.go) owns the loop, its clock, the audio device and
// the preview sink, and the one timing policy: which clock runs the loop,
// how the preview is delayed while streaming, and how a new output format
// becomes a new loop (swap). Each panel is built from what it uses; the
// controller only wires them into the window (layout.go places them;
// keys.go makes the transport's keys work whatever has focus).
//
// Ways out beside the preview, all from the stream's one encode: the LAN
// share (share.go), pasted viewers (stream.go) and publishing to a LiveKit
// room or a WHIP endpoint (publish.go). Ways in: the playlist, and the
// control API (control.go), through which producers queue segments on the
// loop on air; its entries and the idle clip are rows under the playlist
// (queue.go). Nothing on the UI thread waits for the network.
package ui

import (
	"context"
	"log/slog"
	"time"

	"fyne.io/fyne/v2/app"

	"segcast/engine"
	"segcast/engine/audioout"
)

// AppID is the unique ID Fyne keys preferences by (as in FyneApp.toml).
const AppID = "io.segcast.app"

// Options are the window's initial inputs and switches.
type Options struct {
	// Inputs are loaded into the playlist at start (files or segment
	// folders), after any given to Run as args.
	Inputs []string
	// Pattern adds the built-in sync pattern to the playlist. With no
	// inputs at all it is added anyway, so the window never starts blank.
	Pattern bool
	// Loop plays the playlist round and round.
	Loop bool
	// FPS ("30", "30000/1001") and Size ("1280x720") override the output
	// rate and size from the settings; "" keeps the settings. Pass them
	// only when the user gave the flag.
	FPS, Size string
	// Budget overrides the frame memory budget in bytes; 0 keeps the
	// settings.
	Budget int64
	// Share starts sharing on the LAN at once (`segcast --share`).
	Share bool
	// Paused opens the window without starting playback (`segcast
	// --paused`): the pattern paused at its start, inputs stopped.
	Paused bool
	// Watch queues every complete file or segment folder that appears in
	// this folder, through the control API (`segcast --watch DIR`); ""
	// keeps the settings' Watch folder. Not saved.
	Watch string
	// NoAudio never opens an audio device: the preview runs on the wall
	// clock and the status bar says "no audio device".
	NoAudio bool
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// StatsEvery, when positive, logs preview and loop counters at that
	// interval (Info level; `segcast --stats D`): the preview benchmark
	// reads them.
	StatsEvery time.Duration
}

// Run opens the window and returns when it is closed. args are input
// paths from the command line (`segcast FILE...`); playback starts as soon
// as the first of them has loaded.
func Run(args []string, opt Options) error {
	opt.Inputs = append(append([]string{}, args...), opt.Inputs...)
	a := app.NewWithID(AppID)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := env{openAudio: openPortAudio, pickFiles: pickFiles, pickFolder: pickFolder, saveFile: pickSaveFile,
		pickPlaylist: pickPlaylistFile, savePlaylist: pickPlaylistSave}
	c, err := newController(ctx, a, opt, e)
	if err != nil {
		return err
	}
	defer c.close()
	// Keep the Go heap near the memory budget (the process's, so set here).
	engine.LimitHeap(c.player.store.Budget())
	c.fitScreen(screenSize())
	if err := lowerUIThreadPriority(); err != nil {
		c.run.log.Warn("lower the UI thread's priority", "err", err)
	}
	c.win.ShowAndRun()
	return nil
}

// openPortAudio opens the chosen device (default for "").
func openPortAudio(device string) (audioDevice, error) {
	return audioout.Open(audioout.Options{Device: device})
}

// The real output says what is heard, or the local sync view stays empty.
var _ heardPosition = (*audioout.Output)(nil)
