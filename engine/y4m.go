package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Limits for untrusted Y4M input.
const (
	y4mMaxLine  = 4096 // stream and FRAME header lines
	maxFrameDim = 8192 // width or height of any frame we load
)

// Y4MReader reads a YUV4MPEG2 stream frame by frame. Only 4:2:0 is
// accepted (C420, C420jpeg, C420paldv, C420mpeg2 or no C tag); the chroma
// siting variants differ by under a pixel and are kept as they are.
type Y4MReader struct {
	Width, Height int
	Rate          Rate // from the F tag; zero when the header has none
	// FullRange is set by the XCOLORRANGE=FULL extension; frames are then
	// converted to the limited range all frames use.
	FullRange bool
	HeaderLen int // bytes in the stream header line, for estimating counts
	r         *bufio.Reader
	n         int // frames read so far
}

// NewY4MReader parses the stream header.
func NewY4MReader(r io.Reader) (*Y4MReader, error) {
	y := &Y4MReader{r: bufio.NewReaderSize(r, y4mMaxLine)}
	line, err := y.line()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("not a Y4M file: empty")
		}
		return nil, fmt.Errorf("stream header: %w", err)
	}
	y.HeaderLen = len(line) + 1
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "YUV4MPEG2" {
		return nil, fmt.Errorf("not a Y4M file: want magic YUV4MPEG2, got %.20q", line)
	}
	for _, f := range fields[1:] {
		val := f[1:]
		switch f[0] {
		case 'W':
			y.Width, err = y4mDim(f)
		case 'H':
			y.Height, err = y4mDim(f)
		case 'F':
			num, den, ok := strings.Cut(val, ":")
			if !ok {
				return nil, fmt.Errorf("frame rate tag %q: want F<num>:<den>", f)
			}
			y.Rate, err = ParseRate(num + "/" + den)
			if err != nil {
				return nil, fmt.Errorf("frame rate tag %q: %w", f, err)
			}
		case 'C':
			switch val {
			case "420", "420jpeg", "420paldv", "420mpeg2":
			default:
				return nil, fmt.Errorf("unsupported colour space C%s: only 4:2:0 8-bit (C420, C420jpeg, C420paldv, C420mpeg2) is supported", val)
			}
		case 'X':
			if strings.EqualFold(val, "COLORRANGE=FULL") {
				y.FullRange = true
			}
		}
		// I (interlacing) and A (pixel aspect) change nothing for us.
		if err != nil {
			return nil, err
		}
	}
	if y.Width == 0 || y.Height == 0 {
		return nil, fmt.Errorf("stream header has no W or H tag")
	}
	return y, nil
}

func y4mDim(f string) (int, error) {
	v, err := strconv.Atoi(f[1:])
	if err != nil || v <= 0 || v > maxFrameDim {
		return 0, fmt.Errorf("%c tag %q: want 1..%d", f[0], f, maxFrameDim)
	}
	return v, nil
}

// line reads one '\n'-terminated line of at most y4mMaxLine bytes.
func (y *Y4MReader) line() (string, error) {
	b, err := y.r.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return "", fmt.Errorf("header line longer than %d bytes", y4mMaxLine)
	case err == io.EOF && len(b) > 0:
		return "", io.ErrUnexpectedEOF
	case err != nil:
		return "", err
	}
	return string(b[:len(b)-1]), nil
}

// FrameBytes is the size of one frame's pixel data.
func (y *Y4MReader) FrameBytes() int64 {
	cw, ch := (y.Width+1)/2, (y.Height+1)/2
	return int64(y.Width*y.Height + 2*cw*ch)
}

// Next returns the next frame, or io.EOF after the last one.
func (y *Y4MReader) Next() (*image.YCbCr, error) {
	return y.NextInto(nil)
}

// NextInto is Next reading into img when it is a packed 4:2:0 image of
// the stream's size (a new one is made when img is nil).
func (y *Y4MReader) NextInto(img *image.YCbCr) (*image.YCbCr, error) {
	line, err := y.line()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("frame %d: header: %w", y.n, err)
	}
	if line != "FRAME" && !strings.HasPrefix(line, "FRAME ") {
		return nil, fmt.Errorf("frame %d: want FRAME header, got %.20q", y.n, line)
	}
	if img == nil || img.Rect != image.Rect(0, 0, y.Width, y.Height) || img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		img = image.NewYCbCr(image.Rect(0, 0, y.Width, y.Height), image.YCbCrSubsampleRatio420)
	}
	got := 0
	for _, plane := range [][]byte{img.Y, img.Cb, img.Cr} {
		n, err := io.ReadFull(y.r, plane)
		got += n
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("frame %d truncated: %d of %d bytes", y.n, got, y.FrameBytes())
		}
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", y.n, err)
		}
	}
	if y.FullRange {
		toLimitedRange(img)
	}
	y.n++
	return img, nil
}

// loadY4M loads a Y4M file, with the sound of a WAV of the same base name
// beside it when there is one.
func loadY4M(ctx context.Context, path string, l *loader) (*Segment, error) {
	f, fi, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	y, err := NewY4MReader(f)
	if err != nil {
		return nil, err
	}
	if y.Rate != (Rate{}) {
		if err := CheckFPS(y.Rate); err != nil {
			return nil, fmt.Errorf("frame rate tag: %w", err)
		}
	}
	seg := &Segment{Name: baseName(path), Source: path, Rate: l.rate(y.Rate)}
	var snd *wavFile
	stem := strings.TrimSuffix(path, filepath.Ext(path))
	for _, wav := range []string{stem + ".wav", stem + ".WAV"} {
		if _, err := os.Stat(wav); err == nil {
			if snd, err = l.openWAV(wav); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Base(wav), err)
			}
			defer snd.Close()
			break
		}
	}
	if fi.Size() < int64(y.HeaderLen)+6+y.FrameBytes() {
		return nil, fmt.Errorf("file too short for one %dx%d frame", y.Width, y.Height)
	}
	// FRAME headers are usually bare: "FRAME\n".
	expect := int((fi.Size() - int64(y.HeaderLen)) / (y.FrameBytes() + 6))
	if err := l.begin(image.Pt(y.Width, y.Height), expect); err != nil {
		return nil, err
	}
	if snd != nil {
		if err := l.readWAV(seg, snd); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(snd.Name()), err)
		}
	}
	var img *image.YCbCr
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		img, err = y.NextInto(img)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if img, err = l.add(img); err != nil {
			return nil, fmt.Errorf("frame %d: %w", l.done(), err)
		}
	}
	if l.done() == 0 {
		return nil, errors.New("no frames after the stream header")
	}
	return l.finish(seg), nil
}
