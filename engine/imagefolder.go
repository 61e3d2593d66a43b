package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"golang.org/x/image/draw"
)

// Limits for untrusted files in a segment folder.
const (
	maxImageFile = 64 << 20
	maxTOMLFile  = 64 << 10
	segmentTOML  = "segment.toml"
)

// folderContents is what a segment folder holds, images in play order.
type folderContents struct {
	images []string // file names, natural order
	wav    string   // file name, "" when none
	toml   bool
}

func listFolder(dir string) (folderContents, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return folderContents{}, err
	}
	var c folderContents
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		used := name == segmentTOML || ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".wav"
		if used && !e.Type().IsRegular() {
			// A FIFO would block the loader forever; a link is followed.
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				return c, fmt.Errorf("%s: %w", name, withoutPath(err))
			}
			if err := checkRegular(fi); err != nil {
				return c, fmt.Errorf("%s: %w", name, err)
			}
		}
		switch ext {
		case ".png", ".jpg", ".jpeg":
			c.images = append(c.images, name)
		case ".wav":
			if c.wav != "" {
				return c, fmt.Errorf("two WAV files, %s and %s: a segment folder holds at most one", c.wav, name)
			}
			c.wav = name
		}
		if name == segmentTOML {
			c.toml = true
		}
	}
	slices.SortFunc(c.images, naturalCompare)
	if len(c.images) == 0 && c.wav == "" {
		return c, errors.New("empty segment folder: no PNG or JPEG images and no WAV file")
	}
	return c, nil
}

// naturalCompare orders names as people count: runs of digits compare by
// value, so frame2 sorts before frame10. Ties fall back to plain order.
func naturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			continue
		}
		if ca != cb {
			return int(ca) - int(cb)
		}
		i++
		j++
	}
	if c := (len(a) - i) - (len(b) - j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// segmentConfig is segment.toml. Unknown keys are an error, so a typo does
// not pass silently.
type segmentConfig struct {
	FPS  string `toml:"fps"`
	Name string `toml:"name"`
}

func readSegmentTOML(path string) (segmentConfig, Rate, error) {
	var cfg segmentConfig
	data, err := readLimited(path, maxTOMLFile)
	if err != nil {
		return cfg, Rate{}, err
	}
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return cfg, Rate{}, fmt.Errorf("%s: %w", segmentTOML, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return cfg, Rate{}, fmt.Errorf("%s: unknown key %q (want fps, name)", segmentTOML, und[0].String())
	}
	var r Rate
	if cfg.FPS != "" {
		if r, err = ParseRate(cfg.FPS); err == nil {
			err = CheckFPS(r)
		}
		if err != nil {
			return cfg, Rate{}, fmt.Errorf("%s: field fps: %w", segmentTOML, err)
		}
	}
	return cfg, r, nil
}

// readLimited reads a whole regular file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, _, err := openRegular(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d KiB", filepath.Base(path), limit>>10)
	}
	return data, nil
}

// imageSizes checks from the headers alone that every image has one size,
// before anything is decoded.
func imageSizes(dir string, names []string) (image.Point, error) {
	var first image.Point
	for k, name := range names {
		f, _, err := openRegular(filepath.Join(dir, name))
		if err != nil {
			return first, fmt.Errorf("%s: %w", name, err)
		}
		cfg, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil {
			return first, fmt.Errorf("%s: %w", name, err)
		}
		size := image.Pt(cfg.Width, cfg.Height)
		if size.X <= 0 || size.Y <= 0 || size.X > maxFrameDim || size.Y > maxFrameDim {
			return first, fmt.Errorf("%s: size %dx%d, want 1..%d each way", name, size.X, size.Y, maxFrameDim)
		}
		if k == 0 {
			first = size
		} else if size != first {
			return first, fmt.Errorf("%s is %dx%d but %s is %dx%d: all images of a segment must share one size",
				name, size.X, size.Y, names[0], first.X, first.Y)
		}
	}
	return first, nil
}

