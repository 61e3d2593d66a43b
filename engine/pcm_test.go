package engine

import (
	"slices"
	"testing"
)

func TestPCMFill(t *testing.T) {
	mono := NewPCM([]int16{1, 2, 3}, 1)
	st := NewPCM([]int16{1, -1, 2, -2, 3, -3, 9}, 2) // the dangling 9 is dropped
	if mono.Len() != 3 || st.Len() != 3 || st.Bytes() != 12 || st.Channels() != 2 {
		t.Fatalf("mono len %d, stereo len %d bytes %d", mono.Len(), st.Len(), st.Bytes())
	}
	dst := make([]int16, 8)
	for _, c := range []struct {
		p    *PCM
		off  int64
		want []int16
	}{
		{mono, 0, []int16{1, 1, 2, 2, 3, 3, 0, 0}},
		{mono, -2, []int16{0, 0, 0, 0, 1, 1, 2, 2}},
		{st, 1, []int16{2, -2, 3, -3, 0, 0, 0, 0}},
		{st, 5, []int16{0, 0, 0, 0, 0, 0, 0, 0}},
	} {
		for i := range dst {
			dst[i] = 77
		}
		c.p.Fill(dst, c.off)
		if !slices.Equal(dst, c.want) {
			t.Errorf("%d ch at %d: got %v, want %v", c.p.Channels(), c.off, dst, c.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewPCM with 3 channels: want a panic")
		}
	}()
	NewPCM(nil, 3)
}
