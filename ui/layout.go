package ui

import (
	"fyne.io/fyne/v2"
)

// Window layout. Wide windows (a laptop's 1280×720 and up) put the
// playlist left, the preview in the middle and the stream side right;
// narrow ones (half a 1920×1080 screen, 960 wide) put the playlist under
// the preview. The stream side keeps its width either way, and every
// part scrolls or truncates inside its box, so the window's least size
// stays under both and nothing ever resizes the window.
const (
	sideWidth     = 340 // the stream side
	playlistWidth = 300 // the playlist beside the preview, when wide
	wideFrom      = 1180
	// playlistMinH is the least height the playlist keeps under the
	// preview when narrow.
	playlistMinH = 220
)

// windowLayout places [playlist, centre (preview and transport), side].
type windowLayout struct{}

func (windowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	list, centre, side := objs[0], objs[1], objs[2]
	sw := float32(sideWidth)
	side.Move(fyne.NewPos(size.Width-sw, 0))
	side.Resize(fyne.NewSize(sw, size.Height))
	left := size.Width - sw
	if size.Width >= wideFrom {
		list.Move(fyne.NewPos(0, 0))
		list.Resize(fyne.NewSize(playlistWidth, size.Height))
		centre.Move(fyne.NewPos(playlistWidth, 0))
		centre.Resize(fyne.NewSize(left-playlistWidth, size.Height))
		return
	}
	// Narrow: the preview as tall as its width asks (16:9 plus its
	// controls), leaving the playlist at least playlistMinH.
	controls := centre.MinSize().Height - previewMinH
	ch := min(controls+left*9/16, size.Height-playlistMinH)
	ch = max(ch, centre.MinSize().Height)
	centre.Move(fyne.NewPos(0, 0))
	centre.Resize(fyne.NewSize(left, ch))
	list.Move(fyne.NewPos(0, ch))
	list.Resize(fyne.NewSize(left, size.Height-ch))
}

func (windowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	list, centre, side := objs[0].MinSize(), objs[1].MinSize(), objs[2].MinSize()
	return fyne.NewSize(max(list.Width, centre.Width)+max(side.Width, sideWidth),
		max(list.Height+centre.Height, side.Height))
}

// previewMinH is the picture's least height (its canvas.Image min size).
const previewMinH = 180
