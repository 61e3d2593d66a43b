package xview

import "image"

// scaleBGRX writes src scaled to w×h (nearest pixel) into dst as 32-bit
// little-endian xRGB, the byte order of X's 24-bit TrueColor visuals:
// blue, green, red, unused. dst holds at least w*h*4 bytes.
func scaleBGRX(dst []byte, w, h int, src *image.RGBA) {
	b := src.Bounds()
	if w <= 0 || h <= 0 || b.Empty() {
		return
	}
	cols := make([]int, w) // byte offset in a source row of each column
	for x := range cols {
		cols[x] = (x*b.Dx()/w)*4 + (b.Min.X-src.Rect.Min.X)*4
	}
	for y := range h {
		sy := b.Min.Y - src.Rect.Min.Y + y*b.Dy()/h
		row := src.Pix[sy*src.Stride:]
		out := dst[y*w*4 : (y+1)*w*4]
		for x, off := range cols {
			s := row[off : off+3 : off+3]
			d := out[x*4 : x*4+4 : x*4+4]
			d[0], d[1], d[2], d[3] = s[2], s[1], s[0], 0
		}
	}
}
