package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	fdialog "fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
	"segcast/engine/pattern"
)

// maxRecent is how many recent files File → Open recent lists.
const maxRecent = 10

// row is one playlist entry: a loaded segment, a load in progress, or a
// failed load with its error. Rows with a segment are, in order, the
// loop's playlist. Rows are touched on the UI thread only.
type row struct {
	name        string
	path        string // "" for the pattern
	seg         *engine.Segment
	done, total int
	cancel      context.CancelFunc
	err         error
}

func (r *row) loading() bool { return r.seg == nil && r.err == nil }

// resumeAt is where the play head was when a new output format made its
// row reload: it goes back there once the row has loaded.
type resumeAt struct {
	row     *row
	offset  time.Duration
	playing bool
}

// playlist is the left-hand panel: the rows, their loads, and the buttons
// and drops that add to them. It keeps the player's loop in row order.
type playlist struct {
	p   *player
	run *runner
	win fyne.Window // error dialogs
	env env

	rows        []*row
	list        *keyList
	playing     int  // the row on air, -1 for none
	autoplay    bool // play the first input once it has loaded
	sawClip     bool // a clip (not the pattern) has loaded
	resume      *resumeAt
	onFirstClip func(*engine.Segment)
	recentMenu  *fyne.MenuItem
	content     fyne.CanvasObject
}

func newPlaylist(p *player, r *runner, win fyne.Window, e env, keys keyHandler) *playlist {
	l := &playlist{p: p, run: r, win: win, env: e, playing: -1, onFirstClip: func(*engine.Segment) {}}
	l.list = newKeyList(keys,
		func() int { return len(l.rows) },
		func() fyne.CanvasObject { return newRowView(l) },
		func(id widget.ListItemID, o fyne.CanvasObject) { l.updateRow(id, o.(*rowView)) },
	)
	add := widget.NewButtonWithIcon("Add files…", theme.ContentAddIcon(), l.openFiles)
	folder := widget.NewButtonWithIcon("Folder…", theme.FolderOpenIcon(), l.openFolder)
	title := widget.NewLabelWithStyle("Playlist", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.content = container.NewBorder(container.NewBorder(nil, nil, title, container.NewHBox(add, folder)), nil, nil, nil, l.list)
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

// rowOf is the row holding the loop's segment j (-1 for none).
func (l *playlist) rowOf(j int) int {
	if j < 0 {
		return -1
	}
	for i, r := range l.rows {
		if r.seg != nil {
			if j == 0 {
				return i
			}
			j--
		}
	}
	return -1
}

// rowView is one row: [play] name / details|progress|error [remove] [⋮
// move up, move down], over a highlight when it is on air. A double
// click plays it.
type rowView struct {
	widget.BaseWidget
	l                   *playlist
	id                  int
	bg                  *canvas.Rectangle
	play, more, rm      *widget.Button
	name, detail, errTx *widget.Label
	progress            *widget.ProgressBar
	content             fyne.CanvasObject
}

func newRowView(l *playlist) *rowView {
	v := &rowView{l: l, bg: canvas.NewRectangle(color.Transparent)}
	v.bg.CornerRadius = 4
	v.play = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), func() { l.playRow(v.id) })
	v.name = widget.NewLabel("")
	v.name.TextStyle.Bold = true
	v.name.Truncation = fyne.TextTruncateEllipsis
	v.detail = widget.NewLabel("")
	v.detail.Truncation = fyne.TextTruncateEllipsis
	v.progress = widget.NewProgressBar()
	v.errTx = widget.NewLabel("")
	v.errTx.Importance = widget.DangerImportance
	v.errTx.Wrapping = fyne.TextWrapWord
	v.rm = widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { l.removeRow(v.id) })
	v.rm.Importance = widget.LowImportance
	v.more = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), nil)
	v.more.Importance = widget.LowImportance
	v.more.OnTapped = func() {
		m := fyne.NewMenu("",
			fyne.NewMenuItem("Play", func() { l.playRow(v.id) }),
			fyne.NewMenuItem("Move up", func() { l.moveRow(v.id, v.id-1) }),
			fyne.NewMenuItem("Move down", func() { l.moveRow(v.id, v.id+1) }),
			fyne.NewMenuItem("Remove", func() { l.removeRow(v.id) }))
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(v.more)
		widget.ShowPopUpMenuAtPosition(m, fyne.CurrentApp().Driver().CanvasForObject(v.more), pos.AddXY(0, v.more.Size().Height))
	}
	v.play.Importance = widget.LowImportance
	middle := container.NewVBox(v.name, v.detail, v.progress, v.errTx)
	v.content = container.NewStack(v.bg, container.NewBorder(nil, nil, v.play, container.NewHBox(v.rm, v.more), middle))
	v.ExtendBaseWidget(v)
	return v
}

