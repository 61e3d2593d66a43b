// Command segcast loads audio/video segments into memory, previews them
// with sound, and streams them to browsers over WebRTC with exact A/V sync.
//
// With no subcommand it opens the window (on the built-in sync pattern when
// nothing is given). main only parses flags and wires packages together.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	_ "early.segcast/locale" // must initialise before Fyne: see the package

	"segcast/assets"
	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/measure"
	"segcast/rtc/publish"
	"segcast/rtc/share"
	"segcast/ui"
)

const usage = `usage:
  segcast [INPUT...] [--no-audio] [--share] [--paused] [--stats D] [--watch DIR]
                                     open the window (sync pattern when no input);
                                     --share starts sharing on the LAN at once,
                                     --watch queues what appears in DIR (control API),
                                     --paused opens without starting playback;
                                     --stats logs preview counters every D (diagnostics)
  segcast probe [--json] [--budget B] INPUT...
                                     describe segments
  segcast timeline [--pattern] [--fps R] [--duration D] [--loop] [INPUT...]
                                     the timeline as CSV, on a simulated clock
  segcast stream [INPUT...] [--pattern] [--loop] [--duration D] [--fps R]
                 [--bitrate BPS] [--ice-server URL[,user,cred]] [--offer] [--stats FILE]
                                     stream to one browser; SDP on stdin/stdout
  segcast serve [INPUT...] [--pattern] [--loop] [--listen ADDR:PORT] [--duration D] [--stats FILE]
                [--control-listen ADDR:PORT] [--watch DIR]
                                     share on the LAN: viewer URL, WHEP URL, control API URL,
                                     QR code; no INPUT starts on the idle card, ready to be fed
  segcast viewer --out FILE          write the browser viewer page
  segcast publish [INPUT...] [--pattern] [--loop] [--duration D] [--fps R] [--bitrate BPS]
                  --livekit URL (--token JWT | --api-key K --api-secret S --room ROOM [--identity ID])
                  | --whip URL [--bearer TOKEN]
                                     publish to a LiveKit room or a WHIP endpoint (reconnects by itself)
  segcast measure [INPUT...] [--pattern] [--duration D] [--out DIR] [--browser PATH] [--no-lipsync]
                  [--livekit URL (--api-key K --api-secret S [--room ROOM] | --token JWT --viewer-token JWT)]
                                     measure A/V sync and latency in headless Chromium
                                     (directly, or through a LiveKit room)

INPUT is a segment folder (images + WAV), a .y4m, a .wav, or an MP4/MOV/MKV/WebM.
The output frame rate follows the first input's ("match source"; 30 for the
pattern alone) unless --fps says otherwise.
`

// exitUsage is the status for bad arguments and bad files.
const exitUsage = 2

func main() {
	rtc.SpareProcs() // deadlines first: see its comment
	// SIGTERM (kill, systemd, docker stop) stops as Ctrl+C does: viewers
	// closed, --stats written, exit 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	if err != nil && !errors.Is(err, errHelpShown) {
		fmt.Fprintln(os.Stderr, "segcast:", err)
		var ue usageError
		if errors.As(err, &ue) || errors.As(err, new(*engine.BudgetError)) || errors.As(err, new(*rtc.InputError)) {
			os.Exit(exitUsage)
		}
		os.Exit(1)
	}
}

// errHelpShown ends a run that printed help because -h was asked for.
var errHelpShown = errors.New("help shown")

// usageError marks bad arguments or bad input files: exit status 2.
type usageError struct{ error }

func badInput(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "probe":
		return probe(ctx, args[1:], stdout)
	case "timeline":
		return timeline(ctx, args[1:], stdout)
	case "stream":
		return stream(ctx, args[1:], stdin, stdout)
	case "serve":
		return serve(ctx, args[1:], stdout)
	case "viewer":
		return viewer(args[1:])
	case "measure":
		return measureCmd(ctx, args[1:], stdout)
	case "publish":
		return publishCommand(ctx, args[1:], stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return window(args)
}

// mediaFlags are the flags shared by the subcommands that play media.
type mediaFlags struct {
	pattern  bool
	loop     bool
	fps      string
	size     string
	duration time.Duration
	budget   int64
	ownSize  bool // each input keeps its own size (probe describes them as they are)
	idle     bool // no input plays nothing (serve starts on the idle card), not the pattern
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // one clear line on stderr, from main
	return fs
}

func (m *mediaFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&m.pattern, "pattern", false, "use the built-in sync test pattern")
	fs.BoolVar(&m.loop, "loop", false, "loop the playlist")
	fs.StringVar(&m.fps, "fps", "", "output frame rate (N or N/D; default: the first input's, or 30), and the rate of inputs that don't say")
	fs.StringVar(&m.size, "size", "", "output size WxH (default: the first input's, or 1280x720)")
	fs.DurationVar(&m.duration, "duration", 0, "how long to run (0: the playlist's length, or until interrupted)")
	fs.Int64Var(&m.budget, "budget", engine.DefaultBudget(), "memory budget for frames and sound, bytes")
}

