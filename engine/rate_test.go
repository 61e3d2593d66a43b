package engine

import "testing"

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{
		"30": Rate30, "30000/1001": Rate2997, "29.97": Rate2997, "23.976": Rate23976,
		"25/1": Rate25, "60000/2000": Rate30, "12.5": {25, 2},
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "0", "-30", "30/0", "1/x", "5000", "1e400"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}

// FrameAt must invert FrameNS exactly at and around every frame time.
func TestFrameAtInvertsFrameNS(t *testing.T) {
	for _, r := range []Rate{Rate2997, Rate25, Rate23976, Rate60, {7, 3}} {
		for _, k := range []int64{0, 1, 2, 3, 999, 1000, 1001, 86400 * 60, 123456789} {
			ns := r.FrameNS(k)
			if got := r.FrameAt(ns); got != k {
				t.Errorf("%v: FrameAt(FrameNS(%d)=%d) = %d", r, k, ns, got)
			}
			if k > 0 {
				if got := r.FrameAt(ns - 1); got != k-1 {
					t.Errorf("%v: FrameAt(%d-1) = %d, want %d", r, ns, got, k-1)
				}
			}
		}
	}
}

func TestFrameRTPExact(t *testing.T) {
	// 30000/1001: frame k at floor(k·3003) exactly; a rounded 3003 step is
	// right here, but 24000/1001 has 3753.75 ticks per frame.
	if got := Rate2997.FrameRTP(1000); got != 3003000 {
		t.Errorf("29.97 frame 1000 rtp = %d", got)
	}
	if got := Rate23976.FrameRTP(3); got != 11261 { // floor(3·3753.75)
		t.Errorf("23.976 frame 3 rtp = %d", got)
	}
	// 24 h at 60 fps does not overflow.
	k := int64(24 * 3600 * 60)
	if got := Rate60.FrameNS(k); got != 24*3600*1e9 {
		t.Errorf("60 fps 24h = %d", got)
	}
}