func (v *rowView) DoubleTapped(*fyne.PointEvent) { v.l.playRow(v.id) }

func (v *rowView) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(v.content) }

var nowPlayingColour = color.NRGBA{R: 0x2f, G: 0x6f, B: 0xd6, A: 0x40}

// markPlaying gives a row the now-playing look (▶ and the tint) or takes
// it away, and returns the name to show; the playlist's and the queue's
// rows share it.
func markPlaying(bg *canvas.Rectangle, name string, playing bool) string {
	bg.FillColor = color.Transparent
	if playing {
		name = "▶ " + name
		bg.FillColor = nowPlayingColour
	}
	bg.Refresh()
	return name
}

func (l *playlist) updateRow(i int, v *rowView) {
	r := l.rows[i]
	v.id = i
	v.name.SetText(markPlaying(v.bg, r.name, i == l.playing))
	if r.loading() {
		v.rm.SetIcon(theme.CancelIcon()) // cancels the load
	} else {
		v.rm.SetIcon(theme.DeleteIcon())
	}
	switch {
	case r.err != nil:
		v.detail.Hide()
		v.progress.Hide()
		v.errTx.SetText(r.err.Error())
		v.errTx.Show()
		v.play.Disable()
	case r.seg == nil:
		v.detail.Hide()
		v.errTx.Hide()
		if r.total > 0 {
			v.progress.SetValue(float64(r.done) / float64(r.total))
		}
		v.progress.Show()
		v.play.Disable()
	default:
		v.progress.Hide()
		v.errTx.Hide()
		v.detail.SetText(segmentDetail(r.seg))
		v.detail.Show()
		v.play.Enable()
	}
	l.list.SetItemHeight(i, v.content.MinSize().Height)
}

// segmentDetail is a row's second line: duration, the clip's own size,
// fps, sound, memory.
func segmentDetail(s *engine.Segment) string {
	audio := "no audio"
	if s.SourceAudioRate > 0 {
		audio = fmt.Sprintf("%d Hz ×%d", s.SourceAudioRate, s.SourceChannels)
	}
	size := "no picture"
	switch {
	case s.SourceWidth > 0:
		size = fmt.Sprintf("%d×%d", s.SourceWidth, s.SourceHeight)
	case s.Frames.Len() > 0:
		size = fmt.Sprintf("%d×%d", s.Width, s.Height) // made at the output size (the pattern)
	}
	return fmt.Sprintf("%v · %s · %s fps · %s · %s",
		s.Duration().Round(10*time.Millisecond), size, rateText(s.Rate), audio, mib(s.MemoryBytes()))
}

// setPlaying marks the row of the loop's segment j as on air.
func (l *playlist) setPlaying(j int) {
	i := l.rowOf(j)
	if i == l.playing {
		return
	}
	old := l.playing
	l.playing = i
	if old >= 0 && old < len(l.rows) {
		l.list.RefreshItem(old)
	}
	if i >= 0 {
		l.list.RefreshItem(i)
	}
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
		r := &row{name: filepath.Base(p), path: p}
		l.rows = append(l.rows, r)
		l.startLoad(r)
		l.addRecent(p)
	}
	l.playlistChanged()
}

// startLoad loads r's file in the player's output format.
func (l *playlist) startLoad(r *row) {
	ctx, cancel := context.WithCancel(l.run.ctx)
	r.cancel, r.err, r.done, r.total = cancel, nil, 0, 0
	f := l.p.format
	l.run.start(func() { l.load(ctx, r.path, r, f) })
}

