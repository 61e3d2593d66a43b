package vp8

import (
	"strings"
	"testing"
)

func TestDecodeBadInput(t *testing.T) {
	d := newTestDecoder(t)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty frame"},
		{"huge", make([]byte, MaxFrameBytes+1), "exceeds"},
		{"garbage", []byte("this is not a VP8 frame at all"), "vp8: decode 30 bytes"},
		{"truncated keyframe", keyframeSeed(t)[:20], "vp8: decode 20 bytes"},
	} {
		if _, err := d.Decode(c.data); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want error containing %q", c.name, err, c.want)
		}
	}
	// The decoder still works after bad input.
	if _, err := d.Decode(keyframeSeed(t)); err != nil {
		t.Errorf("good keyframe after bad input: %v", err)
	}
	d.Close()
	if _, err := d.Decode(keyframeSeed(t)); err == nil {
		t.Error("Decode after Close: no error")
	}
}

// keyframeSeed is a small real VP8 keyframe.
func keyframeSeed(t testing.TB) []byte {
	e, err := NewEncoder(EncoderConfig{Width: 64, Height: 48, FPSNum: 30, FPSDen: 1, CPUUsed: -8, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	fs, err := e.Encode(fullMotion(64, 48, 0), 0, true)
	if err != nil || len(fs) != 1 {
		t.Fatalf("encode seed: %v (%d frames)", err, len(fs))
	}
	return fs[0].Data
}

// FuzzDecode feeds arbitrary bytes to libvpx through Decode: it must
// return a picture or an error, never crash, and pictures must be whole.
func FuzzDecode(f *testing.F) {
	key := keyframeSeed(f)
	f.Add(key)
	f.Add(key[:len(key)/2])
	f.Add([]byte{0x9d, 0x01, 0x2a})
	f.Add([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0x3f, 0xff, 0x3f})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		img, err := d.Decode(data)
		if err != nil {
			return
		}
		w, h := img.Rect.Dx(), img.Rect.Dy()
		if w <= 0 || h <= 0 || len(img.Y) < w*h || len(img.Cb) < ((w+1)/2)*((h+1)/2) {
			t.Fatalf("decoded picture %v with planes %d/%d/%d", img.Rect, len(img.Y), len(img.Cb), len(img.Cr))
		}
	})
}
