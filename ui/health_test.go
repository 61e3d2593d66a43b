package ui

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"segcast/engine"
	"segcast/rtc"
)

// With the stream on time, a machine whose cores are full while a viewer
// watches still makes the preview give way, step by step, with a warning
// naming it; it comes back only once the machine is calm again, and never
// for a machine busy while nobody watches.
func TestHealthGivesWayToABusyMachine(t *testing.T) {
	test.NewTempApp(t)
	h := newHealth()
	busy := 0.0
	h.machine = func() (float64, bool) { return busy, true }
	level := int32(previewFull)
	check := func(streaming bool, viewers int) {
		level = h.update(rtc.SessionStats{}, streaming, viewers, engine.LoopStats{}, level)
	}

	busy = 0.99
	check(true, 0) // nobody watches: nothing to protect
	check(true, 0)
	if level != previewFull || h.warn.Visible() {
		t.Fatalf("busy, no viewer: level %d, warning %q", level, h.warn.Text)
	}
	check(true, 1) // the first busy check with a viewer is not yet trouble
	if level != previewFull {
		t.Fatalf("one busy check: level %d", level)
	}
	for range 3 {
		check(true, 1)
	}
	if level != previewTrickle || !strings.Contains(h.warn.Text, "cores are 99 % used") {
		t.Fatalf("busy with a viewer: level %d, warning %q", level, h.warn.Text)
	}
	busy = 0.90 // between calm and busy: the preview stays given way
	for range 2 * calmToRestore {
		check(true, 1)
	}
	if level != previewTrickle {
		t.Fatalf("still fairly busy: level %d, want it held at %d", level, previewTrickle)
	}
	busy = 0.5
	for range calmToRestore {
		check(true, 1)
	}
	if level != previewTrickle-1 {
		t.Fatalf("calm: level %d, want one step back to %d", level, previewTrickle-1)
	}
}

// machineMeter reads the real /proc/stat: two goroutines spinning on a
// two-core machine show as most of it busy.
func TestMachineMeterSeesLoad(t *testing.T) {
	if _, _, ok := machineCPU(); !ok {
		if runtime.GOOS == "linux" {
			t.Fatal("no /proc/stat on Linux")
		}
		t.Skip("measured on Linux only")
	}
	var m machineMeter
	m.sample()
	stop := time.Now().Add(500 * time.Millisecond)
	done := make(chan struct{})
	for range runtime.NumCPU() {
		go func() {
			for time.Now().Before(stop) {
			}
			done <- struct{}{}
		}()
	}
	for range runtime.NumCPU() {
		<-done
	}
	busy, ok := m.sample()
	if !ok || busy < 0.5 || busy > 1 {
		t.Fatalf("every core spinning: busy %.2f (known %v), want most of the machine", busy, ok)
	}
}