// load runs on its own goroutine; results reach the rows through do.
func (l *playlist) load(ctx context.Context, path string, r *row, f outFormat) {
	var last time.Time
	seg, err := engine.Load(ctx, path, engine.LoadOptions{
		FPS:   f.Rate,
		Store: l.p.store,
		Size:  image.Pt(f.W, f.H),
		Fill:  f.Fill,
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
	l.run.do(func() { l.loaded(r, seg, err, ctx.Err() != nil, f) })
}

// loaded puts a finished load in place: a segment joins the loop at its
// row's position; a failure stays in its row; a cancelled load vanishes.
// A load in a format that is no longer the output's is thrown away (the
// row reloads in the new one).
func (l *playlist) loaded(r *row, seg *engine.Segment, err error, cancelled bool, f outFormat) {
	i := l.rowIndex(r)
	r.cancel()
	if i < 0 || (seg != nil && (f.W != l.p.format.W || f.H != l.p.format.H || f.Fill != l.p.format.Fill)) {
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
		j := l.loopIndex(i)
		l.p.loop.Move(last, j)
		switch {
		case l.resume != nil && l.resume.row == r:
			if err := l.p.loop.Seek(j, min(l.resume.offset, seg.Duration()-time.Millisecond)); err != nil {
				l.run.log.Warn("resume", "err", err)
			}
			if l.resume.playing {
				l.p.loop.Play()
			}
			l.resume = nil
		case l.autoplay:
			l.autoplay = false
			if err := l.p.loop.SkipTo(j); err != nil {
				l.run.log.Warn("autoplay", "err", err)
			}
			l.p.loop.Play()
		}
		if !l.sawClip {
			l.sawClip = true
			l.onFirstClip(seg)
		}
	}
	l.playlistChanged()
}

// firstClip is the first loaded clip that is not the pattern (nil: none).
func (l *playlist) firstClip() *engine.Segment {
	for _, r := range l.rows {
		if r.seg != nil && r.path != "" {
			return r.seg
		}
	}
	return nil
}

func (l *playlist) rowIndex(r *row) int { return slices.Index(l.rows, r) }

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

// reformat puts the playlist on a new loop in format f. The pattern is
// made anew; clips are kept when only the rate changes (the loop maps
// their frames by time) and reload from their files when the size or fit
// changes. The play head comes back where it was, at once or once its row
// has reloaded.
func (l *playlist) reformat(f outFormat) {
	old := l.p.format
	reload := f.W != old.W || f.H != old.H || f.Fill != old.Fill
	pos := l.p.loop.Position()
	cur := l.rowOf(pos.Segment)
	var segs, gone []*engine.Segment
	var reloads []*row
	for _, r := range l.rows {
		switch {
		case r.seg != nil && r.path == "":
			gone = append(gone, r.seg)
			r.seg = pattern.New(f.W, f.H, f.Rate, r.seg.Duration())
			r.name = r.seg.Name
			segs = append(segs, r.seg)
		case r.seg != nil && reload:
			gone = append(gone, r.seg)
			r.seg = nil
			reloads = append(reloads, r)
		case r.seg != nil:
			segs = append(segs, r.seg)
		case r.loading() && reload:
			r.cancel()
			reloads = append(reloads, r)
		}
	}
	l.resume = nil
	l.p.swap(f, segs, func(nl *engine.Loop) {
		nl.SetLoop(pos.Looping)
		if cur < 0 {
			return
		}
		r := l.rows[cur]
		if r.seg == nil {
			l.resume = &resumeAt{row: r, offset: pos.Offset, playing: pos.Playing}
			return
		}
		if j := l.loopIndex(cur); j >= 0 {
			if err := nl.Seek(j, min(pos.Offset, r.seg.Duration()-time.Millisecond)); err != nil {
				l.run.log.Warn("reformat: seek", "err", err)
			}
			if pos.Playing {
				nl.Play()
			}
		}
	})
	l.p.releaseLater(gone...)
	for _, r := range reloads {
		l.startLoad(r)
	}
	l.playlistChanged()
}

// dropped adds files and folders dropped on the window; a dropped
// playlist file is opened.
func (l *playlist) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() != "file" {
			continue
		}
		if isPlaylistFile(u.Path()) {
			l.loadPlaylist(u.Path())
			continue
		}
		paths = append(paths, u.Path())
	}
	l.addPaths(paths)
}

