package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/rtc/publish"
)

// Preference keys of the Publish section. Secrets are kept like the other
// settings (the app's preferences file) and never logged.
const (
	prefPubKind    = "publish_kind" // "livekit" or "whip"
	prefLKURL      = "livekit_url"
	prefLKRoom     = "livekit_room"
	prefLKKey      = "livekit_api_key"
	prefLKSecret   = "livekit_api_secret"
	prefLKToken    = "livekit_token"
	prefWHIPURL    = "whip_url"
	prefWHIPBearer = "whip_bearer"
)

const (
	kindLiveKit = "LiveKit"
	kindWHIP    = "WHIP"
)

// publishSection is "Publish": the stream's one encode sent on to a
// LiveKit room or a WHIP endpoint, beside LAN sharing and pasted viewers.
// Connecting runs off the UI thread; the state and reconnects follow the
// publisher's Status, and every failure is shown here.
type publishSection struct {
	s     *streamPanel
	prefs fyne.Preferences

	kind                 *widget.RadioGroup
	lkURL, lkRoom, lkKey *keyEntry
	lkSecret, lkToken    *keyEntry
	whipURL, whipBearer  *keyEntry
	lkForm, whipForm     *widget.Form
	toggle               *widget.Button
	state, errText       *widget.Label
	content              fyne.CanvasObject
	pub                  publish.Publisher // running, nil when not
	connecting           context.CancelFunc
	shown                publish.Status
	accordion            *widget.Accordion
	// busy counts connects and closes in flight: the session outlives them.
	busy sync.WaitGroup
}

func newPublishSection(s *streamPanel, prefs fyne.Preferences) *publishSection {
	p := &publishSection{s: s, prefs: prefs}
	entry := func(key, placeholder string, secret bool) *keyEntry {
		e := newKeyEntry(false)
		e.Password = secret
		e.SetText(prefs.String(key))
		e.SetPlaceHolder(placeholder)
		return e
	}
	p.lkURL = entry(prefLKURL, "wss://my-project.livekit.cloud", false)
	p.lkRoom = entry(prefLKRoom, "room name", false)
	p.lkKey = entry(prefLKKey, "API key", false)
	p.lkSecret = entry(prefLKSecret, "API secret", true)
	p.lkToken = entry(prefLKToken, "or a token (JWT) instead of key and secret", true)
	p.whipURL = entry(prefWHIPURL, "https://example.org/whip/endpoint", false)
	p.whipBearer = entry(prefWHIPBearer, "bearer token (optional)", true)
	p.lkForm = widget.NewForm(
		widget.NewFormItem("URL", p.lkURL), widget.NewFormItem("Room", p.lkRoom),
		widget.NewFormItem("API key", p.lkKey), widget.NewFormItem("Secret", p.lkSecret),
		widget.NewFormItem("Token", p.lkToken))
	p.whipForm = widget.NewForm(widget.NewFormItem("URL", p.whipURL), widget.NewFormItem("Token", p.whipBearer))
	p.kind = widget.NewRadioGroup([]string{kindLiveKit, kindWHIP}, p.showKind)
	p.kind.Horizontal = true
	p.kind.Required = true
	kind := kindLiveKit
	if prefs.String(prefPubKind) == "whip" {
		kind = kindWHIP
	}
	p.kind.SetSelected(kind)
	p.toggle = widget.NewButtonWithIcon("Start publishing", theme.UploadIcon(), p.startStop)
	p.state = widget.NewLabel("Not publishing.")
	p.state.Wrapping = fyne.TextWrapWord
	p.errText = widget.NewLabel("")
	p.errText.Importance = widget.DangerImportance
	p.errText.Wrapping = fyne.TextWrapWord
	p.errText.Hide()
	body := container.NewVBox(p.kind, p.lkForm, p.whipForm, p.toggle, p.state, p.errText)
	p.accordion = widget.NewAccordion(widget.NewAccordionItem("Publish (LiveKit / WHIP)", body))
	p.content = p.accordion
	return p
}

func (p *publishSection) showKind(kind string) {
	p.lkForm.Hidden = kind != kindLiveKit
	p.whipForm.Hidden = kind != kindWHIP
	p.lkForm.Refresh()
	p.whipForm.Refresh()
}

func (p *publishSection) startStop() {
	switch {
	case p.connecting != nil:
		p.connecting() // the attempt ends with "stopped"
	case p.pub != nil:
		p.stop()
	default:
		p.start()
	}
}

// save keeps the fields (secrets included) in the preferences.
func (p *publishSection) save() {
	kind := "livekit"
	if p.kind.Selected == kindWHIP {
		kind = "whip"
	}
	p.prefs.SetString(prefPubKind, kind)
	for key, e := range map[string]*keyEntry{prefLKURL: p.lkURL, prefLKRoom: p.lkRoom, prefLKKey: p.lkKey,
		prefLKSecret: p.lkSecret, prefLKToken: p.lkToken, prefWHIPURL: p.whipURL, prefWHIPBearer: p.whipBearer} {
		p.prefs.SetString(key, strings.TrimSpace(e.Text))
	}
}

