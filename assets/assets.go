// Package assets holds the files Segcast ships inside its binary: the
// browser viewer page with its A/V measurement module. Nothing here is mutable: callers get copies.
package assets

import (
	"bytes"
	_ "embed"
	"html"
)

//go:embed viewer.html
var viewerHTML []byte

// measureJS is the A/V sync measurement module the page inlines, so a
// saved page still measures with nothing fetched.
//
//go:embed measure.js
var measureJS []byte

// measureSlot is where viewer.html takes measure.js.
const measureSlot = `/*segcast:measure.js*/`

// page is viewer.html with measure.js inlined, built fresh per call.
func page() []byte {
	return bytes.Replace(viewerHTML, []byte(measureSlot), measureJS, 1)
}

// whepMeta is the placeholder in viewer.html that tells the page its WHEP
// endpoint; empty means paste mode.
const whepMeta = `<meta name="segcast-whep" content="">`

// ViewerPage returns the self-contained viewer page (paste modes, or WHEP
// mode when opened with ?whep=URL). The slice is a fresh copy.
func ViewerPage() []byte { return page() }

// ViewerPageWHEP returns the viewer page set to post its offer to
// endpoint (resolved against the page's own URL, so "whep" means the
// sibling path) as soon as it loads.
func ViewerPageWHEP(endpoint string) []byte {
	meta := `<meta name="segcast-whep" content="` + html.EscapeString(endpoint) + `">`
	return bytes.Replace(page(), []byte(whepMeta), []byte(meta), 1)
}
