package ui

import (
	"image"
	"log/slog"

	"segcast/rtc"
	"segcast/rtc/share"
)

// lanShare is a running "Share on LAN": the server of the viewer page and
// its WHEP endpoint, and the QR code of the page's URL for a phone.
type lanShare struct {
	srv *share.Server
	url string
	qr  image.Image
}

// qrSize is the QR code's side in pixels (the panel scales it to 200 pt).
const qrSize = 256

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
	qr, err := share.QRCode(url, qrSize)
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	return &lanShare{srv: srv, url: url, qr: qr}, nil
}

func (l *lanShare) close() error { return l.srv.Close() }
