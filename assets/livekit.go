package assets

import (
	"bytes"
	_ "embed"
)

//go:embed livekit.html
var liveKitHTML []byte

// liveKitClientJS is livekit-client's UMD build (livekit/README.md), which
// the LiveKit viewer page inlines so it works with nothing fetched.
//
//go:embed livekit/livekit-client.umd.js
var liveKitClientJS []byte

// liveKitSlot is where livekit.html takes the library.
const liveKitSlot = `/*segcast:livekit-client*/`

// LiveKitViewerPage returns the self-contained LiveKit viewer page, with
// livekit-client and measure.js inlined: open it as
// PAGE#url=wss://HOST&token=JWT to play (and measure) the room's first
// participant. The slice is a fresh copy.
func LiveKitViewerPage() []byte {
	page := bytes.Replace(liveKitHTML, []byte(liveKitSlot), liveKitClientJS, 1)
	return bytes.Replace(page, []byte(measureSlot), measureJS, 1)
}
