package ui

import (
	"encoding/binary"
	"fmt"
	"image/color"
	"math"
	"os"
	"testing"
)

// writeY4M writes n frames of one solid colour, w×h at fps, full range.
func writeY4M(t testing.TB, path string, w, h, n, fps int, c color.RGBA) {
	t.Helper()
	y, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
	b := fmt.Appendf(nil, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", w, h, fps)
	for range n {
		b = append(b, "FRAME\n"...)
		for range w * h {
			b = append(b, y)
		}
		for range w * h / 4 {
			b = append(b, cb)
		}
		for range w * h / 4 {
			b = append(b, cr)
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeWAV writes a 16-bit mono sine of dur seconds at rate Hz.
func writeWAV(t testing.TB, path string, rate int, dur float64) {
	t.Helper()
	n := int(float64(rate) * dur)
	data := make([]byte, 2*n)
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		binary.LittleEndian.PutUint16(data[2*i:], uint16(v))
	}
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+len(data)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(data)))
	if err := os.WriteFile(path, append(h, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}
