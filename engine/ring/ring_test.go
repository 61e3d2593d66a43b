package ring

import (
	"slices"
	"testing"
)

func TestBufferKeepsTheLastN(t *testing.T) {
	b := New[int](3)
	if got := b.All(); len(got) != 0 {
		t.Fatalf("empty: %v", got)
	}
	for i := 1; i <= 2; i++ {
		b.Add(i)
	}
	if got := b.All(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("partly full: %v", got)
	}
	for i := 3; i <= 7; i++ {
		b.Add(i)
	}
	if got := b.All(); !slices.Equal(got, []int{5, 6, 7}) {
		t.Fatalf("after 7 adds: %v, want [5 6 7]", got)
	}
	got := b.All()
	got[0] = 99 // a copy
	if b.All()[0] != 5 {
		t.Fatal("All shares the buffer")
	}
}
