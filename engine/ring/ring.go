// Package ring holds the last N values added: bounded logs that keep the
// recent past (send-time errors, sync rows) without growing.
package ring

// Buffer keeps the last n values added (n as given to New). The zero
// value is unusable. Not safe for concurrent use.
type Buffer[T any] struct {
	buf  []T
	next int // where the next value goes once full
	cap  int
}

// New returns an empty Buffer holding at most n (≥ 1) values.
func New[T any](n int) *Buffer[T] {
	return &Buffer[T]{cap: max(n, 1)}
}

// Add appends v, dropping the oldest value when full.
func (b *Buffer[T]) Add(v T) {
	if len(b.buf) < b.cap {
		b.buf = append(b.buf, v)
		return
	}
	b.buf[b.next] = v
	b.next = (b.next + 1) % b.cap
}

// All returns a copy of the values held, oldest first.
func (b *Buffer[T]) All() []T {
	out := make([]T, 0, len(b.buf))
	out = append(out, b.buf[b.next:]...)
	return append(out, b.buf[:b.next]...)
}
