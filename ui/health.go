package ui

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
	"segcast/rtc"
)

// Health thresholds. The stream keeps its deadlines first: when items
// leave late or the loop skips frames, the preview gives way (reduced
// size, then every other frame) and the panel warns, before viewers see
// freezes.
const (
	sendErrWarn = 5 * time.Millisecond // send-time error p99 above this: warn
	// The machine's cores this busy while a viewer watches: the preview
	// gives way, not waiting for the stream to fall late (the senders run
	// at real-time priority and rarely do; a viewer on the same machine,
	// a browser, suffers first). Below machineCalm it may come back.
	machineBusy   = 0.95
	machineCalm   = 0.80
	calmToRestore = 10 // health checks without trouble before the preview is restored
	troubleToWarn = 2  // checks in a row with trouble before a warning (a window coming up stalls once)
)

var (
	onAirColour  = color.NRGBA{R: 0xd9, G: 0x2d, B: 0x20, A: 0xff}
	readyColour  = color.NRGBA{R: 0x6b, G: 0x72, B: 0x80, A: 0xff}
	badgeTextCol = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
)

// health is the top of the stream side: the on-air badge and one line of
// stream health (CPU, send-time error, viewers), with a warning when the
// machine cannot keep up.
type health struct {
	badgeBG   *canvas.Rectangle
	badgeText *canvas.Text
	line      *widget.Label
	warn      *widget.Label
	content   fyne.CanvasObject

	cpu       cpuMeter
	machine   func() (busy float64, known bool) // share of all cores busy since the last call
	prev      healthCounts
	calm      int
	troubled  int // health checks in a row with trouble
	lastState string
}

// healthCounts are the counters trouble shows in.
type healthCounts struct {
	skipped, lateAudio int64 // the loop's (only while playing)
	late, dropped      int64 // the session's items late or dropped
	behind             int64 // frames the encoder skipped for being behind
}

func newHealth() *health {
	h := &health{badgeBG: canvas.NewRectangle(readyColour), badgeText: canvas.NewText("OFF AIR", badgeTextCol)}
	h.machine = (&machineMeter{}).sample
	h.badgeBG.CornerRadius = 4
	h.badgeText.TextStyle.Bold = true
	h.badgeText.TextSize = theme14
	badge := container.NewStack(h.badgeBG, container.NewPadded(h.badgeText))
	h.line = widget.NewLabel("")
	h.line.Truncation = fyne.TextTruncateEllipsis
	// Two short lines, never wrapped: a wrapping label's height is only
	// known after layout, and the section under it would slide beneath.
	h.warn = widget.NewLabel("")
	h.warn.Importance = widget.WarningImportance
	h.warn.Truncation = fyne.TextTruncateEllipsis
	h.warn.Hide()
	h.content = container.NewVBox(container.NewBorder(nil, nil, badge, nil, h.line), h.warn)
	return h
}

const theme14 = 14

// update shows the state; it returns the preview load level the stream's
// health allows (previewFull … previewTrickle), given the current one.
func (h *health) update(st rtc.SessionStats, streaming bool, viewers int, ls engine.LoopStats, level int32) int32 {
	h.setOnAir(streaming, viewers)
	// Not streaming: a line that does not change, so an idle window
	// does not redraw it every second.
	cpu := h.cpu.sample()
	busy, known := h.machine()
	line := "Not streaming"
	now := healthCounts{skipped: ls.SkippedVideo, lateAudio: ls.LateAudio}
	p99 := time.Duration(0)
	if streaming {
		now.late, now.dropped, now.behind = st.LateVideo+st.LateAudio, st.Dropped, st.VideoSkipped
		p99 = max(st.VideoSendErr.P99, st.AudioSendErr.P99)
		line = fmt.Sprintf("CPU %s · viewers %d", cpu, viewers)
		if viewers > 0 {
			line = fmt.Sprintf("CPU %s · send p99 %.1f ms · viewers %d", cpu, float64(p99)/1e6, viewers)
		}
	}
	if h.line.Text != line {
		h.line.SetText(line)
	}
	d := healthCounts{now.skipped - h.prev.skipped, now.lateAudio - h.prev.lateAudio,
		now.late - h.prev.late, now.dropped - h.prev.dropped, now.behind - h.prev.behind}
	h.prev = now
	var trouble string
	switch {
	case d.skipped > 0 || d.lateAudio > 0:
		trouble = fmt.Sprintf("⚠ The machine cannot keep up\nlast second: %d frames skipped, %d sound chunks late", d.skipped, d.lateAudio)
	case streaming && (d.late > 0 || d.dropped > 0 || d.behind > 0):
		trouble = fmt.Sprintf("⚠ The machine cannot keep up\nlast second: %d sent late, %d dropped, %d not encoded", d.late, d.dropped, d.behind)
	case streaming && viewers > 0 && p99 > sendErrWarn:
		trouble = fmt.Sprintf("⚠ The machine is busy\npackets leave up to %.1f ms late (p99)", float64(p99)/1e6)
	case streaming && viewers > 0 && known && busy >= machineBusy:
		trouble = fmt.Sprintf("⚠ The machine is busy\nits cores are %.0f %% used", 100*busy)
	}
	if trouble == "" {
		h.troubled = 0
	} else if h.troubled++; h.troubled < troubleToWarn {
		trouble = ""
	}
	switch {
	case trouble != "" && streaming:
		h.calm = 0
		level = min(level+1, previewTrickle)
		trouble += " · preview reduced"
	case trouble == "" && (!streaming || !known || busy < machineCalm):
		h.calm++
		if h.calm >= calmToRestore && level > previewFull {
			level--
			h.calm = 0
		}
	}
	if trouble == "" && level > previewFull {
		trouble = "The preview is reduced\nso that the stream keeps time"
	}
	if h.warn.Text != trouble {
		h.warn.SetText(trouble)
		if trouble == "" {
			h.warn.Hide()
		} else {
			h.warn.Show()
		}
	}
	return level
}

// setOnAir shows the badge: ON AIR with a viewer connected, READY while
// streaming to nobody, OFF AIR otherwise.
func (h *health) setOnAir(streaming bool, viewers int) {
	state, col := "OFF AIR", readyColour
	switch {
	case streaming && viewers > 0:
		state, col = "● ON AIR", onAirColour
	case streaming:
		state = "READY"
	}
	if state != h.lastState {
		h.lastState = state
		h.badgeText.Text = state
		h.badgeBG.FillColor = col
		h.badgeText.Refresh()
		h.badgeBG.Refresh()
	}
}

// machineMeter turns the machine's CPU time into the share of all its
// cores busy between samples.
type machineMeter struct{ busy, total uint64 }

func (m *machineMeter) sample() (float64, bool) {
	busy, total, ok := machineCPU()
	if !ok {
		return 0, false
	}
	defer func() { m.busy, m.total = busy, total }()
	if m.total == 0 || total <= m.total {
		return 0, false
	}
	return float64(busy-m.busy) / float64(total-m.total), true
}

// cpuMeter turns the process's CPU time into a share of one core between
// samples.
type cpuMeter struct {
	at   time.Time
	used time.Duration
}

func (c *cpuMeter) sample() string {
	used, ok := processCPU()
	now := time.Now()
	defer func() { c.at, c.used = now, used }()
	if !ok || c.at.IsZero() {
		return "–"
	}
	return fmt.Sprintf("%.0f %%", 100*float64(used-c.used)/float64(now.Sub(c.at)))
}
