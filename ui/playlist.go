package ui

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
)

// row is one playlist entry: a loaded segment, a load in progress, or a
// failed load with its error. Rows with a segment are, in order, the
// loop's playlist. Rows are touched on the UI thread only.
type row struct {
	name        string
	seg         *engine.Segment
	done, total int
	cancel      context.CancelFunc
	err         error
}

func (r *row) loading() bool { return r.seg == nil && r.err == nil }

// loopIndex is row i's index in the loop's playlist (-1 if not loaded).
func (c *controller) loopIndex(i int) int {
	if i < 0 || i >= len(c.rows) || c.rows[i].seg == nil {
		return -1
	}
	n := 0
	for _, r := range c.rows[:i] {
		if r.seg != nil {
			n++
		}
	}
	return n
}

func (c *controller) buildPlaylist() fyne.CanvasObject {
	c.list = widget.NewList(
		func() int { return len(c.rows) },
		newRowView,
		func(id widget.ListItemID, o fyne.CanvasObject) { c.updateRow(id, o.(*fyne.Container)) },
	)
	add := widget.NewButtonWithIcon("Add files…", theme.ContentAddIcon(), c.openFiles)
	folder := widget.NewButtonWithIcon("Add folder…", theme.FolderOpenIcon(), c.openFolder)
	return container.NewBorder(container.NewHBox(add, folder), nil, nil, nil, c.list)
}

// Row view layout: [play] name / details|progress|error [up down remove].
func newRowView() fyne.CanvasObject {
	play := widget.NewButtonWithIcon("", theme.MediaPlayIcon(), nil)
	name := widget.NewLabel("")
	name.TextStyle.Bold = true
	name.Truncation = fyne.TextTruncateEllipsis
	detail := widget.NewLabel("")
	detail.Truncation = fyne.TextTruncateEllipsis
	detail.Wrapping = fyne.TextWrapOff
	progress := widget.NewProgressBar()
	errText := widget.NewLabel("")
	errText.Importance = widget.DangerImportance
	errText.Wrapping = fyne.TextWrapWord
	up := widget.NewButtonWithIcon("", theme.MoveUpIcon(), nil)
	down := widget.NewButtonWithIcon("", theme.MoveDownIcon(), nil)
	remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), nil)
	middle := container.NewVBox(name, detail, progress, errText)
	return container.NewBorder(nil, nil, play, container.NewHBox(up, down, remove), middle)
}

// rowParts pulls the widgets out of a row view built by newRowView.
func rowParts(o *fyne.Container) (play *widget.Button, name, detail *widget.Label,
	progress *widget.ProgressBar, errText *widget.Label, up, down, remove *widget.Button) {
	// Border puts the center object first, then the others in order.
	middle := o.Objects[0].(*fyne.Container)
	right := o.Objects[2].(*fyne.Container)
	return o.Objects[1].(*widget.Button), middle.Objects[0].(*widget.Label), middle.Objects[1].(*widget.Label),
		middle.Objects[2].(*widget.ProgressBar), middle.Objects[3].(*widget.Label),
		right.Objects[0].(*widget.Button), right.Objects[1].(*widget.Button), right.Objects[2].(*widget.Button)
}

func (c *controller) updateRow(i int, o *fyne.Container) {
	r := c.rows[i]
	play, name, detail, progress, errText, up, down, remove := rowParts(o)
	name.SetText(r.name)
	play.OnTapped = func() { c.playRow(i) }
	up.OnTapped = func() { c.moveRow(i, i-1) }
	down.OnTapped = func() { c.moveRow(i, i+1) }
	remove.OnTapped = func() { c.removeRow(i) }
	if r.loading() {
		remove.SetIcon(theme.CancelIcon()) // cancels the load
	} else {
		remove.SetIcon(theme.DeleteIcon())
	}
	switch {
	case r.err != nil:
		detail.Hide()
		progress.Hide()
		errText.SetText(r.err.Error())
		errText.Show()
		play.Disable()
	case r.seg == nil:
		detail.Hide()
		errText.Hide()
		if r.total > 0 {
			progress.SetValue(float64(r.done) / float64(r.total))
		}
		progress.Show()
		play.Disable()
	default:
		progress.Hide()
		errText.Hide()
		detail.SetText(segmentDetail(r.seg))
		detail.Show()
		play.Enable()
	}
	c.list.SetItemHeight(i, o.MinSize().Height)
}

// segmentDetail is a row's second line: duration, size, fps, sound, memory.
func segmentDetail(s *engine.Segment) string {
	audio := "no audio"
	if s.SourceAudioRate > 0 {
		audio = fmt.Sprintf("%d Hz ×%d", s.SourceAudioRate, s.SourceChannels)
	}
	return fmt.Sprintf("%v · %d×%d · %s fps · %s · %s",
		s.Duration().Round(10*time.Millisecond), s.Width, s.Height, s.Rate, audio, mib(s.MemoryBytes()))
}

