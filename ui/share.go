package ui

import (
	"image"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/rtc"
	"segcast/rtc/share"
)

// lanShare is a running "Share on LAN": the server of the viewer page and
// its WHEP endpoint, and the QR code of the page's URL for a phone.
type lanShare struct {
	srv  *share.Server
	url  string
	whep string
	qr   image.Image
}

// qrModule is the QR code's module size in pixels: whole pixels per
// module keep it sharp and readable from a screen (about 135 px for a LAN
// URL with its token, small enough to stay in view on a 720-line screen).
const qrModule = 3

// startLANShare serves sess's viewers on addr ("" = :8787, with URLs
// naming the LAN address).
func startLANShare(sess *rtc.Session, addr string, log *slog.Logger) (*lanShare, error) {
	srv, err := share.New(sess, share.Options{Addr: addr, Log: log})
	if err == nil {
		err = srv.Start()
	}
	if err != nil {
		return nil, err
	}
	url := srv.PageURL()
	qr, err := share.QRCode(url, -qrModule)
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	return &lanShare{srv: srv, url: url, whep: srv.WHEPURL(), qr: qr}, nil
}

func (l *lanShare) close() error { return l.srv.Close() }

// shareSection is "Share link": the button, the page's URL with Copy and
// Open in browser, its QR code, and the WHEP URL for other players.
type shareSection struct {
	s                       *streamPanel
	toggle                  *widget.Button
	url, whep               *widget.Label
	copyURL, open, copyWHEP *widget.Button
	qr                      *canvas.Image
	details                 *fyne.Container
	content                 fyne.CanvasObject
}

func newShareSection(s *streamPanel) *shareSection {
	l := &shareSection{s: s}
	l.toggle = widget.NewButtonWithIcon("Share on LAN", theme.MailForwardIcon(), s.toggleShare)
	l.toggle.Importance = widget.HighImportance
	l.url = widget.NewLabel("")
	l.url.Truncation = fyne.TextTruncateEllipsis
	l.url.Selectable = true
	l.whep = widget.NewLabel("")
	l.whep.Truncation = fyne.TextTruncateEllipsis
	l.copyURL = widget.NewButtonWithIcon("Copy URL", theme.ContentCopyIcon(), nil)
	l.copyURL.OnTapped = func() { s.copy(l.copyURL, "Copy URL", l.url.Text) }
	l.open = widget.NewButtonWithIcon("Open in browser", theme.ComputerIcon(), func() {
		if err := s.openURL(l.url.Text); err != nil {
			s.say("Open in browser: %v", err)
		}
	})
	l.copyWHEP = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), nil)
	l.copyWHEP.OnTapped = func() { s.copy(l.copyWHEP, "Copy", l.whep.Text) }
	l.qr = canvas.NewImageFromImage(nil)
	l.qr.ScaleMode = canvas.ImageScalePixels // QR modules stay sharp
	l.qr.FillMode = canvas.ImageFillOriginal
	whepRow := container.NewBorder(nil, nil, widget.NewLabel("WHEP"), l.copyWHEP, l.whep)
	l.details = container.NewVBox(l.url, container.NewHBox(l.copyURL, l.open), container.NewCenter(l.qr), whepRow)
	l.details.Hide()
	title := widget.NewLabelWithStyle("Share link", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.content = container.NewVBox(container.NewBorder(nil, nil, title, nil, l.toggle), l.details)
	return l
}

// show displays a running share, or none.
func (l *shareSection) show(ls *lanShare) {
	if ls == nil {
		l.details.Hide()
		l.url.SetText("")
		l.whep.SetText("")
		l.qr.Image = nil
		l.toggle.SetText("Share on LAN")
		l.toggle.Importance = widget.HighImportance
		l.toggle.Refresh()
		return
	}
	l.url.SetText(ls.url)
	l.whep.SetText(ls.whep)
	l.qr.Image = ls.qr
	l.qr.Refresh()
	l.details.Show()
	l.toggle.SetText("Stop sharing")
	l.toggle.Importance = widget.MediumImportance
	l.toggle.Refresh()
}
