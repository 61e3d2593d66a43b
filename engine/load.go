package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
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
	// Fill scales frames of another shape to cover Size, cropping the
	// overflow (centred), instead of fitting them with bars.
	Fill bool
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
	if err := checkRegular(fi); err != nil {
		return nil, err
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case ext == ".y4m":
		return loadY4M(l.ctx, path, l)
	case ext == ".wav":
		seg := &Segment{Name: baseName(path), Source: path, Rate: l.rate(Rate{})}
		snd, err := l.openWAV(path)
		if err != nil {
			return nil, err
		}
		defer snd.Close()
		if err := l.begin(l.opt.Size, 0); err != nil {
			return nil, err
		}
		if err := l.readWAV(seg, snd); err != nil {
			return nil, err
		}
		return l.finish(seg), nil
	case videoKind(ext) != "":
		return loadVideo(l.ctx, path, videoKind(ext), l)
	}
	return nil, fmt.Errorf("unsupported input %q: want a segment folder, .y4m, .wav, .mp4, .mov, .mkv or .webm", filepath.Base(path))
}

// checkRegular refuses what is not a regular file: opening a FIFO named
// x.wav would wait for a writer forever, and a device never ends.
func checkRegular(fi os.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	kind := "not a regular file"
	switch t := fi.Mode().Type(); {
	case t&os.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO), not a regular file"
	case t&os.ModeSocket != 0:
		kind = "a socket, not a regular file"
	case t&os.ModeDevice != 0:
		kind = "a device, not a regular file"
	case t&os.ModeDir != 0:
		kind = "a folder, not a file"
	}
	return errors.New(kind)
}

// openRegular opens a regular file for reading, refusing anything else
// before opening it.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, withoutPath(err)
	}
	if err := checkRegular(fi); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, withoutPath(err)
	}
	return f, fi, nil
}

// Frame rates a segment may have. Beyond them a rate is a mistake (one
// frame of 11.6 days, or a frame time under the loop's resolution).
const (
	MinFPS = 1
	MaxFPS = 240
)

// CheckFPS refuses a frame rate outside MinFPS..MaxFPS.
func CheckFPS(r Rate) error {
	if err := r.Valid(); err != nil {
		return err
	}
	if r.Num < MinFPS*r.Den || r.Num > MaxFPS*r.Den {
		return fmt.Errorf("%s is %.6g fps, want %d to %d", r, r.FPS(), MinFPS, MaxFPS)
	}
	return nil
}

// LimitHeap sets the Go runtime's soft memory limit from a memory budget
// (FrameStore's): the loaded media (at most budget), a quarter more for
// decoding and the collector's slack, and heapBase for the rest of the
// program. Without it the heap may grow to twice the live data before a
// collection (GOGC's default). GOMEMLIMIT in the environment wins. It
// returns the limit now in force.
func LimitHeap(budget int64) int64 {
	if os.Getenv("GOMEMLIMIT") == "" && budget > 0 {
		debug.SetMemoryLimit(budget + budget/4 + heapBase)
	}
	return debug.SetMemoryLimit(-1)
}

// heapBase is LimitHeap's allowance for what is not media: decoders'
// working memory, the UI, the network.
const heapBase = 64 << 20

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
	sound int64 // bytes reserved in the store for the sound, until finish
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

// begin sets the input frame size and the expected frame count. It
// refuses, before anything is decoded, frames that cannot fit the budget.
func (l *loader) begin(in image.Point, expect int) error {
	l.in, l.out = in, in
	if l.opt.Size.X > 0 && l.opt.Size.Y > 0 {
		l.out = l.opt.Size
	}
	l.total = expect
	b, err := newFrameBuilder(l.opt.Store, l.out.X, l.out.Y, expect)
	l.b = b
	return err
}

// fit checks an input frame's size and scales it to the output size. It
// may run on several goroutines at once.
func (l *loader) fit(img *image.YCbCr) (*image.YCbCr, error) {
	if img.Rect.Size() != l.in {
		return nil, fmt.Errorf("frame is %dx%d, want %dx%d", img.Rect.Dx(), img.Rect.Dy(), l.in.X, l.in.Y)
	}
	return fitFrame(img, l.out, l.opt.Fill), nil
}

