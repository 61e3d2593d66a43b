// Command devmain opens the Segcast window the way `segcast [FILE...]`
// does, plus switches the smoke test and the preview benchmark need:
// --stats logs the preview counters to stderr at an interval.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"segcast/ui"
)

func main() {
	stats := flag.Duration("stats", 0, "log preview counters at this interval")
	noAudio := flag.Bool("no-audio", false, "do not open an audio device")
	loop := flag.Bool("loop", false, "loop the playlist")
	pattern := flag.Bool("pattern", false, "add the sync pattern")
	flag.Parse()
	opt := ui.Options{
		Loop: *loop, Pattern: *pattern, NoAudio: *noAudio, StatsEvery: *stats,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	if err := ui.Run(flag.Args(), opt); err != nil {
		fmt.Fprintln(os.Stderr, "segcast:", err)
		os.Exit(1)
	}
}