// parse parses flags that may come before or after the inputs.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var inputs []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(os.Stdout, usage, "\nflags of ", fs.Name(), ":\n")
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return nil, errHelpShown
		} else if err != nil {
			return nil, badInput("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return inputs, nil
		}
		inputs = append(inputs, args[0])
		args = args[1:]
	}
}

// media is what the playing subcommands need: the loaded segments and the
// output format.
type media struct {
	segs  []*engine.Segment
	rate  engine.Rate
	size  image.Point
	store *engine.FrameStore // holds the segments; more may be loaded into it
}

func (m *mediaFlags) load(ctx context.Context, inputs []string) (*media, error) {
	// Match source: without --fps the output runs at the first input's
	// rate (inputs that do not say have 30).
	match := m.fps == ""
	rate := engine.Rate30
	if !match {
		r, err := engine.ParseRate(m.fps)
		if err == nil {
			err = engine.CheckFPS(r)
		}
		if err != nil {
			return nil, badInput("--fps: %v", err)
		}
		rate = r
	}
	var err error
	var size image.Point
	if m.size != "" {
		if size, err = engine.ParseSize(m.size); err != nil {
			return nil, badInput("--size: %v", err)
		}
	}
	if m.duration < 0 {
		return nil, badInput("--duration: must not be negative")
	}
	if m.budget <= 0 {
		return nil, badInput("--budget: must be positive")
	}
	engine.LimitHeap(m.budget)
	store := engine.NewFrameStore(m.budget)
	out := &media{rate: rate, size: size, store: store}
	for _, in := range inputs {
		seg, err := engine.Load(ctx, in, engine.LoadOptions{FPS: out.rate, Store: store, Size: out.size})
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return nil, usageError{err}
		}
		if out.size == (image.Point{}) && !m.ownSize {
			out.size = image.Pt(seg.Width, seg.Height)
		}
		if match && len(out.segs) == 0 && seg.Rate.Valid() == nil {
			out.rate = seg.Rate
		}
		out.segs = append(out.segs, seg)
	}
	if out.size == (image.Point{}) {
		out.size = image.Pt(1280, 720)
	}
	if m.pattern || (len(inputs) == 0 && !m.idle) {
		d := m.duration
		if d == 0 {
			d = pattern.DefaultLength
		}
		out.segs = append([]*engine.Segment{pattern.New(out.size.X, out.size.Y, out.rate, d)}, out.segs...)
	}
	return out, nil
}

// newLoop builds a loop over the media on the given clock.
func (md *media) newLoop(clock engine.Clock, loop bool) *engine.Loop {
	l := engine.NewLoop(engine.LoopConfig{
		Rate: md.rate, Width: md.size.X, Height: md.size.Y,
		Clock: clock, Lead: rtc.EncodeLead, IdleLead: rtc.IdleEncodeLead, Idle: pattern.IdleCard(md.size.X, md.size.Y),
	})
	for _, s := range md.segs {
		l.Add(s)
	}
	l.SetLoop(loop)
	return l
}