// add scales one input frame to the output size and stores it. It
// returns img when the store did not keep it, for the caller to reuse.
func (l *loader) add(img *image.YCbCr) (spare *image.YCbCr, err error) {
	fitted, err := l.fit(img)
	if err != nil {
		return nil, err
	}
	kept, err := l.addFitted(fitted)
	if kept && fitted == img {
		return nil, err
	}
	return img, err
}

// addFitted stores a frame of the output size, in order, and reports
// progress; kept says whether the store holds img itself.
func (l *loader) addFitted(img *image.YCbCr) (kept bool, err error) {
	if err := l.ctx.Err(); err != nil {
		return false, err
	}
	if kept, err = l.b.add(img); err != nil {
		return false, err
	}
	done := l.done()
	l.total = max(l.total, done)
	if l.opt.Progress != nil {
		l.opt.Progress(done, l.total)
	}
	return kept, nil
}

// done is the number of frames stored so far.
func (l *loader) done() int { return len(l.b.s.raw) }

// reserveSound takes n more bytes of the budget for the segment's sound.
func (l *loader) reserveSound(n int64) error {
	if err := l.opt.Store.reserve(n, soundMemory); err != nil {
		return err
	}
	l.sound += n
	return nil
}

// releaseSound gives back n bytes of the sound's reservation.
func (l *loader) releaseSound(n int64) {
	l.opt.Store.give(n)
	l.sound -= n
}

// wavFile is a WAV whose header has been read and whose 48 kHz sound is
// reserved in the budget; readWAV decodes it.
type wavFile struct {
	*os.File
	w      *WAVReader
	frames int64 // sample frames at the file's rate
}

// openWAV reads a WAV's header and reserves what its sound will hold at
// 48 kHz, refusing before decoding a sound that cannot fit.
func (l *loader) openWAV(path string) (*wavFile, error) {
	f, fi, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWAVReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	have := fi.Size() - w.HeaderBytes
	if w.DataBytes > have {
		f.Close()
		return nil, fmt.Errorf("data chunk truncated: header says %d bytes, file has %d", w.DataBytes, have)
	}
	frames := w.Frames(have)
	if frames == 0 {
		f.Close()
		return nil, errors.New("no audio samples")
	}
	if err := l.reserveSound(Frames48k(frames, w.Rate) * int64(w.Channels) * 2); err != nil {
		f.Close()
		return nil, err
	}
	return &wavFile{File: f, w: w, frames: frames}, nil
}

// readWAV decodes a WAV opened by openWAV into seg.Audio at 48 kHz, block
// by block into the memory reserved for it.
func (l *loader) readWAV(seg *Segment, f *wavFile) error {
	w := f.w
	out := make([]int16, 0, Frames48k(f.frames, w.Rate)*int64(w.Channels))
	rs := NewResampler(w.Rate, w.Channels)
	buf := make([]float32, 1<<15)
	for {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		n, err := w.Read(buf)
		out = rs.Write(out, buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	out = rs.Flush(out)
	if len(out) == 0 {
		return errors.New("no audio samples")
	}
	seg.Audio = NewPCM(out, w.Channels)
	seg.SourceAudioRate, seg.SourceChannels = w.Rate, w.Channels
	return nil
}

// finish completes seg with the frames loaded.
func (l *loader) finish(seg *Segment) *Segment {
	seg.Width, seg.Height = l.out.X, l.out.Y
	if l.done() > 0 {
		seg.SourceWidth, seg.SourceHeight = l.in.X, l.in.Y
	}
	if n := l.done(); l.opt.Progress != nil && l.total > n {
		l.opt.Progress(n, n) // the estimate was too high: end the bar at 100%
	}
	l.b.s.sound, l.sound = l.sound, 0
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
	l.releaseSound(l.sound)
}