// start connects off the UI thread; the first connection's failure (a bad
// URL, a rejected key, a server that is down) is shown, and publishing
// does not start.
func (p *publishSection) start() {
	p.save()
	sess, err := p.s.session()
	if err != nil {
		p.fail(err)
		return
	}
	log := p.s.run.log
	var connect func(ctx context.Context) (publish.Publisher, error)
	target := ""
	if p.kind.Selected == kindWHIP {
		o := publish.WHIPOptions{URL: strings.TrimSpace(p.whipURL.Text), Bearer: strings.TrimSpace(p.whipBearer.Text),
			ICEServers: p.s.set.ICE, Log: log}
		target = o.URL
		connect = func(ctx context.Context) (publish.Publisher, error) { return publish.PublishWHIP(ctx, sess, o) }
	} else {
		o := publish.LiveKitOptions{URL: strings.TrimSpace(p.lkURL.Text), Room: strings.TrimSpace(p.lkRoom.Text),
			APIKey: strings.TrimSpace(p.lkKey.Text), APISecret: strings.TrimSpace(p.lkSecret.Text),
			Token: strings.TrimSpace(p.lkToken.Text), Log: log}
		if o.Token != "" { // a token says the room and who may publish
			o.APIKey, o.APISecret, o.Room = "", "", ""
		}
		target = o.URL
		connect = func(ctx context.Context) (publish.Publisher, error) { return publish.PublishLiveKit(ctx, sess, o) }
	}
	ctx, cancel := context.WithCancel(p.s.run.ctx)
	p.connecting = cancel
	p.errText.Hide()
	p.setState(fmt.Sprintf("Connecting to %s…", target))
	p.toggle.SetText("Cancel")
	p.toggle.SetIcon(theme.CancelIcon())
	p.busy.Add(1)
	go func() {
		defer p.busy.Done()
		pub, err := connect(ctx)
		cancelled := ctx.Err() != nil
		cancel()
		if err == nil && cancelled { // Cancel, or the window closed, as it connected
			_ = pub.Close()
			err = ctx.Err()
		}
		p.s.run.do(func() {
			p.connecting = nil
			switch {
			case cancelled:
				p.stopped("Not publishing (cancelled).")
			case err != nil:
				p.fail(err)
			default:
				p.pub = pub
				p.shown = publish.Status{}
				p.toggle.SetText("Stop publishing")
				p.toggle.SetIcon(theme.MediaStopIcon())
				p.refresh()
			}
		})
	}()
}

// fail shows why publishing did not start.
func (p *publishSection) fail(err error) {
	p.stopped("Failed.")
	p.errText.SetText(err.Error())
	p.errText.Show()
	p.s.run.log.Warn("publish failed", "err", err)
}

func (p *publishSection) stopped(state string) {
	p.setState(state)
	p.toggle.SetText("Start publishing")
	p.toggle.SetIcon(theme.UploadIcon())
}

// stop leaves the room or ends the WHIP session, off the UI thread.
func (p *publishSection) stop() {
	pub := p.pub
	p.pub = nil
	p.stopped("Not publishing.")
	p.errText.Hide()
	p.busy.Add(1)
	go func() {
		defer p.busy.Done()
		if err := pub.Close(); err != nil {
			p.s.run.log.Warn("stop publishing", "err", err)
		}
	}()
}

func (p *publishSection) setState(text string) {
	if p.state.Text != text {
		p.state.SetText(text)
	}
}

// refresh shows the running publisher's state and reconnects; nothing
// redraws unless they changed.
func (p *publishSection) refresh() {
	if p.pub == nil {
		return
	}
	st := p.pub.Status()
	if st.State == p.shown.State && st.Reconnects == p.shown.Reconnects && st.LastError == p.shown.LastError {
		return
	}
	p.shown = st
	target := st.Target
	if lk, ok := p.pub.(*publish.LiveKit); ok {
		target = fmt.Sprintf("room %s on %s", lk.Room(), st.Target)
	}
	text := fmt.Sprintf("%s: %s", publishStateText(st.State), target)
	if st.Reconnects > 0 {
		text += fmt.Sprintf(" · %d reconnects", st.Reconnects)
	}
	p.setState(text)
	if st.LastError != "" {
		p.errText.SetText(st.LastError)
		p.errText.Show()
	} else {
		p.errText.Hide()
	}
}

func publishStateText(s publish.State) string {
	switch s {
	case publish.StateConnected:
		return "Connected"
	case publish.StateConnecting:
		return "Connecting"
	case publish.StateReconnecting:
		return "Reconnecting"
	}
	return "Closed"
}

// close ends publishing, and waits for connects and closes in flight,
// before the session closes (the window closes; ctx has ended).
func (p *publishSection) close() {
	if p.connecting != nil {
		p.connecting()
	}
	if p.pub != nil {
		_ = p.pub.Close()
		p.pub = nil
	}
	p.busy.Wait()
}