// addSegment appends an already loaded segment (the pattern).
func (c *controller) addSegment(s *engine.Segment) {
	c.rows = append(c.rows, &row{name: s.Name, seg: s})
	c.loop.Add(s)
	c.playlistChanged()
}

// addPaths starts one load per path; each shows progress in its row.
func (c *controller) addPaths(paths []string) {
	for _, p := range paths {
		ctx, cancel := context.WithCancel(c.ctx)
		r := &row{name: filepath.Base(p), cancel: cancel}
		c.rows = append(c.rows, r)
		c.start(func() { c.load(ctx, p, r) })
	}
	c.playlistChanged()
}

// load runs on its own goroutine; results reach the rows through fyne.Do.
func (c *controller) load(ctx context.Context, path string, r *row) {
	var last time.Time
	seg, err := engine.Load(ctx, path, engine.LoadOptions{
		FPS:   c.rate,
		Store: c.store,
		Size:  image.Pt(c.w, c.h),
		Progress: func(done, total int) {
			// A bar moves smoothly enough at 10 updates a second.
			if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || done == total {
				last = now
				c.do(func() {
					r.done, r.total = done, total
					c.refreshRow(r)
				})
			}
		},
	})
	c.do(func() { c.loaded(r, seg, err, ctx.Err() != nil) })
}

// loaded puts a finished load in place: a segment joins the loop at its
// row's position; a failure stays in its row; a cancelled load vanishes.
func (c *controller) loaded(r *row, seg *engine.Segment, err error, cancelled bool) {
	i := c.rowIndex(r)
	r.cancel()
	if i < 0 { // removed while loading
		if seg != nil {
			seg.Release()
		}
		return
	}
	switch {
	case cancelled && err != nil:
		c.rows = append(c.rows[:i], c.rows[i+1:]...)
	case err != nil:
		r.err = err
		c.log.Warn("load failed", "err", err)
	default:
		r.seg = seg
		r.name = seg.Name
		last := c.loop.Add(seg)
		c.loop.Move(last, c.loopIndex(i))
		if c.autoplay {
			c.autoplay = false
			if err := c.loop.SkipTo(c.loopIndex(i)); err != nil {
				c.log.Warn("autoplay", "err", err)
			}
			c.loop.Play()
		}
	}
	c.playlistChanged()
}

func (c *controller) rowIndex(r *row) int {
	for i, x := range c.rows {
		if x == r {
			return i
		}
	}
	return -1
}

func (c *controller) refreshRow(r *row) {
	if i := c.rowIndex(r); i >= 0 {
		c.list.RefreshItem(i)
	}
}

// playlistChanged refreshes the list and the preview's segment snapshot.
func (c *controller) playlistChanged() {
	c.preview.setSegments(c.loop.Segments())
	c.list.Refresh()
}

func (c *controller) playRow(i int) {
	if j := c.loopIndex(i); j >= 0 {
		if err := c.loop.SkipTo(j); err != nil {
			c.log.Warn("play row", "err", err)
			return
		}
		c.loop.Play()
	}
}

// moveRow swaps rows i and j; the loop follows when both are loaded (a
// loading or failed row has no place in the loop's order).
func (c *controller) moveRow(i, j int) {
	if i < 0 || j < 0 || i >= len(c.rows) || j >= len(c.rows) {
		return
	}
	a, b := c.loopIndex(i), c.loopIndex(j)
	c.rows[i], c.rows[j] = c.rows[j], c.rows[i]
	if a >= 0 && b >= 0 {
		c.loop.Move(a, b)
	}
	c.playlistChanged()
}

// removeRow cancels a load, forgets a failure, or takes a segment off the
// loop and frees its memory once the loop can no longer be reading it.
func (c *controller) removeRow(i int) {
	if i < 0 || i >= len(c.rows) {
		return
	}
	r := c.rows[i]
	if r.loading() {
		r.cancel() // loaded() removes the row
		return
	}
	if j := c.loopIndex(i); j >= 0 {
		c.loop.Remove(j)
		seg := r.seg
		time.AfterFunc(loopLead+time.Second, seg.Release)
	}
	c.rows = append(c.rows[:i], c.rows[i+1:]...)
	c.playlistChanged()
}

// dropped adds files and folders dropped on the window.
func (c *controller) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		}
	}
	c.addPaths(paths)
}

// The native dialogs block their goroutine until dismissed; they are not
// waited for on close.
func (c *controller) openFiles() {
	go (func() {
		paths, err := c.env.pickFiles()
		c.do(func() { c.picked(paths, err) })
	})()
}

func (c *controller) openFolder() {
	go (func() {
		p, err := c.env.pickFolder()
		c.do(func() { c.picked([]string{p}, err) })
	})()
}

func (c *controller) picked(paths []string, err error) {
	if err != nil {
		if !isCancel(err) {
			c.showError(fmt.Errorf("open dialog: %w", err))
		}
		return
	}
	c.addPaths(paths)
}
