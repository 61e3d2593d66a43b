package ui

import (
	"fmt"
	"image/color"
	"net"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/pion/webrtc/v4"

	"segcast/rtc"
)

// viewerList is the bottom of the stream side, always in view: one row
// per viewer with its live state, the path its packets take, bitrate,
// round-trip time and loss, a Drift… button and a close button.
type viewerList struct {
	s       *streamPanel
	title   *widget.Label
	box     *fyne.Container
	empty   *widget.Label
	rows    map[string]*viewerRow
	order   []string
	last    []rtc.ViewerInfo
	content fyne.CanvasObject
}

// State colours of the dot before each viewer (connected green, on its
// way amber, lost or failed red).
var (
	dotConnected = color.NRGBA{R: 0x22, G: 0xc5, B: 0x5e, A: 0xff}
	dotWaiting   = color.NRGBA{R: 0xf5, G: 0x9e, B: 0x0b, A: 0xff}
	dotLost      = color.NRGBA{R: 0xef, G: 0x44, B: 0x44, A: 0xff}
)

// viewerRow is one viewer's widgets, updated in place.
type viewerRow struct {
	dot           *canvas.Rectangle
	state, detail *widget.Label
	obj           fyne.CanvasObject
	connectedAt   time.Time // when it was last seen connected (zero: never)
	lostAt        time.Time // when a connected viewer started reconnecting
}

func newViewerList(s *streamPanel) *viewerList {
	v := &viewerList{s: s, rows: map[string]*viewerRow{}}
	v.title = widget.NewLabelWithStyle("Viewers", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.empty = widget.NewLabel("No viewers yet: share the link or paste an offer.")
	v.empty.Wrapping = fyne.TextWrapWord
	v.box = container.NewVBox(v.empty)
	scroll := container.NewVScroll(v.box)
	scroll.SetMinSize(fyne.NewSize(0, 104))
	v.content = container.NewBorder(container.NewVBox(widget.NewSeparator(), v.title), nil, nil, nil, scroll)
	return v
}

// show brings the list in line with infos (UI thread); only texts that
// changed are set.
func (v *viewerList) show(infos []rtc.ViewerInfo) {
	v.last = infos
	now := time.Now()
	ids := make([]string, len(infos))
	for i, info := range infos {
		ids[i] = info.ID
		r, ok := v.rows[info.ID]
		if !ok {
			r = v.newRow(info.ID)
			v.rows[info.ID] = r
		}
		state, detail := v.texts(r, info, now)
		dot := dotWaiting
		switch {
		case info.State == rtc.ViewerConnected:
			dot = dotConnected
		case !info.State.Live() || !r.lostAt.IsZero():
			dot = dotLost
		}
		if r.dot.FillColor != dot {
			r.dot.FillColor = dot
			r.dot.Refresh()
		}
		if r.state.Text != state {
			r.state.SetText(state)
		}
		if r.detail.Text != detail {
			r.detail.SetText(detail)
		}
	}
	if fmt.Sprint(ids) != fmt.Sprint(v.order) {
		v.order = ids
		for id := range v.rows {
			if !hasViewer(infos, id) {
				delete(v.rows, id)
			}
		}
		objs := []fyne.CanvasObject{}
		for _, id := range ids {
			objs = append(objs, v.rows[id].obj)
		}
		if len(objs) == 0 {
			objs = append(objs, v.empty)
		}
		v.box.Objects = objs
		v.box.Refresh()
		title := "Viewers"
		if len(ids) > 0 {
			title = fmt.Sprintf("Viewers (%d)", len(ids))
		}
		v.title.SetText(title)
	}
}

func (v *viewerList) newRow(id string) *viewerRow {
	r := &viewerRow{state: widget.NewLabel(""), detail: widget.NewLabel(""), dot: canvas.NewRectangle(dotWaiting)}
	r.dot.CornerRadius = 6
	r.dot.SetMinSize(fyne.NewSize(12, 12))
	r.state.TextStyle.Bold = true
	r.state.Truncation = fyne.TextTruncateEllipsis
	r.detail.Truncation = fyne.TextTruncateEllipsis
	drift := widget.NewButton("Drift…", func() { v.s.openViewerDrift(id) })
	closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { v.s.closeViewer(id) })
	// The buttons share the first line; the figures get the width.
	buttons := container.NewHBox(drift, closeBtn)
	r.obj = container.NewVBox(container.NewBorder(nil, nil, container.NewCenter(r.dot), buttons, r.state), r.detail)
	return r
}

