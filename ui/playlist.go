package ui

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	fdialog "fyne.io/fyne/v2/dialog"
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

// playlist is the left-hand panel: the rows, their loads, and the buttons
// and drops that add to them. It keeps the player's loop in row order.
type playlist struct {
	p          *player
	run        *runner
	win        fyne.Window // error dialogs
	pickFiles  func() ([]string, error)
	pickFolder func() (string, error)

	rows     []*row
	list     *widget.List
	autoplay bool // play the first input once it has loaded
	content  fyne.CanvasObject
}

func newPlaylist(p *player, r *runner, win fyne.Window,
	pickFiles func() ([]string, error), pickFolder func() (string, error)) *playlist {
	l := &playlist{p: p, run: r, win: win, pickFiles: pickFiles, pickFolder: pickFolder}
	l.list = widget.NewList(
		func() int { return len(l.rows) },
		newRowView,
		func(id widget.ListItemID, o fyne.CanvasObject) { l.updateRow(id, o.(*fyne.Container)) },
	)
	add := widget.NewButtonWithIcon("Add files…", theme.ContentAddIcon(), l.openFiles)
	folder := widget.NewButtonWithIcon("Add folder…", theme.FolderOpenIcon(), l.openFolder)
	l.content = container.NewBorder(container.NewHBox(add, folder), nil, nil, nil, l.list)
	return l
}

// loopIndex is row i's index in the loop's playlist (-1 if not loaded).
func (l *playlist) loopIndex(i int) int {
	if i < 0 || i >= len(l.rows) || l.rows[i].seg == nil {
		return -1
	}
	n := 0
	for _, r := range l.rows[:i] {
		if r.seg != nil {
			n++
		}
	}
	return n
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

func (l *playlist) updateRow(i int, o *fyne.Container) {
	r := l.rows[i]
	play, name, detail, progress, errText, up, down, remove := rowParts(o)
	name.SetText(r.name)
	play.OnTapped = func() { l.playRow(i) }
	up.OnTapped = func() { l.moveRow(i, i-1) }
	down.OnTapped = func() { l.moveRow(i, i+1) }
	remove.OnTapped = func() { l.removeRow(i) }
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
	l.list.SetItemHeight(i, o.MinSize().Height)
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
func (l *playlist) addSegment(s *engine.Segment) {
	l.rows = append(l.rows, &row{name: s.Name, seg: s})
	l.p.loop.Add(s)
	l.playlistChanged()
}

// addPaths starts one load per path; each shows progress in its row.
func (l *playlist) addPaths(paths []string) {
	for _, p := range paths {
		ctx, cancel := context.WithCancel(l.run.ctx)
		r := &row{name: filepath.Base(p), cancel: cancel}
		l.rows = append(l.rows, r)
		l.run.start(func() { l.load(ctx, p, r) })
	}
	l.playlistChanged()
}

// load runs on its own goroutine; results reach the rows through fyne.Do.
func (l *playlist) load(ctx context.Context, path string, r *row) {
	var last time.Time
	seg, err := engine.Load(ctx, path, engine.LoadOptions{
		FPS:   l.p.rate,
		Store: l.p.store,
		Size:  image.Pt(l.p.w, l.p.h),
		Progress: func(done, total int) {
			// A bar moves smoothly enough at 10 updates a second.
			if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || done == total {
				last = now
				l.run.do(func() {
					r.done, r.total = done, total
					l.refreshRow(r)
				})
			}
		},
	})
	l.run.do(func() { l.loaded(r, seg, err, ctx.Err() != nil) })
}

// loaded puts a finished load in place: a segment joins the loop at its
// row's position; a failure stays in its row; a cancelled load vanishes.
func (l *playlist) loaded(r *row, seg *engine.Segment, err error, cancelled bool) {
	i := l.rowIndex(r)
	r.cancel()
	if i < 0 { // removed while loading
		if seg != nil {
			seg.Release()
		}
		return
	}
	switch {
	case cancelled && err != nil:
		l.rows = append(l.rows[:i], l.rows[i+1:]...)
	case err != nil:
		r.err = err
		l.run.log.Warn("load failed", "err", err)
	default:
		r.seg = seg
		r.name = seg.Name
		last := l.p.loop.Add(seg)
		l.p.loop.Move(last, l.loopIndex(i))
		if l.autoplay {
			l.autoplay = false
			if err := l.p.loop.SkipTo(l.loopIndex(i)); err != nil {
				l.run.log.Warn("autoplay", "err", err)
			}
			l.p.loop.Play()
		}
	}
	l.playlistChanged()
}

func (l *playlist) rowIndex(r *row) int {
	for i, x := range l.rows {
		if x == r {
			return i
		}
	}
	return -1
}

func (l *playlist) refreshRow(r *row) {
	if i := l.rowIndex(r); i >= 0 {
		l.list.RefreshItem(i)
	}
}

// playlistChanged refreshes the list and the preview's segment snapshot.
func (l *playlist) playlistChanged() {
	l.p.preview.setSegments(l.p.loop.Segments())
	l.list.Refresh()
}

func (l *playlist) playRow(i int) {
	if j := l.loopIndex(i); j >= 0 {
		if err := l.p.loop.SkipTo(j); err != nil {
			l.run.log.Warn("play row", "err", err)
			return
		}
		l.p.loop.Play()
	}
}

// moveRow swaps rows i and j; the loop follows when both are loaded (a
// loading or failed row has no place in the loop's order).
func (l *playlist) moveRow(i, j int) {
	if i < 0 || j < 0 || i >= len(l.rows) || j >= len(l.rows) {
		return
	}
	a, b := l.loopIndex(i), l.loopIndex(j)
	l.rows[i], l.rows[j] = l.rows[j], l.rows[i]
	if a >= 0 && b >= 0 {
		l.p.loop.Move(a, b)
	}
	l.playlistChanged()
}

// removeRow cancels a load, forgets a failure, or takes a segment off the
// loop and frees its memory once the loop can no longer be reading it.
func (l *playlist) removeRow(i int) {
	if i < 0 || i >= len(l.rows) {
		return
	}
	r := l.rows[i]
	if r.loading() {
		r.cancel() // loaded() removes the row
		return
	}
	if j := l.loopIndex(i); j >= 0 {
		l.p.remove(j, r.seg)
	}
	l.rows = append(l.rows[:i], l.rows[i+1:]...)
	l.playlistChanged()
}

// dropped adds files and folders dropped on the window.
func (l *playlist) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		}
	}
	l.addPaths(paths)
}

// The native dialogs block their goroutine until dismissed; they are not
// waited for on close.
func (l *playlist) openFiles() {
	go (func() {
		paths, err := l.pickFiles()
		l.run.do(func() { l.picked(paths, err) })
	})()
}

func (l *playlist) openFolder() {
	go (func() {
		p, err := l.pickFolder()
		l.run.do(func() { l.picked([]string{p}, err) })
	})()
}

func (l *playlist) picked(paths []string, err error) {
	if err != nil {
		if !isCancel(err) {
			fdialog.ShowError(fmt.Errorf("open dialog: %w", err), l.win)
		}
		return
	}
	l.addPaths(paths)
}
