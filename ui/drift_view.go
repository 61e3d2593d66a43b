package ui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/rtc/measure"
	"segcast/rtc/measure/avsync"
)

// driftRefresh is how often a drift view redraws: 2 Hz is enough to
// watch, and a summary plus a plot is cheap at that rate.
const driftRefresh = 500 * time.Millisecond

// sendHistoryCap bounds the send-timing samples a view keeps: ten
// minutes at driftRefresh.
const sendHistoryCap = 1200

// driftFeed is what a drift view shows.
type driftFeed interface {
	// measurements returns every row held so far, oldest first.
	measurements() []avsync.Measurement
	// sendTiming samples the sender; ok is false when there is none.
	sendTiming() (s sendSample, ok bool)
	// unavailable says why there is nothing to measure ("" when there is).
	unavailable() string
}

// driftView is one drift window's content: the plot in one canvas.Image
// and summary labels, updated in place (never rebuilt) at driftRefresh,
// and an export button.
type driftView struct {
	feed    driftFeed
	do      func(func()) // onto the UI thread
	pickDir func() (string, error)
	start   time.Time // send-timing samples are timed from here

	img                          *canvas.Image
	median, p95, maxAbs, samples *widget.Label
	drift, latency, freezes      *widget.Label
	sendAudio, sendVideo         *widget.Label
	note                         *widget.Label
	exportBtn                    *widget.Button
	content                      fyne.CanvasObject

	mu    sync.Mutex
	sends []sendSample // oldest first, at most sendHistoryCap

	// What the last redraw showed (run's goroutine): nothing new, no
	// redraw, so an idle drift window costs nothing.
	drawnRows  int
	drawnLast  avsync.Measurement // the newest row drawn (a full log keeps its length)
	drawnSends int
	drawn      bool
}

// newDriftView builds the view; latName and freezeName label what the
// feed's LatencyMS and Freezes mean (a browser's send-to-present latency
// and freezes, or the preview's display delay and dropped frames).
func newDriftView(feed driftFeed, do func(func()), latName, freezeName string) *driftView {
	v := &driftView{feed: feed, do: do, pickDir: pickReportFolder, start: time.Now()}
	v.img = canvas.NewImageFromImage(renderDrift(avsync.Summarise(nil), nil))
	v.img.FillMode = canvas.ImageFillContain
	v.img.ScaleMode = canvas.ImageScaleSmooth
	v.img.SetMinSize(fyne.NewSize(640, 300))
	lbl := func() *widget.Label { return widget.NewLabel("–") }
	v.median, v.p95, v.maxAbs, v.samples = lbl(), lbl(), lbl(), lbl()
	v.drift, v.latency, v.freezes = lbl(), lbl(), lbl()
	v.sendAudio, v.sendVideo = lbl(), lbl()
	v.note = widget.NewLabel(feed.unavailable())
	v.note.Wrapping = fyne.TextWrapWord
	v.exportBtn = widget.NewButtonWithIcon("Export report…", theme.DocumentSaveIcon(), v.exportClicked)
	form := widget.NewForm(
		widget.NewFormItem("Offset median", v.median),
		widget.NewFormItem("Offset p95 |·|", v.p95),
		widget.NewFormItem("Max |offset|", v.maxAbs),
		widget.NewFormItem("Samples", v.samples),
		widget.NewFormItem("Drift", v.drift),
		widget.NewFormItem(latName, v.latency),
		widget.NewFormItem(freezeName, v.freezes),
		widget.NewFormItem("Send error audio", v.sendAudio),
		widget.NewFormItem("Send error video", v.sendVideo),
	)
	// The note runs along the bottom: a wrapping label in the narrow side
	// column would stand one word per line.
	v.content = container.NewBorder(nil, v.note, nil, container.NewVBox(form, v.exportBtn), v.img)
	return v
}

// run refreshes the view until ctx ends.
func (v *driftView) run(ctx context.Context) {
	t := time.NewTicker(driftRefresh)
	defer t.Stop()
	v.update()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			v.update()
		}
	}
}

// update samples the feed, summarises and draws off the UI thread, then
// swaps the picture and label texts on it.
func (v *driftView) update() {
	if s, ok := v.feed.sendTiming(); ok && !v.sameAsLast(s) {
		s.atS = time.Since(v.start).Seconds()
		v.mu.Lock()
		if len(v.sends) == sendHistoryCap {
			v.sends = append(v.sends[:0], v.sends[1:]...)
		}
		v.sends = append(v.sends, s)
		v.mu.Unlock()
	}
	r, sends := v.report()
	var last avsync.Measurement
	if n := len(r.Measurements); n > 0 {
		last = r.Measurements[n-1]
	}
	if v.drawn && len(r.Measurements) == v.drawnRows && sameRow(last, v.drawnLast) &&
		len(sends) == v.drawnSends && len(sends) < sendHistoryCap {
		return
	}
	v.drawn, v.drawnRows, v.drawnLast, v.drawnSends = true, len(r.Measurements), last, len(sends)
	img := renderDrift(r, sends)
	texts := summaryTexts(r)
	v.do(func() {
		v.img.Image = img
		v.img.Refresh()
		for i, l := range v.labels() {
			l.SetText(texts[i])
		}
	})
}