func probe(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("probe")
	asJSON := fs.Bool("json", false, "write JSON")
	fps := fs.String("fps", "30", "frame rate of inputs that don't say")
	budget := fs.Int64("budget", engine.DefaultBudget(), "memory budget for frames and sound, bytes")
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(inputs) == 0 {
		return badInput("probe: no INPUT given")
	}
	m := mediaFlags{fps: *fps, budget: *budget, ownSize: true}
	md, err := m.load(ctx, inputs)
	if err != nil {
		return err
	}
	type info struct {
		Name        string  `json:"name"`
		Source      string  `json:"source"`
		Frames      int     `json:"frames"`
		Width       int     `json:"width"`
		Height      int     `json:"height"`
		FPS         string  `json:"fps"`
		AudioRate   int     `json:"audio_rate"`
		Channels    int     `json:"audio_channels"`
		DurationSec float64 `json:"duration_s"`
		MemoryBytes int64   `json:"memory_bytes"`
	}
	var infos []info
	for _, s := range md.segs {
		infos = append(infos, info{s.Name, s.Source, s.Frames.Len(), s.Width, s.Height, s.Rate.String(),
			s.SourceAudioRate, s.SourceChannels, s.Duration().Seconds(), s.MemoryBytes()})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFRAMES\tSIZE\tFPS\tAUDIO\tDURATION\tMEMORY")
	for _, i := range infos {
		audio := "none"
		if i.AudioRate > 0 {
			audio = fmt.Sprintf("%d Hz %dch", i.AudioRate, i.Channels)
		}
		fmt.Fprintf(tw, "%s\t%d\t%dx%d\t%s\t%s\t%.3fs\t%.1f MiB\n", i.Name, i.Frames, i.Width, i.Height,
			i.FPS, audio, i.DurationSec, float64(i.MemoryBytes)/(1<<20))
	}
	return tw.Flush()
}

func timeline(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("timeline")
	var m mediaFlags
	m.register(fs)
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	md, err := m.load(ctx, inputs)
	if err != nil {
		return err
	}
	return engine.WriteTimelineCSV(ctx, stdout, md.segs, engine.TimelineOptions{
		Rate: md.rate, Width: md.size.X, Height: md.size.Y, Duration: m.duration, Loop: m.loop,
	})
}

// iceServers collects repeated --ice-server flags.
type iceServers []rtc.ICEServer

func (s *iceServers) String() string { return fmt.Sprint(len(*s), " servers") }
func (s *iceServers) Set(v string) error {
	srv, err := rtc.ParseICEServer(v)
	if err != nil {
		return err
	}
	*s = append(*s, srv)
	return nil
}

func logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func stream(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlagSet("stream")
	var m mediaFlags
	m.register(fs)
	bitrate := fs.Int("bitrate", 0, "target video bitrate, bits/s (0: automatic)")
	var ice iceServers
	fs.Var(&ice, "ice-server", "STUN/TURN server URL[,user,credential] (repeatable)")
	offer := fs.Bool("offer", false, "print an offer and read the answer (default: read an offer, print the answer)")
	statsFile := fs.String("stats", "", "write a JSON summary here at exit")
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *bitrate < 0 {
		return badInput("--bitrate: must not be negative")
	}
	md, err := m.load(ctx, inputs)
	if err != nil {
		return err
	}
	clock := engine.NewWallClock()
	loop := md.newLoop(clock, m.loop || m.pattern || len(inputs) == 0)
	hub := measure.NewHub(clock, logger()) // the viewer page's sync channel
	defer hub.Close()
	return rtc.Stream(ctx, loop, rtc.StreamOptions{
		Config: rtc.Config{
			Width: md.size.X, Height: md.size.Y, Rate: md.rate, Clock: clock,
			Bitrate: *bitrate, ICEServers: ice, Log: logger(), Observers: []rtc.Observer{hub},
		},
		OfferMode: *offer, Duration: m.duration, StatsFile: *statsFile,
		In: stdin, Out: stdout,
	})
}

func serve(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("serve")
	m := mediaFlags{idle: true}
	m.register(fs)
	listen := fs.String("listen", "", "address:port to serve on (default: the LAN address, port 8787)")
	statsFile := fs.String("stats", "", "write a JSON summary here at exit")
	controlListen := fs.String("control-listen", share.DefaultControlAddr, "address:port of the control API (producers push segments)")
	watch := fs.String("watch", "", "queue every complete file or segment folder that appears in this folder")
	var ice iceServers
	fs.Var(&ice, "ice-server", "STUN/TURN server URL[,user,credential] (repeatable)")
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	for name, addr := range map[string]string{"listen": *listen, "control-listen": *controlListen} {
		if addr == "" {
			continue
		}
		_, port, err := net.SplitHostPort(addr)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			return badInput("--%s %q: want ADDR:PORT with a port from 0 to 65535", name, addr)
		}
	}
	if st, err := os.Stat(*watch); *watch != "" && (err != nil || !st.IsDir()) {
		return badInput("--watch %s: not a folder", *watch)
	}
	md, err := m.load(ctx, inputs)
	if err != nil {
		return err
	}
	clock := engine.NewWallClock()
	looping := m.loop || m.pattern || len(inputs) == 0
	loop := md.newLoop(clock, looping)
	hub := measure.NewHub(clock, logger()) // the viewer page's sync channel
	defer hub.Close()
	observers := []rtc.Observer{hub}
	if looping {
		loop.Play() // round and round: a viewer joins it live
	} else {
		observers = append(observers, startOnJoin{loop})
	}
	return share.Serve(ctx, loop, share.ServeOptions{
		Config: rtc.Config{
			Width: md.size.X, Height: md.size.Y, Rate: md.rate, Clock: clock,
			ICEServers: ice, Log: logger(), Observers: observers,
		},
		Addr: *listen, Duration: m.duration, Out: stdout, StatsFile: *statsFile,
		Control: share.ControlOptions{Addr: *controlListen, WatchDir: *watch, Store: md.store},
	})
}

