package share

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"segcast/engine"
)

// kind is an uploaded input's format, told from its first bytes.
type kind int

const (
	kindUnknown kind = iota
	kindWAV
	kindY4M
	kindMP4
	kindMOV
	kindMKV
	kindWebM
	kindZip
	kindTar
	kindGzip // a gzipped tar
)

// ext is the file extension the loaders recognise the kind by.
func (k kind) ext() string {
	return [...]string{"", ".wav", ".y4m", ".mp4", ".mov", ".mkv", ".webm", ".zip", ".tar", ".tar.gz"}[k]
}

// sniffLen covers every magic below (a tar's is at 257).
const sniffLen = 512

var errUnsupported = "unsupported media: want WAV, Y4M, MP4, MOV, MKV, WebM, or a zip or tar of a segment folder"

// sniff tells the format from the first bytes, never from a name or a
// Content-Type a client may get wrong.
func sniff(b []byte) kind {
	at := func(off int, magic string) bool {
		return len(b) >= off+len(magic) && string(b[off:off+len(magic)]) == magic
	}
	switch {
	case at(0, "RIFF") && at(8, "WAVE"):
		return kindWAV
	case at(0, "YUV4MPEG2 "):
		return kindY4M
	case at(4, "ftyp") && at(8, "qt  "):
		return kindMOV
	case at(4, "ftyp"):
		return kindMP4
	case at(4, "moov"), at(4, "mdat"), at(4, "wide"), at(4, "free"):
		return kindMOV
	case at(0, "\x1a\x45\xdf\xa3"):
		if bytes.Contains(b[:min(len(b), 64)], []byte("webm")) {
			return kindWebM
		}
		return kindMKV
	case at(0, "PK\x03\x04"), at(0, "PK\x05\x06"):
		return kindZip
	case at(257, "ustar"):
		return kindTar
	case at(0, "\x1f\x8b"):
		return kindGzip
	}
	return kindUnknown
}

// idleBody is a request body that must keep moving: each read may wait at
// most bodyIdle for data, so a stalled client cannot hold a slot.
type idleBody struct {
	r  io.Reader
	rc *http.ResponseController
}

func (b idleBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(bodyIdle)) // unsupported in tests' recorders
	return b.r.Read(p)
}

// pathlessError is a loader's error with the temporary folder's path
// taken out of its message (the client never saw that path).
type pathlessError struct {
	msg string
	err error
}

func (e *pathlessError) Error() string { return e.msg }
func (e *pathlessError) Unwrap() error { return e.err }

func withoutDir(err error, dir string) error {
	return &pathlessError{strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), err}
}

// readUpload turns a request body into a segment: one whole input, or
// multipart parts "video" and "audio". With stream, a Y4M is decoded as
// it arrives into a complete live segment, so it is ready at the last
// byte; otherwise inputs are written to a temporary folder and loaded.
func (c *Control) readUpload(ctx context.Context, w http.ResponseWriter, r *http.Request, stream bool) (*engine.Segment, error) {
	body := idleBody{http.MaxBytesReader(w, r.Body, c.opt.MaxUpload), http.NewResponseController(w)}
	dir, err := os.MkdirTemp(c.opt.TempDir, "segcast-upload-")
	if err != nil {
		return nil, withStatus(http.StatusInternalServerError, "upload: %v", err)
	}
	defer os.RemoveAll(dir)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		if params["boundary"] == "" {
			return nil, withStatus(http.StatusBadRequest, "multipart body without a boundary")
		}
		// multipart reads its source 4 KB at a time: a large buffer below
		// it turns most of those reads into copies instead of syscalls
		// (half the server's time on a 720p Y4M, which then lagged the
		// client by 10–25 ms at its last byte).
		mr := multipart.NewReader(bufio.NewReaderSize(body, 1<<20), params["boundary"])
		return c.readParts(ctx, dir, mr, stream, r.ContentLength)
	}
	name := "upload"
	if _, p, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil && p["filename"] != "" {
		name = strings.TrimSuffix(filepath.Base(p["filename"]), filepath.Ext(p["filename"]))
	}
	seg, live, err := c.readInput(ctx, dir, body, name, stream, 0, r.ContentLength)
	if live != nil {
		live.End()
	}
	return seg, err
}