// sameRow tells whether two rows are the same measurement (by what marks
// it: its flash and when it arrived).
func sameRow(a, b avsync.Measurement) bool {
	return a.FlashIndex == b.FlashIndex && a.AtMS == b.AtMS
}

// sameAsLast reports whether s adds nothing to the last sample kept (the
// sender has sent nothing since: paused with no viewer).
func (v *driftView) sameAsLast(s sendSample) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.sends) == 0 {
		return false
	}
	last := v.sends[len(v.sends)-1]
	last.atS = s.atS
	return last == s
}

// report summarises every row held, with the latest send timing.
func (v *driftView) report() (avsync.Report, []sendSample) {
	r := avsync.Summarise(v.feed.measurements())
	v.mu.Lock()
	sends := append([]sendSample(nil), v.sends...)
	v.mu.Unlock()
	if n := len(sends); n > 0 {
		s := sends[n-1]
		r.SendError = &avsync.SendError{
			AudioP50: avsync.Opt(s.audioP50), AudioP99: avsync.Opt(s.audioP99),
			VideoP50: avsync.Opt(s.videoP50), VideoP99: avsync.Opt(s.videoP99),
		}
	}
	return r, sends
}

// labels are the summary labels in the order of the form.
func (v *driftView) labels() [9]*widget.Label {
	return [9]*widget.Label{v.median, v.p95, v.maxAbs, v.samples, v.drift, v.latency, v.freezes, v.sendAudio, v.sendVideo}
}

// summaryTexts are the label texts, in the order of the form.
func summaryTexts(r avsync.Report) [9]string {
	sendA, sendV := "n/a", "n/a"
	if e := r.SendError; e != nil {
		sendA = fmt.Sprintf("p50 %s · p99 %s ms", optText(e.AudioP50, 2), optText(e.AudioP99, 2))
		sendV = fmt.Sprintf("p50 %s · p99 %s ms", optText(e.VideoP50, 2), optText(e.VideoP99, 2))
	}
	return [9]string{
		withUnit(r.Offset.Median, 1, "ms"),
		withUnit(r.Offset.P95, 1, "ms"),
		withUnit(r.Offset.MaxAbs, 1, "ms"),
		fmt.Sprint(r.Offset.Samples),
		withUnit(r.DriftMSPerMin, 2, "ms/min"),
		fmt.Sprintf("p50 %s ms · p95 %s ms", optText(r.Latency.P50, 1), optText(r.Latency.P95, 1)),
		fmt.Sprint(r.Freezes),
		sendA, sendV,
	}
}

func optText(o avsync.Opt, prec int) string {
	if !o.Known() {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, float64(o))
}

// withUnit is o with its unit, or "n/a" alone.
func withUnit(o avsync.Opt, prec int, unit string) string {
	if !o.Known() {
		return "n/a"
	}
	return optText(o, prec) + " " + unit
}

// exportClicked asks for a folder and writes the report there.
func (v *driftView) exportClicked() {
	go func() {
		dir, err := v.pickDir()
		if err != nil {
			if !isCancel(err) {
				v.do(func() { v.note.SetText(fmt.Sprintf("Export failed: %v", err)) })
			}
			return
		}
		r, _ := v.report()
		err = measure.WriteReport(dir, r)
		v.do(func() {
			if err != nil {
				v.note.SetText(fmt.Sprintf("Export failed: %v", err))
				return
			}
			v.note.SetText(fmt.Sprintf("Saved %s, %s and %s in %s (%d measurements).",
				measure.ReportJSON, measure.ReportPNG, measure.ReportSVG, dir, len(r.Measurements)))
		})
	}()
}

// openDriftWindow shows feed in a window of its own, refreshed until the
// window or the app closes.
func openDriftWindow(a fyne.App, r *runner, title string, feed driftFeed, latName, freezeName string) *driftView {
	v := newDriftView(feed, r.do, latName, freezeName)
	w := a.NewWindow(title)
	w.SetContent(newDriftPanel(v))
	ctx, cancel := context.WithCancel(r.ctx)
	w.SetOnClosed(cancel)
	r.start(func() { v.run(ctx) })
	w.Resize(fyne.NewSize(1280, 640))
	w.Show()
	return v
}

// driftPanel is the widget a drift window holds: the view's layout, with
// the view reachable from the window (tests read its labels).
type driftPanel struct {
	widget.BaseWidget
	view *driftView
}

func newDriftPanel(v *driftView) *driftPanel {
	p := &driftPanel{view: v}
	p.ExtendBaseWidget(p)
	return p
}

func (p *driftPanel) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(p.view.content)
}
