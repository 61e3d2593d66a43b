package ui

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
	"segcast/rtc/share"
)

// queueRows are the playlist panel's rows for what producers queued
// through the control API (pushed, live and watched entries) and the
// idle clip: the one playing, those queued, the idle clip (what plays
// when nothing else does), then the finished ones, newest first. The row
// on air is marked as the playlist marks its own.
type queueRows struct {
	api     *controlAPI
	run     *runner
	entries []share.ControlEntry // in rows' order, before the idle row
	idle    *engine.Segment      // the producer's idle clip, nil for the built-in card
	onAir   engine.EntryID
	idleAir bool // nothing else is on air

	seen    queueSeen
	rowH    float32 // one row's height
	builds  int     // times rebuilt: none while nothing changes
	list    *widget.List
	box     *fyne.Container // holds the list at a height for its rows
	content fyne.CanvasObject
}

// queueSeen is what the rows were built from: they are built again only
// when it differs.
type queueSeen struct {
	ctl     *share.Control
	events  uint64
	next    engine.EntryID // the ID the next entry will have
	idle    *engine.Segment
	onAir   engine.EntryID
	idleAir bool
}

// maxQueueRows is how many rows are in view before the list scrolls.
const maxQueueRows = 3.5

func newQueueRows(api *controlAPI, r *runner) *queueRows {
	q := &queueRows{api: api, run: r}
	q.list = widget.NewList(
		func() int { return len(q.entries) + 1 },
		func() fyne.CanvasObject { return newQueueRowView(q) },
		func(id widget.ListItemID, o fyne.CanvasObject) { q.updateRow(id, o.(*queueRowView)) },
	)
	q.box = container.New(&heightLayout{}, q.list)
	title := widget.NewLabelWithStyle("On air queue (control API)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	q.content = container.NewVBox(widget.NewSeparator(), title, q.box)
	q.resize()
	return q
}

// update looks at the API's queue and redraws the rows if anything
// changed: an entry queued, started or ended, the idle clip, what is on
// air (pos, the loop's play head).
func (q *queueRows) update(pos engine.Position) {
	ctl, _, _ := q.api.snapshot()
	if ctl == nil {
		return
	}
	loop := q.api.currentLoop()
	seen := queueSeen{ctl: ctl, events: q.api.events.Load(), next: q.seen.next, idle: loop.IdleClip(),
		onAir: pos.OnAir, idleAir: pos.OnAir == 0 && pos.Segment < 0}
	if ctl != q.seen.ctl {
		seen.next = 1 // a new loop numbers its entries from 1
	}
	if _, ok := loop.Entry(seen.next); ok {
		seen.next = 0 // forces a rebuild, which finds the next one
	}
	if seen == q.seen {
		return
	}
	q.rebuild(ctl, seen)
}

func (q *queueRows) rebuild(ctl *share.Control, seen queueSeen) {
	es := ctl.Entries()
	var now, done []share.ControlEntry
	for _, e := range es {
		if e.State == engine.EntryQueued || e.State == engine.EntryPlaying {
			now = append(now, e)
		} else {
			done = append(done, e)
		}
		seen.next = max(seen.next, e.ID+1)
	}
	if seen.next == 0 {
		seen.next = 1
	}
	for i, j := 0, len(done)-1; i < j; i, j = i+1, j-1 {
		done[i], done[j] = done[j], done[i]
	}
	q.builds++
	q.seen = seen
	q.entries = append(now, done...)
	q.idle, q.onAir, q.idleAir = seen.idle, seen.onAir, seen.idleAir
	q.resize()
	q.list.Refresh()
}

// idleRow is the index of the idle clip's row.
func (q *queueRows) idleRow() int {
	for i, e := range q.entries {
		if e.State != engine.EntryQueued && e.State != engine.EntryPlaying {
			return i
		}
	}
	return len(q.entries)
}

// entryAt is row i's entry; false for the idle row.
func (q *queueRows) entryAt(i int) (share.ControlEntry, bool) {
	k := q.idleRow()
	switch {
	case i == k:
		return share.ControlEntry{}, false
	case i > k:
		i--
	}
	if i < 0 || i >= len(q.entries) {
		return share.ControlEntry{}, false
	}
	return q.entries[i], true
}

// resize shows up to maxQueueRows rows before the list scrolls.
func (q *queueRows) resize() {
	n := min(float32(len(q.entries)+1), maxQueueRows)
	if q.rowH == 0 {
		q.rowH = newQueueRowView(q).MinSize().Height
	}
	h := q.box.Layout.(*heightLayout)
	h.height = n*q.rowH + (n-1)*theme.Padding()
	q.box.Refresh()
}

// cancel drops a queued entry or cuts a playing one (DELETE segments/ID);
// on the idle row it restores the built-in idle card (DELETE idle).
func (q *queueRows) cancel(i int) {
	loop := q.api.currentLoop()
	e, ok := q.entryAt(i)
	var err error
	if ok {
		err = loop.Cancel(e.ID)
	} else {
		err = loop.SetIdle(nil)
	}
	if err != nil {
		q.run.log.Warn("queue row", "err", err)
	}
}

// queueRowView is one row: name (▶ when on air) / origin, state and
// length, and a button that cancels the entry.
type queueRowView struct {
	widget.BaseWidget
	q            *queueRows
	id           int
	bg           *canvas.Rectangle
	name, detail *widget.Label
	cancel       *widget.Button
	content      fyne.CanvasObject
}

func newQueueRowView(q *queueRows) *queueRowView {
	v := &queueRowView{q: q, bg: canvas.NewRectangle(color.Transparent)}
	v.bg.CornerRadius = 4
	v.name = widget.NewLabel("")
	v.name.TextStyle.Bold = true
	v.name.Truncation = fyne.TextTruncateEllipsis
	v.detail = widget.NewLabel("")
	v.detail.Truncation = fyne.TextTruncateEllipsis
	v.cancel = widget.NewButtonWithIcon("", theme.CancelIcon(), func() { q.cancel(v.id) })
	v.cancel.Importance = widget.LowImportance
	v.content = container.NewStack(v.bg, container.NewBorder(nil, nil, nil, v.cancel, container.NewVBox(v.name, v.detail)))
	v.ExtendBaseWidget(v)
	return v
}

func (v *queueRowView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.content)
}

