package engine

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"strings"
	"testing"
)

// testFrame is a w×h I420 frame whose pixels encode k, x and y, so a test
// can tell frames apart and check geometry.
func testFrame(w, h, k int) *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			m.Y[y*m.YStride+x] = uint8(16 + (x+y+7*k)%200)
		}
	}
	for i := range m.Cb {
		m.Cb[i] = uint8(100 + k%50)
		m.Cr[i] = uint8(150 - k%50)
	}
	return m
}

// makeY4M writes a Y4M stream with the given header tags and frames.
func makeY4M(tags string, frames []*image.YCbCr) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "YUV4MPEG2 %s\n", tags)
	for k, f := range frames {
		if k%2 == 1 {
			b.WriteString("FRAME Ixyz\n") // frame parameters are allowed
		} else {
			b.WriteString("FRAME\n")
		}
		b.Write(f.Y)
		b.Write(f.Cb)
		b.Write(f.Cr)
	}
	return b.Bytes()
}

func testFrames(w, h, n int) []*image.YCbCr {
	fs := make([]*image.YCbCr, n)
	for k := range fs {
		fs[k] = testFrame(w, h, k)
	}
	return fs
}

func readAllY4M(r io.Reader) (*Y4MReader, []*image.YCbCr, error) {
	y, err := NewY4MReader(r)
	if err != nil {
		return nil, nil, err
	}
	var out []*image.YCbCr
	for {
		f, err := y.Next()
		if err == io.EOF {
			return y, out, nil
		}
		if err != nil {
			return y, out, err
		}
		out = append(out, f)
	}
}

func TestReadY4M(t *testing.T) {
	for _, c := range []struct {
		tags string
		rate Rate
	}{
		{"W33 H17 F30000:1001 Ip A1:1", Rate2997},
		{"W33 H17 F25:1 C420jpeg XYSCSS=420JPEG", Rate25},
		{"W33 H17 F24:1 C420mpeg2", Rate{24, 1}},
		{"W33 H17 C420paldv", Rate{}},
		{"W33 H17 F60:1 C420", Rate60},
	} {
		in := testFrames(33, 17, 3)
		y, got, err := readAllY4M(bytes.NewReader(makeY4M(c.tags, in)))
		if err != nil {
			t.Fatalf("%s: %v", c.tags, err)
		}
		if y.Width != 33 || y.Height != 17 || y.Rate != c.rate {
			t.Errorf("%s: got %dx%d @ %v", c.tags, y.Width, y.Height, y.Rate)
		}
		if len(got) != 3 {
			t.Fatalf("%s: %d frames, want 3", c.tags, len(got))
		}
		for k := range got {
			if !bytes.Equal(got[k].Y, in[k].Y) || !bytes.Equal(got[k].Cb, in[k].Cb) || !bytes.Equal(got[k].Cr, in[k].Cr) {
				t.Errorf("%s: frame %d differs", c.tags, k)
			}
		}
	}
}

// XCOLORRANGE=FULL frames are mapped to the limited range all frames use.
func TestReadY4MFullRange(t *testing.T) {
	f := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	copy(f.Y, []byte{0, 255, 128, 0})
	f.Cb[0], f.Cr[0] = 0, 255
	_, got, err := readAllY4M(bytes.NewReader(makeY4M("W2 H2 F30:1 XCOLORRANGE=FULL", []*image.YCbCr{f})))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[0].Y, []byte{16, 235, 126, 16}) || got[0].Cb[0] != 16 || got[0].Cr[0] != 240 {
		t.Errorf("got Y %v Cb %d Cr %d", got[0].Y, got[0].Cb[0], got[0].Cr[0])
	}
}

func TestReadY4MErrors(t *testing.T) {
	good := makeY4M("W8 H4 F30:1", testFrames(8, 4, 3))
	frame := 6 + 8*4 + 2*4*2
	hdr := len("YUV4MPEG2 W8 H4 F30:1\n")
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"magic", []byte("YUV4MPEG W8 H4\n"), "want magic YUV4MPEG2"},
		{"empty", nil, "empty"},
		{"444", makeY4M("W8 H4 F30:1 C444", nil), "unsupported colour space C444"},
		{"10 bit", makeY4M("W8 H4 F30:1 C420p10", nil), "unsupported colour space C420p10"},
		{"no W", makeY4M("H4 F30:1", nil), "no W or H"},
		{"huge", makeY4M("W100000 H4", nil), "W tag \"W100000\""},
		{"bad F", makeY4M("W8 H4 F30", nil), "frame rate tag \"F30\""},
		{"zero F", makeY4M("W8 H4 F0:1", nil), "frame rate tag \"F0:1\""},
		{"truncated", good[:len(good)-10], "frame 2 truncated: 38 of 48 bytes"},
		{"bad frame header", append(bytes.Clone(good[:hdr+frame]), "FRAMX\n"...), "frame 1: want FRAME header"},
		{"long header", []byte("YUV4MPEG2 W8 H4 X" + strings.Repeat("a", 5000) + "\n"), "longer than 4096"},
		{"header without newline", []byte("YUV4MPEG2 W8 H4"), "unexpected EOF"},
	}
	for _, c := range cases {
		_, _, err := readAllY4M(bytes.NewReader(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func FuzzReadY4M(f *testing.F) {
	f.Add(makeY4M("W8 H4 F30:1", testFrames(8, 4, 2)))
	f.Add(makeY4M("W3 H3 F30000:1001 C420jpeg", testFrames(3, 3, 1)))
	f.Add([]byte("YUV4MPEG2 W1 H1\nFRAME\n\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		y, err := NewY4MReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		if y.Width < 1 || y.Height < 1 || y.Width > maxFrameDim || y.Height > maxFrameDim {
			t.Fatalf("accepted %dx%d", y.Width, y.Height)
		}
		if y.FrameBytes() > int64(len(b)) {
			return // would allocate a frame bigger than the input: skip reading
		}
		for range 8 {
			img, err := y.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && err.Error() == "" {
					t.Fatal("empty error")
				}
				return
			}
			if img.Rect.Dx() != y.Width || img.Rect.Dy() != y.Height {
				t.Fatalf("frame %v, header %dx%d", img.Rect, y.Width, y.Height)
			}
		}
	})
}