func isPlaylistFile(p string) bool {
	ext := filepath.Ext(p)
	return ext == ".m3u" || ext == ".m3u8"
}

// The native dialogs block their goroutine until dismissed; they are not
// waited for on close.
func (l *playlist) openFiles() {
	go (func() {
		paths, err := l.env.pickFiles()
		l.run.do(func() { l.picked(paths, err) })
	})()
}

func (l *playlist) openFolder() {
	go (func() {
		p, err := l.env.pickFolder()
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

// openPlaylist (Ctrl+Shift+O) asks for a playlist file and appends its
// entries.
func (l *playlist) openPlaylist() {
	go (func() {
		p, err := l.env.pickPlaylist()
		l.run.do(func() {
			if err != nil {
				if !isCancel(err) {
					fdialog.ShowError(fmt.Errorf("open playlist: %w", err), l.win)
				}
				return
			}
			l.loadPlaylist(p)
		})
	})()
}

// loadPlaylist appends the entries of playlist file path.
func (l *playlist) loadPlaylist(path string) {
	f, err := os.Open(path)
	if err != nil {
		fdialog.ShowError(fmt.Errorf("open playlist: %w", err), l.win)
		return
	}
	defer f.Close()
	entries, err := readPlaylist(f, filepath.Dir(path))
	if err != nil {
		fdialog.ShowError(fmt.Errorf("%s: %w", path, err), l.win)
		return
	}
	var paths []string
	for _, e := range entries {
		if e.Path == "" {
			fm := l.p.format
			d := e.Duration
			if d <= 0 {
				d = pattern.DefaultLength
			}
			l.addPaths(paths)
			paths = nil
			l.addSegment(pattern.New(fm.W, fm.H, fm.Rate, d))
			continue
		}
		paths = append(paths, e.Path)
	}
	l.addPaths(paths)
	l.addRecent(path)
}

// savePlaylist (Ctrl+S) writes the rows as an M3U playlist.
func (l *playlist) savePlaylist() {
	var entries []playlistEntry
	for _, r := range l.rows {
		e := playlistEntry{Path: r.path, Name: r.name}
		if r.seg != nil {
			e.Duration = r.seg.Duration()
		}
		entries = append(entries, e)
	}
	go (func() {
		path, err := l.env.savePlaylist("playlist.m3u8")
		if err == nil {
			err = writePlaylistFile(path, entries)
		}
		l.run.do(func() {
			if err != nil {
				if !isCancel(err) {
					fdialog.ShowError(err, l.win)
				}
				return
			}
			l.addRecent(path)
		})
	})()
}

func writePlaylistFile(path string, entries []playlistEntry) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save playlist: %w", err)
	}
	if err := writePlaylist(f, entries); err != nil {
		f.Close()
		return fmt.Errorf("save playlist %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save playlist %s: %w", path, err)
	}
	return nil
}

// addRecent puts path first in the recent files (kept in the preferences).
func (l *playlist) addRecent(path string) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	prefs := fyne.CurrentApp().Preferences()
	list := slices.DeleteFunc(prefs.StringList(prefRecent), func(p string) bool { return p == path })
	list = append([]string{path}, list...)
	if len(list) > maxRecent {
		list = list[:maxRecent]
	}
	prefs.SetStringList(prefRecent, list)
	l.refreshRecent()
}

// refreshRecent rebuilds File → Open recent.
func (l *playlist) refreshRecent() {
	if l.recentMenu == nil {
		return
	}
	var items []*fyne.MenuItem
	for _, p := range fyne.CurrentApp().Preferences().StringList(prefRecent) {
		items = append(items, fyne.NewMenuItem(p, func() {
			if isPlaylistFile(p) {
				l.loadPlaylist(p)
			} else {
				l.addPaths([]string{p})
			}
		}))
	}
	if len(items) == 0 {
		items = append(items, &fyne.MenuItem{Label: "(none yet)", Disabled: true})
	}
	l.recentMenu.ChildMenu = fyne.NewMenu("", items...)
	if m := l.win.MainMenu(); m != nil {
		m.Refresh()
	}
}