// decodeImageFile reads a PNG or JPEG (by content) as limited-range I420.
// It decodes from the file as it reads: the file's bytes are not held.
func decodeImageFile(path string) (*image.YCbCr, error) {
	name := filepath.Base(path)
	f, fi, err := openRegular(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	if fi.Size() > maxImageFile {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, maxImageFile>>20)
	}
	r := bufio.NewReader(io.LimitReader(f, maxImageFile))
	var m image.Image
	if head, _ := r.Peek(4); len(head) == 4 && string(head[1:4]) == "PNG" {
		m, err = png.Decode(r)
	} else {
		m, err = jpeg.Decode(r)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return toI420(m), nil
}

// toI420 converts any decoded image to packed limited-range I420. A
// 4:2:0 JPEG only has its range mapped; other images go through RGB two
// rows at a time, so no full-size RGB copy is made.
func toI420(m image.Image) *image.YCbCr {
	if y, ok := m.(*image.YCbCr); ok && y.SubsampleRatio == image.YCbCrSubsampleRatio420 {
		out := packYCbCr(y)
		toLimitedRange(out)
		return out
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rgba, isRGBA := m.(*image.RGBA)
	band := image.NewRGBA(image.Rect(0, 0, w, 2))
	for y := 0; y < h; y += 2 {
		rows := image.Rect(b.Min.X, b.Min.Y+y, b.Max.X, b.Min.Y+min(y+2, h))
		if isRGBA {
			rgbaRowsToI420(out, y, rgba.SubImage(rows).(*image.RGBA))
			continue
		}
		// Draw composes alpha over black (the cleared band), the colour
		// of the bars.
		r := rows.Sub(rows.Min)
		clear(band.Pix)
		draw.Draw(band, r, m, rows.Min, draw.Over)
		rgbaRowsToI420(out, y, band.SubImage(r).(*image.RGBA))
	}
	return out
}

// rgbaRowsToI420 converts one or two rows of premultiplied RGBA (over
// black) to rows y, y+1 of out, BT.601 limited range (coefficients
// ×65536, exact to the rounding); y is even. Chroma is taken from the mean
// RGB of each 2×2 block, which is the mean of the pixels' chroma because
// the transform is linear.
func rgbaRowsToI420(out *image.YCbCr, y int, m *image.RGBA) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	px := func(x, y int) (int32, int32, int32) {
		p := m.Pix[m.PixOffset(m.Rect.Min.X+x, m.Rect.Min.Y+y):]
		return int32(p[0]), int32(p[1]), int32(p[2])
	}
	for dy := range h {
		for x := range w {
			r, g, bl := px(x, dy)
			out.Y[(y+dy)*out.YStride+x] = uint8((16829*r+33039*g+6416*bl+1<<15)>>16 + 16)
		}
	}
	for cx := range (w + 1) / 2 {
		var r, g, bl, n int32
		for dy := range h {
			for dx := range 2 {
				if x := 2*cx + dx; x < w {
					pr, pg, pb := px(x, dy)
					r, g, bl, n = r+pr, g+pg, bl+pb, n+1
				}
			}
		}
		r, g, bl = (r+n/2)/n, (g+n/2)/n, (bl+n/2)/n
		i := y/2*out.CStride + cx
		out.Cb[i] = uint8((-9714*r-19070*g+28784*bl+1<<15)>>16 + 128)
		out.Cr[i] = uint8((28784*r-24103*g-4681*bl+1<<15)>>16 + 128)
	}
}

// toLimitedRange maps full-range (JFIF) YCbCr in place to limited range:
// Y 0..255 → 16..235, chroma 0..255 → 16..240 around 128.
func toLimitedRange(m *image.YCbCr) {
	var ly, lc [256]uint8
	for v := range 256 {
		ly[v] = uint8(16 + (v*219+127)/255)
		lc[v] = uint8(16 + (v*224+127)/255)
	}
	for i, v := range m.Y {
		m.Y[i] = ly[v]
	}
	for i, v := range m.Cb {
		m.Cb[i] = lc[v]
	}
	for i, v := range m.Cr {
		m.Cr[i] = lc[v]
	}
}

// loadFolder loads a segment folder: images in natural order, at most one
// WAV, an optional segment.toml.
func loadFolder(ctx context.Context, dir string, l *loader) (*Segment, error) {
	c, err := listFolder(dir)
	if err != nil {
		return nil, err
	}
	seg := &Segment{Name: filepath.Base(dir), Source: dir, Rate: l.rate(Rate{})}
	if c.toml {
		cfg, r, err := readSegmentTOML(filepath.Join(dir, segmentTOML))
		if err != nil {
			return nil, err
		}
		if cfg.Name != "" {
			seg.Name = cfg.Name
		}
		seg.Rate = l.rate(r)
	}
	var snd *wavFile
	if c.wav != "" {
		if snd, err = l.openWAV(filepath.Join(dir, c.wav)); err != nil {
			return nil, fmt.Errorf("%s: %w", c.wav, err)
		}
		defer snd.Close()
	}
	size, err := imageSizes(dir, c.images)
	if err != nil {
		return nil, err
	}
	if err := l.begin(size, len(c.images)); err != nil {
		return nil, err
	}
	if snd != nil {
		if err := l.readWAV(seg, snd); err != nil {
			return nil, fmt.Errorf("%s: %w", c.wav, err)
		}
	}
	ctx, stop := context.WithCancel(ctx) // stops the decoders when we return
	defer stop()
	results, slots := decodeImages(ctx, dir, c.images, l, decodeWorkers(size))
	for k, name := range c.images {
		var r decoded
		select {
		case r = <-results[k]:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		<-slots // image k's worker held one
		if r.err != nil {
			return nil, r.err
		}
		if _, err := l.addFitted(r.img); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return l.finish(seg), nil
}

// decodeAllowance bounds the memory of the images being decoded at once
// (the decoded picture at 4 bytes a pixel, and its I420): 720p decodes on
// every core, 4K on two, 8K on one.
const decodeAllowance = 96 << 20

// decodeWorkers is how many images of size to decode at once.
func decodeWorkers(size image.Point) int {
	per := int64(size.X)*int64(size.Y)*4 + frameBytes(size.X, size.Y)
	return max(1, min(runtime.NumCPU(), int(decodeAllowance/per)))
}

type decoded struct {
	img *image.YCbCr
	err error
}

// decodeImages decodes, converts and scales the images on up to workers
// goroutines (PNG decoding is the slow part of loading a folder);
// results[k] delivers image k. The consumer receives from slots after each
// result, so at most one image per worker is decoded ahead of it.
// Cancelling ctx stops the work.
func decodeImages(ctx context.Context, dir string, names []string, l *loader, workers int) ([]chan decoded, chan struct{}) {
	results := make([]chan decoded, len(names))
	for k := range results {
		results[k] = make(chan decoded, 1) // workers never block on send
	}
	slots := make(chan struct{}, workers)
	go func() {
		for k, name := range names {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				img, err := decodeImageFile(filepath.Join(dir, name))
				if err == nil {
					if img, err = l.fit(img); err != nil {
						err = fmt.Errorf("%s: %w", name, err)
					}
				}
				results[k] <- decoded{img, err}
			}()
		}
	}()
	return results, slots
}
