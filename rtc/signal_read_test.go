package rtc

import (
	"bufio"
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
