package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// FPS is the frame rate when the input does not say; zero means 30.
	FPS Rate
	// Store holds the frames; nil gives the segment a store of its own
	// with DefaultBudget.
	Store *FrameStore
	// Size is the output frame size; frames of another size are scaled to
	// fit with black bars. Zero keeps the input's own size.
	Size image.Point
	// Progress, when set, is called after each frame with the frames done
	// and the total expected (an estimate for video files; it never falls
	// below done). It is not called for sound-only input.
	Progress func(done, total int)
}

// videoKind names the container of a video file decoded through ffmpeg,
// by its (lower-case) extension; "" for anything else.
func videoKind(ext string) string {
	switch ext {
	case ".mp4", ".m4v":
		return "MP4"
	case ".mov":
		return "MOV"
	case ".mkv":
		return "MKV"
	case ".webm":
		return "WebM"
	}
	return ""
}

// Load reads one segment from path: a segment folder, a .y4m file (with a
// .wav of the same base name beside it, if any), a .wav file alone, or an
// MP4/MOV/MKV/WebM video through ffmpeg. Frames are BT.601 limited-range
// I420, packed (YStride = width, CStride = (width+1)/2, origin 0,0), held
// in opt.Store. On error or cancellation nothing stays allocated, and
// the error starts with path.
func Load(ctx context.Context, path string, opt LoadOptions) (*Segment, error) {
	if opt.Store == nil {
		opt.Store = NewFrameStore(DefaultBudget())
	}
	l := &loader{ctx: ctx, opt: opt}
	seg, err := l.load(path)
	if err != nil {
		l.abort()
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return seg, nil
}

func (l *loader) load(path string) (*Segment, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, withoutPath(err)
	}
	if fi.IsDir() {
		return loadFolder(l.ctx, path, l)
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case ext == ".y4m":
		return loadY4M(l.ctx, path, l)
	case ext == ".wav":
		seg := &Segment{Name: baseName(path), Source: path, Rate: l.rate(Rate{})}
		if err := l.loadAudio(seg, path); err != nil {
			return nil, err
		}
		l.begin(l.opt.Size, 0)
		return l.finish(seg), nil
	case videoKind(ext) != "":
		return loadVideo(l.ctx, path, videoKind(ext), l)
	}
	return nil, fmt.Errorf("unsupported input %q: want a segment folder, .y4m, .wav, .mp4, .mov, .mkv or .webm", filepath.Base(path))
}

// withoutPath drops the path from an *os.PathError: our errors already
// start with it.
func withoutPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func baseName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// loader carries one load: options, output size and the frames so far.
type loader struct {
	ctx   context.Context
	opt   LoadOptions
	out   image.Point // output frame size
	in    image.Point // input frame size
	b     *frameBuilder
	total int
}

// rate picks the input's own frame rate, else the option, else 30.
func (l *loader) rate(own Rate) Rate {
	switch {
	case own.Valid() == nil:
		return own
	case l.opt.FPS.Valid() == nil:
		return l.opt.FPS
	}
	return Rate30
}

// begin sets the input frame size and the expected frame count.
func (l *loader) begin(in image.Point, expect int) {
	l.in, l.out = in, in
	if l.opt.Size.X > 0 && l.opt.Size.Y > 0 {
		l.out = l.opt.Size
	}
	l.total = expect
	l.b = newFrameBuilder(l.opt.Store, l.out.X, l.out.Y, expect)
}

// fit checks an input frame's size and scales it to the output size. It
// may run on several goroutines at once.
func (l *loader) fit(img *image.YCbCr) (*image.YCbCr, error) {
	if img.Rect.Size() != l.in {
		return nil, fmt.Errorf("frame is %dx%d, want %dx%d", img.Rect.Dx(), img.Rect.Dy(), l.in.X, l.in.Y)
	}
	return letterbox(img, l.out), nil
}

// add scales one input frame to the output size and stores it.
func (l *loader) add(img *image.YCbCr) error {
	img, err := l.fit(img)
	if err != nil {
		return err
	}
	return l.addFitted(img)
}

// addFitted stores a frame of the output size, in order, and reports
// progress.
func (l *loader) addFitted(img *image.YCbCr) error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	if err := l.b.add(img); err != nil {
		return err
	}
	done := l.done()
	l.total = max(l.total, done)
	if l.opt.Progress != nil {
		l.opt.Progress(done, l.total)
	}
	return nil
}

// done is the number of frames stored so far.
func (l *loader) done() int { return len(l.b.s.raw) }

// loadAudio reads a WAV into seg.Audio at 48 kHz.
func (l *loader) loadAudio(seg *Segment, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return withoutPath(err)
	}
	defer f.Close()
	w, err := ReadWAV(f, DefaultWAVLimit)
	if err != nil {
		return err
	}
	if err := l.ctx.Err(); err != nil {
		return err
	}
	seg.Audio = NewPCM(Resample48k(w.Samples, w.Channels, w.Rate), w.Channels)
	seg.SourceAudioRate, seg.SourceChannels = w.Rate, w.Channels
	return nil
}

// finish completes seg with the frames loaded.
func (l *loader) finish(seg *Segment) *Segment {
	seg.Width, seg.Height = l.out.X, l.out.Y
	if n := l.done(); l.opt.Progress != nil && l.total > n {
		l.opt.Progress(n, n) // the estimate was too high: end the bar at 100%
	}
	seg.Frames = l.b.finish()
	l.b = nil
	return seg
}

// abort releases whatever a failed load held.
func (l *loader) abort() {
	if l.b != nil {
		l.b.abort()
		l.b = nil
	}
}