// startOnJoin is serve's start without --loop. One encode feeds every
// viewer, so all see one timeline: a viewer who connects while the
// playlist plays joins it live; one who connects while nothing plays
// (before the first viewer, or after the playlist has ended) starts it
// from the top, instead of facing the idle card. Played from server
// start, a once-through playlist would be over before most viewers came.
type startOnJoin struct{ loop *engine.Loop }

// joinWait bounds how long startOnJoin waits for a new viewer to connect.
const joinWait = 30 * time.Second

func (j startOnJoin) ViewerCreated(v *rtc.Viewer) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), joinWait)
		defer cancel()
		if v.WaitConnected(ctx) == nil && !j.loop.Position().Playing {
			j.loop.Stop() // rewind
			j.loop.Play()
		}
	}()
}

func (startOnJoin) ViewerClosed(*rtc.Viewer) {}
func (startOnJoin) Sent(rtc.SentItem)        {}

func measureCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("measure")
	var m mediaFlags
	m.register(fs)
	out := fs.String("out", ".", "folder for report.json and report.png")
	browser := fs.String("browser", measure.DefaultBrowser, "Chromium to run the viewer page in")
	noLipSync := fs.Bool("no-lipsync", false, "leave the viewer page's lip-sync trim off: Chrome's own lip sync alone")
	var lk publish.LiveKitOptions
	fs.StringVar(&lk.URL, "livekit", "", "measure through this LiveKit server (ws://, wss://): publish there, watch on the LiveKit viewer page")
	fs.StringVar(&lk.Token, "token", "", "LiveKit token (JWT) Segcast publishes with")
	viewerToken := fs.String("viewer-token", "", "LiveKit token (JWT) for the viewer page, with --token: may subscribe and publish data")
	fs.StringVar(&lk.APIKey, "api-key", "", "LiveKit API key (default $LIVEKIT_API_KEY)")
	fs.StringVar(&lk.APISecret, "api-secret", "", "LiveKit API secret (default $LIVEKIT_API_SECRET)")
	fs.StringVar(&lk.Room, "room", "", "LiveKit room (with --api-key; default a fresh one)")
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	var through *publish.LiveKitOptions
	if lk.URL != "" {
		if lk.Token == "" && lk.APIKey == "" && lk.APISecret == "" {
			lk.APIKey, lk.APISecret = os.Getenv("LIVEKIT_API_KEY"), os.Getenv("LIVEKIT_API_SECRET")
		}
		if lk.Token != "" && *viewerToken == "" {
			return badInput("measure: --token needs --viewer-token for the viewer page (or give --api-key and --api-secret)")
		}
		through = &lk
	}
	if m.duration == 0 {
		m.duration = time.Minute
	}
	if _, err := os.Stat(*browser); err != nil {
		return badInput("--browser %s: %v (install Debian's chromium, or give its path)", *browser, err)
	}
	if st, err := os.Stat(*out); err == nil && !st.IsDir() {
		return badInput("--out %s: not a folder", *out) // a missing one is made
	}
	md, err := m.load(ctx, inputs)
	if err != nil {
		return err
	}
	clock := engine.NewWallClock()
	loop := md.newLoop(clock, true)
	r, err := measure.Run(ctx, loop, measure.Options{
		Config:   rtc.Config{Width: md.size.X, Height: md.size.Y, Rate: md.rate, Clock: clock, Log: logger()},
		Duration: m.duration, OutDir: *out, Browser: *browser, NoLipSync: *noLipSync, Log: logger(),
		LiveKit: through, ViewerToken: *viewerToken,
	})
	if errors.As(err, new(*publish.ConnectError)) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, r.OneLine())
	return nil
}

