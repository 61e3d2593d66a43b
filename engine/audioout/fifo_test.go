package audioout

import "testing"

// The ring must return frames in order across wrap-around and drop the
// oldest frames, not the newest, when it overflows.
func TestFIFOOrderAndOverflow(t *testing.T) {
	f := newFIFO(5)
	next := int16(0)
	push := func(frames int) int {
		src := make([]int16, frames*2)
		for i := range frames {
			src[2*i], src[2*i+1] = next, -next
			next++
		}
		return f.push(src)
	}
	want := int16(0)
	pop := func(frames, expect int) {
		t.Helper()
		dst := make([]int16, frames*2)
		got := f.pop(dst)
		if got != expect {
			t.Fatalf("pop(%d) = %d frames, want %d", frames, got, expect)
		}
		for i := range got {
			if dst[2*i] != want || dst[2*i+1] != -want {
				t.Fatalf("frame %d = %d,%d, want %d,%d", i, dst[2*i], dst[2*i+1], want, -want)
			}
			want++
		}
	}
	push(3)
	pop(2, 2)
	push(4) // wraps
	pop(10, 5)
	if d := push(7); d != 2 {
		t.Fatalf("push of 7 into 5 dropped %d, want 2", d)
	}
	want = next - 5
	pop(5, 5)
	pop(1, 0)
}
