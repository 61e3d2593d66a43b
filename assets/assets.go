// Package assets holds the files Segcast ships inside its binary: the
// browser viewer page. Nothing here is mutable: callers get copies.
package assets

import (
	"bytes"
	_ "embed"
	"html"
)

//go:embed viewer.html
var viewerHTML []byte

// whepMeta is the placeholder in viewer.html that tells the page its WHEP
// endpoint; empty means paste mode.
const whepMeta = `<meta name="segcast-whep" content="">`

// ViewerPage returns the self-contained viewer page (paste modes, or WHEP
// mode when opened with ?whep=URL). The slice is a fresh copy.
func ViewerPage() []byte { return bytes.Clone(viewerHTML) }

// ViewerPageWHEP returns the viewer page set to post its offer to
// endpoint (resolved against the page's own URL, so "whep" means the
// sibling path) as soon as it loads.
func ViewerPageWHEP(endpoint string) []byte {
	meta := `<meta name="segcast-whep" content="` + html.EscapeString(endpoint) + `">`
	return bytes.Replace(viewerHTML, []byte(whepMeta), []byte(meta), 1)
}