// readInput reads one whole input. With stream, a Y4M whose frames fit
// the budget uncompressed (size bounds the input's bytes; -1: unknown) is
// decoded as it arrives and comes back as its live segment too, still
// open: channels is the sound it has room for (0: none), and the caller
// Ends it. Anything else is spooled and loaded, the loader compressing
// frames when the budget is tight.
func (c *Control) readInput(ctx context.Context, dir string, r io.Reader, name string, stream bool, channels int, size int64) (*engine.Segment, *engine.LiveSegment, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(sniffLen)
	k := sniff(head)
	if k == kindUnknown {
		return nil, nil, withStatus(http.StatusUnsupportedMediaType, "%s", errUnsupported)
	}
	if k == kindY4M && stream && c.fitsRaw(br, size) {
		live, err := c.streamY4M(ctx, br, cleanName(name), channels)
		if err != nil {
			return nil, nil, err
		}
		return live.Segment(), live, nil
	}
	path, ours, err := c.spool(dir, br, k)
	if err != nil {
		return nil, nil, err
	}
	seg, err := engine.Load(ctx, path, engine.LoadOptions{FPS: c.opt.Rate, Store: c.opt.Store, Size: c.opt.Size})
	if err != nil {
		return nil, nil, withoutDir(err, dir)
	}
	if ours && seg.Name == strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) {
		seg.Name = cleanName(name) // named by our temporary file, not by the input
	}
	seg.Source = "upload"
	return seg, nil, nil
}

// spool writes an input under dir and returns the path to load: a file
// named by its kind, or the segment folder an archive holds; ours says
// the path's name is ours, not the input's.
func (c *Control) spool(dir string, r io.Reader, k kind) (path string, ours bool, err error) {
	switch k {
	case kindTar, kindGzip:
		if k == kindGzip {
			zr, err := gzip.NewReader(r)
			if err != nil {
				return "", false, fmt.Errorf("gzip: %w", err)
			}
			defer zr.Close()
			br := bufio.NewReader(zr)
			if head, _ := br.Peek(sniffLen); sniff(head) != kindTar {
				return "", false, withStatus(http.StatusUnsupportedMediaType, "gzip of something else than a tar: %s", errUnsupported)
			}
			r = br
		}
		folder := filepath.Join(dir, "segment")
		if err := extractTar(r, folder, c.opt.MaxUpload); err != nil {
			return "", false, err
		}
		return segmentRoot(folder)
	case kindZip:
		zipPath := filepath.Join(dir, "upload.zip")
		if err := writeFile(zipPath, r); err != nil {
			return "", false, err
		}
		folder := filepath.Join(dir, "segment")
		err := extractZip(zipPath, folder, c.opt.MaxUpload)
		os.Remove(zipPath) // the disk holds one copy at a time
		if err != nil {
			return "", false, err
		}
		return segmentRoot(folder)
	}
	path = filepath.Join(dir, "input"+k.ext())
	return path, true, writeFile(path, r)
}

func writeFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return withStatus(http.StatusInternalServerError, "upload: %v", err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	return nil
}

// readParts reads a multipart body: a part "video" (any input) and a
// part "audio" (a WAV), in either order. The audio replaces the video's
// own sound.
func (c *Control) readParts(ctx context.Context, dir string, mr *multipart.Reader, stream bool, size int64) (seg *engine.Segment, err error) {
	var (
		live  *engine.LiveSegment
		audio *engine.PCM
		wav   engine.WAV // the audio part's format
	)
	defer func() {
		if err != nil && seg != nil {
			seg.Release()
			seg = nil
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return seg, fmt.Errorf("multipart body: %w", err)
		}
		switch part.FormName() {
		case "video":
			if seg != nil {
				return seg, withStatus(http.StatusBadRequest, "multipart body: two video parts")
			}
			name := "upload"
			if fn := part.FileName(); fn != "" {
				name = strings.TrimSuffix(filepath.Base(fn), filepath.Ext(fn))
			}
			channels := 2 // room for an audio part still to come
			if audio != nil {
				channels = audio.Channels()
			}
			if seg, live, err = c.readInput(ctx, dir, part, name, stream, channels, size); err != nil {
				return seg, fmt.Errorf("video part: %w", err)
			}
		case "audio":
			if audio != nil {
				return seg, withStatus(http.StatusBadRequest, "multipart body: two audio parts")
			}
			if audio, wav, err = c.decodeWAV(ctx, part); err != nil {
				return seg, fmt.Errorf("audio part: %w", err)
			}
		default:
			return seg, withStatus(http.StatusBadRequest, "multipart body: part %q, want video and audio", part.FormName())
		}
		part.Close()
	}
	if seg == nil {
		return nil, withStatus(http.StatusBadRequest, "multipart body: no video part")
	}
	switch {
	case live != nil:
		if audio != nil {
			if err := live.AppendAudio(widen(audio, live.Segment().Audio.Channels())); err != nil {
				return seg, err
			}
		}
		live.End()
		seg.SourceAudioRate, seg.SourceChannels = 0, 0
	case audio != nil:
		seg.Audio = audio
	}
	if audio != nil {
		seg.SourceAudioRate, seg.SourceChannels = wav.Rate, wav.Channels
	}
	return seg, nil
}

