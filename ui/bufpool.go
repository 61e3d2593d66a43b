package ui

import (
	"context"
	"image"
)

// bufPool recycles the preview's RGBA buffers. A buffer comes back only
// when the UI thread has swapped it off the screen, so the converter never
// writes into a picture that is being drawn; at most max exist.
type bufPool struct {
	free chan *image.RGBA
	made int // owned by the getter's goroutine
	max  int
}

func newBufPool(n int) *bufPool { return &bufPool{free: make(chan *image.RGBA, n), max: n} }

// get returns a w×h buffer, waiting for one to be released when all are
// in use.
func (p *bufPool) get(ctx context.Context, w, h int) (*image.RGBA, error) {
	var b *image.RGBA
	select {
	case b = <-p.free:
	default:
		if p.made < p.max {
			p.made++
			return image.NewRGBA(image.Rect(0, 0, w, h)), nil
		}
		select {
		case b = <-p.free:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if b.Rect.Dx() != w || b.Rect.Dy() != h {
		b = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	return b, nil
}

// put releases b (called on the UI thread once b is off screen).
func (p *bufPool) put(b *image.RGBA) {
	select {
	case p.free <- b:
	default: // not one of ours (the initial placeholder)
	}
}
