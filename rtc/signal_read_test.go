package rtc

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestReadSignal(t *testing.T) {
	for in, want := range map[string]string{
		"\n  abc==  \nrest\n":      "abc==",
		"v=0\no=x\n\nignored\n":    "v=0\r\no=x\r\n",
		"v=0\r\no=x":               "v=0\r\no=x\r\n",
		"\n\nv=0\ns=-\nt=0 0\n":    "v=0\r\ns=-\r\nt=0 0\r\n",
		"onlyline-without-newline": "onlyline-without-newline",
	} {
		got, err := readSignal(bufio.NewReader(strings.NewReader(in)))
		if err != nil || got != want {
			t.Errorf("readSignal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := readSignal(bufio.NewReader(strings.NewReader("\n\n"))); err == nil {
		t.Error("blank input accepted")
	}
	big := "v=0\n" + strings.Repeat("a=x\n", MaxSignalBytes/4)
	if _, err := readSignal(bufio.NewReader(strings.NewReader(big))); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized SDP: %v", err)
	}
}

// endless is stdin that never ends (cat /dev/zero), counting what was
// read from it.
type endless struct {
	fill byte
	read int
}

func (e *endless) Read(p []byte) (int, error) {
	if e.read > 1<<20 {
		return 0, errors.New("1 MiB read: nothing stopped the reading")
	}
	for i := range p {
		p[i] = e.fill
	}
	e.read += len(p)
	return len(p), nil
}

// Input with no description within the limit is refused after reading
// the limit and one byte, not read to its end (issue 11: `cat /dev/zero |
// segcast stream` grew by 430 MB/s).
func TestReadSignalStopsAtTheLimit(t *testing.T) {
	for name, fill := range map[string]byte{"zeros": 0, "base64 without end": 'Q', "blank lines": '\n', "spaces": ' '} {
		in := &endless{fill: fill}
		_, err := readSignal(in)
		if err == nil || !strings.Contains(err.Error(), "limit") {
			t.Errorf("%s: err %v, want the limit named", name, err)
		}
		if in.read > MaxSignalBytes+1 {
			t.Errorf("%s: read %d bytes, want at most the limit + 1 (%d)", name, in.read, MaxSignalBytes+1)
		}
	}
}
