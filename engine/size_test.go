package engine

import (
	"image"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want image.Point // zero: rejected
	}{
		{"1280x720", image.Pt(1280, 720)},
		{" 640 X 360 ", image.Pt(640, 360)},
		{"16x16", image.Pt(16, 16)},
		{"7680x4320", image.Pt(7680, 4320)},
		{"641x360", image.Point{}}, // odd
		{"640x361", image.Point{}},
		{"14x16", image.Point{}},     // too small
		{"7682x4320", image.Point{}}, // too big
		{"1280", image.Point{}},
		{"x", image.Point{}},
		{"axb", image.Point{}},
		{"1280x720x2", image.Point{}},
		{"", image.Point{}},
	} {
		got, err := ParseSize(c.in)
		if got != c.want || (err == nil) != (c.want != image.Point{}) {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// Whatever is typed (the settings form, --size), a size is returned only
// when it is one the encoders take.
func FuzzParseSize(f *testing.F) {
	f.Add("1280x720")
	f.Add("-2x-2")
	f.Add("99999999999999999999x2")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseSize(s)
		if err != nil {
			return
		}
		if p.X%2 != 0 || p.Y%2 != 0 || p.X < minSide || p.Y < minSide || p.X > maxWidth || p.Y > maxHeight {
			t.Fatalf("ParseSize(%q) accepted %v", s, p)
		}
	})
}