// texts are a row's two lines. A viewer that was connected and is
// "connecting" again has lost its connection (pion calls that
// disconnected); it says so, with how long ago, and shows no bitrate: the
// estimate is stale until it recovers or fails.
func (v *viewerList) texts(r *viewerRow, info rtc.ViewerInfo, now time.Time) (state, detail string) {
	state = info.State.String()
	switch info.State {
	case rtc.ViewerConnected:
		r.connectedAt, r.lostAt = now, time.Time{}
		state = "connected"
	case rtc.ViewerConnecting:
		if !r.connectedAt.IsZero() {
			if r.lostAt.IsZero() {
				r.lostAt = now
			}
			state = fmt.Sprintf("connection lost %ds ago", int(now.Sub(r.lostAt).Seconds()))
		} else {
			state = "connecting…"
		}
	case rtc.ViewerNew:
		state = "waiting for the answer"
	}
	state += "  ·  " + info.ID
	if info.State != rtc.ViewerConnected || !r.lostAt.IsZero() {
		return state, "–"
	}
	path := v.s.paths.path(info.ID)
	if path == "" {
		path = orDash(info.CandidateType)
	}
	rtt := "–"
	if info.RTT > 0 {
		rtt = fmt.Sprintf("%.0f ms", float64(info.RTT)/float64(time.Millisecond))
	}
	return state, fmt.Sprintf("%d kbit/s · RTT %s · loss %.1f %% · %s",
		info.BitrateBps/1000, rtt, 100*info.PacketLoss, path)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// pathWatch is an rtc.Observer that keeps each viewer's PeerConnection to
// read its selected candidate pair: both ends' types and the remote
// address. rtc.ViewerInfo names only the more indirect end, and a
// browser's host candidate hidden behind an mDNS name reaches pion as
// "prflx" (peer-reflexive: learnt from its checks) although the packets
// go straight across the LAN, as the viewer page's own "host" says.
type pathWatch struct {
	mu  sync.Mutex
	pcs map[string]*rtc.Viewer
}

func newPathWatch() *pathWatch { return &pathWatch{pcs: map[string]*rtc.Viewer{}} }

func (w *pathWatch) ViewerCreated(v *rtc.Viewer) {
	w.mu.Lock()
	w.pcs[v.ID()] = v
	w.mu.Unlock()
}

func (w *pathWatch) ViewerClosed(v *rtc.Viewer) {
	w.mu.Lock()
	delete(w.pcs, v.ID())
	w.mu.Unlock()
}

func (w *pathWatch) Sent(rtc.SentItem) {}

// path describes viewer id's path ("" when unknown). Only a connected
// viewer's transport is read (pion starts its gatherer by then).
func (w *pathWatch) path(id string) string {
	w.mu.Lock()
	v := w.pcs[id]
	w.mu.Unlock()
	if v == nil || v.State() != rtc.ViewerConnected {
		return ""
	}
	sctp := v.PeerConnection().SCTP()
	if sctp == nil {
		return ""
	}
	pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil || pair.Remote == nil {
		return ""
	}
	return pathText(pair.Local.Typ, pair.Remote.Typ, pair.Remote.Address)
}

// pathText names a candidate pair's path as a person would: through a
// TURN relay, through a NAT (server-reflexive), or direct. A
// peer-reflexive remote on a private or loopback address is a host on
// this LAN whose address was hidden (mDNS): direct, "host".
func pathText(local, remote webrtc.ICECandidateType, remoteAddr string) string {
	switch {
	case local == webrtc.ICECandidateTypeRelay || remote == webrtc.ICECandidateTypeRelay:
		return "relay (TURN) · " + remoteAddr
	case local == webrtc.ICECandidateTypeSrflx || remote == webrtc.ICECandidateTypeSrflx:
		return "srflx (through NAT) · " + remoteAddr
	case remote == webrtc.ICECandidateTypePrflx:
		if ip := net.ParseIP(remoteAddr); ip != nil && (ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast()) {
			return "host (LAN) · " + remoteAddr
		}
		return "prflx · " + remoteAddr
	}
	return "host · " + remoteAddr
}