func viewer(args []string) error {
	fs := newFlagSet("viewer")
	out := fs.String("out", "", "file to write the viewer page to")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return badInput("viewer: --out FILE is required")
	}
	if err := os.WriteFile(*out, assets.ViewerPage(), 0o644); err != nil {
		return fmt.Errorf("viewer: %w", err)
	}
	return nil
}

func window(args []string) error {
	fs := newFlagSet("segcast")
	var m mediaFlags
	m.register(fs)
	noAudio := fs.Bool("no-audio", false, "never open an audio device (preview on the wall clock)")
	shareLAN := fs.Bool("share", false, "start sharing on the LAN at once (the viewer page's link and QR code)")
	paused := fs.Bool("paused", false, "open without starting playback")
	stats := fs.Duration("stats", 0, "diagnostics: log the preview's and the loop's counters to stderr at this interval")
	watch := fs.String("watch", "", "queue every complete file or segment folder that appears in this folder (control API)")
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *stats < 0 {
		return badInput("--stats: must not be negative")
	}
	if st, err := os.Stat(*watch); *watch != "" && (err != nil || !st.IsDir()) {
		return badInput("--watch %s: not a folder", *watch)
	}
	// Fyne's GLFW driver panics without a display; say what is missing.
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display for the window (DISPLAY is not set); run it on a desktop, under xvfb-run, or use a subcommand (segcast help)")
	}
	opt := ui.Options{Pattern: m.pattern, Loop: m.loop, NoAudio: *noAudio, Share: *shareLAN, Paused: *paused, StatsEvery: *stats, Watch: *watch, Log: logger()}
	// Only flags the user gave override the saved settings.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "fps":
			opt.FPS = m.fps
		case "size":
			opt.Size = m.size
		case "budget":
			opt.Budget = m.budget
		}
	})
	return ui.Run(inputs, opt)
}

// publishCommand is `segcast publish`: the media to a LiveKit room or a
// WHIP endpoint. The API key and secret may come from LIVEKIT_API_KEY and
// LIVEKIT_API_SECRET, which keeps them off the process list.
func publishCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("publish")
	var m mediaFlags
	m.register(fs)
	bitrate := fs.Int("bitrate", 0, "target video bitrate, bits/s (0: automatic)")
	var lk publish.LiveKitOptions
	var wo publish.WHIPOptions
	fs.StringVar(&lk.URL, "livekit", "", "LiveKit server URL (ws://, wss://)")
	fs.StringVar(&lk.Token, "token", "", "LiveKit access token (JWT) that may publish")
	fs.StringVar(&lk.APIKey, "api-key", "", "LiveKit API key (default $LIVEKIT_API_KEY)")
	fs.StringVar(&lk.APISecret, "api-secret", "", "LiveKit API secret (default $LIVEKIT_API_SECRET)")
	fs.StringVar(&lk.Room, "room", "", "LiveKit room (with --api-key)")
	fs.StringVar(&lk.Identity, "identity", "", "participant identity (default segcast-…)")
	fs.StringVar(&wo.URL, "whip", "", "WHIP endpoint URL")
	fs.StringVar(&wo.Bearer, "bearer", "", "WHIP bearer token")
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *bitrate < 0 {
		return badInput("--bitrate: must not be negative")
	}
	opt := publish.RunOptions{Duration: m.duration, Out: stdout}
	switch {
	case (lk.URL == "") == (wo.URL == ""):
		return badInput("publish: give --livekit URL or --whip URL")
	case lk.URL != "":
		if lk.Token == "" && lk.APIKey == "" && lk.APISecret == "" {
			lk.APIKey, lk.APISecret = os.Getenv("LIVEKIT_API_KEY"), os.Getenv("LIVEKIT_API_SECRET")
		}
		opt.LiveKit = &lk
	default:
		opt.WHIP = &wo
	}
	md, err := m.load(ctx, inputs)
	if err != nil {
		return err
	}
	clock := engine.NewWallClock()
	opt.Config = rtc.Config{Width: md.size.X, Height: md.size.Y, Rate: md.rate, Clock: clock, Bitrate: *bitrate, Log: logger()}
	err = publish.Run(ctx, md.newLoop(clock, m.loop || m.pattern || len(inputs) == 0), opt)
	if errors.As(err, new(*publish.ConnectError)) {
		return usageError{err}
	}
	return err
}
