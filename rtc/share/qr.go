package share

import (
	"errors"
	"fmt"
	"image"
	"io"

	qrcode "github.com/skip2/go-qrcode"
)

// QRCode draws url as a QR code with error-correction level M (readable
// with a smudge or glare, still small for a URL). size is the side in
// pixels; a negative size is pixels per module instead, as in go-qrcode.
// The quiet zone is included.
func QRCode(url string, size int) (image.Image, error) {
	if url == "" {
		return nil, errors.New("qr code: empty URL")
	}
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr code for %q: %w", url, err)
	}
	return q.Image(size), nil
}

// writeShareBanner prints what `segcast serve` promises on stdout: the
// page URL, the WHEP URL, the control API's URL, then the page URL's QR
// code for a phone camera.
func writeShareBanner(w io.Writer, pageURL, whepURL, controlURL string) error {
	q, err := qrcode.New(pageURL, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("qr code for %q: %w", pageURL, err)
	}
	_, err = fmt.Fprintf(w, "%s\n%s\n%s\n%s", pageURL, whepURL, controlURL, q.ToSmallString(false))
	return err
}