// widen returns pcm's samples with channels per frame (mono doubled).
func widen(pcm *engine.PCM, channels int) []int16 {
	s := pcm.Samples()
	if pcm.Channels() == channels {
		return s
	}
	out := make([]int16, 2*len(s))
	for i, v := range s {
		out[2*i], out[2*i+1] = v, v
	}
	return out
}

// decodeWAV reads a WAV stream into 48 kHz sound, refusing what would not
// fit in what is left of the budget.
func (c *Control) decodeWAV(ctx context.Context, r io.Reader) (*engine.PCM, engine.WAV, error) {
	wr, err := engine.NewWAVReader(r)
	if err != nil {
		return nil, engine.WAV{}, err
	}
	left := c.opt.Store.Left()
	budget := func(frames int64) error {
		if need := engine.Frames48k(frames, wr.Rate) * int64(wr.Channels) * 2; need > left {
			return &engine.BudgetError{What: "memory for its sound (48 kHz)", Need: need, Left: left}
		}
		return nil
	}
	var out []int16
	if wr.DataBytes >= 0 {
		frames := wr.Frames(0)
		if err := budget(frames); err != nil {
			return nil, engine.WAV{}, err
		}
		out = make([]int16, 0, engine.Frames48k(frames, wr.Rate)*int64(wr.Channels))
	}
	rs := engine.NewResampler(wr.Rate, wr.Channels)
	buf := make([]float32, 1<<14)
	var in int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, engine.WAV{}, err
		}
		n, err := wr.Read(buf)
		in += int64(n / wr.Channels)
		if berr := budget(in); berr != nil {
			return nil, engine.WAV{}, berr
		}
		out = rs.Write(out, buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, engine.WAV{}, err
		}
	}
	out = rs.Flush(out)
	if len(out) == 0 {
		return nil, engine.WAV{}, errors.New("no audio samples")
	}
	return engine.NewPCM(out, wr.Channels), wr.WAV, nil
}

// fitsRaw says whether a Y4M stream of at most size bytes, its header
// at the start of br, holds no more frames than the budget has room for
// uncompressed at the output size: then streaming it never squeezes what
// else is loading.
func (c *Control) fitsRaw(br *bufio.Reader, size int64) bool {
	if size <= 0 {
		return false
	}
	head, _ := br.Peek(4096) // a header line is at most that (engine's limit)
	y, err := engine.NewY4MReader(bytes.NewReader(head))
	if err != nil {
		return false // the loader will say what is wrong
	}
	out := c.opt.Size
	frames := (size - int64(y.HeaderLen)) / (y.FrameBytes() + int64(len("FRAME\n")))
	return frames*int64(out.X*out.Y+2*((out.X+1)/2)*((out.Y+1)/2)) <= c.opt.Store.Left()
}

// streamY4M decodes a Y4M stream into a new live segment as it arrives,
// frames scaled to the output size, with room for channels of sound. The
// segment is complete but not ended: the caller may add sound, then Ends
// it. On error nothing stays allocated.
func (c *Control) streamY4M(ctx context.Context, r io.Reader, name string, channels int) (*engine.LiveSegment, error) {
	y, err := engine.NewY4MReader(r)
	if err != nil {
		return nil, err
	}
	out := c.opt.Size
	rate := y.Rate
	if rate == (engine.Rate{}) {
		rate = c.opt.Rate
	} else if err := engine.CheckFPS(rate); err != nil {
		return nil, fmt.Errorf("y4m header, F tag: %w", err)
	}
	live, err := engine.NewLiveSegment(engine.LiveConfig{Name: name, Rate: rate, Width: out.X, Height: out.Y,
		Channels: channels, Store: c.opt.Store})
	if err != nil {
		return nil, err
	}
	live.Segment().Source = "upload"
	for n := 0; ; n++ {
		err := ctx.Err()
		var img *image.YCbCr
		if err == nil {
			img, err = y.Next()
		}
		if err == io.EOF && n > 0 {
			return live, nil
		}
		if err == io.EOF {
			err = errors.New("no frames after the stream header")
		}
		if err == nil {
			err = live.AppendFrame(engine.Letterbox(img, out))
		}
		if err != nil {
			live.Segment().Release()
			return nil, err
		}
	}
}