func (q *queueRows) updateRow(i int, v *queueRowView) {
	v.id = i
	e, ok := q.entryAt(i)
	var name, detail string
	onAir, cancellable := false, false
	importance := widget.MediumImportance
	switch {
	case !ok:
		name, onAir, cancellable = "Idle: built-in card", q.idleAir, q.idle != nil
		detail = "plays whenever nothing else does"
		if q.idle != nil {
			name = "Idle: " + q.idle.Name
			detail = fmt.Sprintf("%v, looped whenever nothing else plays", q.idle.Duration().Round(10*time.Millisecond))
		}
	default:
		name, onAir = e.Name, e.ID == q.onAir
		cancellable = e.State == engine.EntryQueued || e.State == engine.EntryPlaying
		detail = entryDetail(e)
		if e.State == engine.EntryFailed {
			importance = widget.DangerImportance
		}
	}
	v.name.SetText(markPlaying(v.bg, name, onAir))
	v.detail.Importance = importance
	v.detail.SetText(detail)
	if cancellable {
		v.cancel.Show()
	} else {
		v.cancel.Hide()
	}
}

// entryDetail is an entry's second line: where it came from, its state,
// its length (so far, while a live producer sends), why it failed.
func entryDetail(e share.ControlEntry) string {
	origin := map[share.Origin]string{share.OriginAPI: "pushed", share.OriginLive: "live",
		share.OriginWatch: "watched", share.OriginWindow: "window"}[e.Origin]
	if origin == "" {
		origin = "queued"
	}
	s := fmt.Sprintf("%s · %s · %v", origin, e.State, e.Duration.Round(10*time.Millisecond))
	if e.Origin == share.OriginLive && e.State < engine.EntryDone {
		s += " so far" // the producer is still sending
	}
	if e.Err != "" {
		s += " · " + e.Err
	}
	return s
}

// heightLayout gives its one object its least width and a set height.
type heightLayout struct{ height float32 }

func (h *heightLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(size)
}

func (h *heightLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(objs[0].MinSize().Width, h.height)
}
