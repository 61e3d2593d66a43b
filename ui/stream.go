package ui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	fdialog "fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/assets"
	"segcast/engine"
	"segcast/rtc"
	"segcast/rtc/measure"
)

// signalTimeout bounds ICE gathering for one offer or answer.
const signalTimeout = 20 * time.Second

// copiedFor is how long a copy button says "Copied".
const copiedFor = 1500 * time.Millisecond

// streamPanel is the right-hand side, organised by task: the on-air
// state and stream health on top; Share link (the LAN page, its QR code
// and the WHEP URL); Paste (offer and answer both ways, folded once a
// viewer is connected); the control API's URL; Publish (to a LiveKit room
// or a WHIP endpoint, folded until opened); and the viewer list, always
// in view at the bottom. The rtc session starts on first
// use, as a sink of the player's loops.
type streamPanel struct {
	app          fyne.App    // clipboard, drift windows
	win          fyne.Window // error dialogs
	p            *player
	set          *settings // ICE, bitrates, LAN address as last saved
	run          *runner
	saveFile     func(name string) (string, error)
	openURL      func(url string) error
	loopbackOnly bool // ICE on 127.0.0.1 only (tests)

	sess   *rtc.Session
	hub    *measure.Hub // the viewers' sync channels (drift views, the page's lip-sync trim, bye)
	paths  *pathWatch   // each viewer's selected ICE pair
	unsink func()
	share  *lanShare
	pasted map[string]bool // viewers made through the paste boxes (not the LAN share)

	pending *rtc.Viewer // offered, waiting for the browser's answer
	watch   string      // the viewer the message is about
	watched rtc.ViewerState

	health  *health
	link    *shareSection
	control *controlSection
	publish *publishSection
	viewers *viewerList

	addViewer, connect, answerBtn *widget.Button
	offerCopy, answerCopy         *widget.Button
	offerInfo, answerInfo         *widget.Label
	offerOut, answerOut           string // the texts the copy buttons copy
	answerIn, offerIn             *keyEntry
	message                       *widget.Label
	paste                         *widget.Accordion
	content                       fyne.CanvasObject
}

func newStreamPanel(a fyne.App, win fyne.Window, p *player, set *settings, r *runner, e env) *streamPanel {
	s := &streamPanel{app: a, win: win, p: p, set: set, run: r, saveFile: e.saveFile, openURL: e.openURL,
		loopbackOnly: e.loopbackOnly, pasted: map[string]bool{}, paths: newPathWatch()}
	s.message = widget.NewLabel("")
	s.message.Wrapping = fyne.TextWrapWord
	s.message.Hide() // shown with something to say

	s.addViewer = widget.NewButtonWithIcon("Add viewer", theme.ContentAddIcon(), s.offer)
	s.offerInfo = widget.NewLabel("")
	s.offerCopy = widget.NewButtonWithIcon("Copy offer", theme.ContentCopyIcon(), nil)
	s.offerCopy.OnTapped = func() { s.copy(s.offerCopy, "Copy offer", s.offerOut) }
	s.offerCopy.Disable()
	s.answerIn = newKeyEntry(true)
	s.answerIn.SetPlaceHolder("Paste the page's answer")
	s.answerIn.SetMinRowsVisible(2)
	s.connect = widget.NewButton("Connect", s.accept)

	s.offerIn = newKeyEntry(true)
	s.offerIn.SetPlaceHolder("Paste the page's offer")
	s.offerIn.SetMinRowsVisible(2)
	s.answerBtn = widget.NewButton("Answer", s.answer)
	s.answerInfo = widget.NewLabel("")
	s.answerCopy = widget.NewButtonWithIcon("Copy answer", theme.ContentCopyIcon(), nil)
	s.answerCopy.OnTapped = func() { s.copy(s.answerCopy, "Copy answer", s.answerOut) }
	s.answerCopy.Disable()
	fromClipboard := widget.NewButtonWithIcon("From clipboard", theme.ContentPasteIcon(), s.fromClipboard)

	appOffers := container.NewVBox(
		widget.NewLabelWithStyle("The app offers", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}),
		container.NewHBox(s.addViewer, s.offerCopy), s.offerInfo,
		s.answerIn, container.NewHBox(s.connect))
	pageOffers := container.NewVBox(
		widget.NewLabelWithStyle("The page offers", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}),
		s.offerIn, container.NewHBox(s.answerBtn, s.answerCopy), s.answerInfo)
	save := widget.NewButtonWithIcon("Save viewer page…", theme.DocumentSaveIcon(), s.saveViewerPage)
	pasteBox := container.NewVBox(container.NewHBox(fromClipboard, save), appOffers, widget.NewSeparator(), pageOffers)
	s.paste = widget.NewAccordion(widget.NewAccordionItem("Paste (offer / answer)", pasteBox))

	s.health = newHealth()
	s.link = newShareSection(s)
	s.viewers = newViewerList(s)
	s.control = newControlSection(s)
	s.publish = newPublishSection(s, a.Preferences())

	middle := container.NewVScroll(container.NewVBox(s.link.content, s.paste, s.message,
		widget.NewSeparator(), s.control.content, s.publish.content))
	s.content = container.NewBorder(s.health.content, s.viewers.content, nil, nil, middle)
	return s
}

// copy puts text on the clipboard and says so on the button for a moment.
func (s *streamPanel) copy(b *widget.Button, label, text string) {
	if text == "" {
		return
	}
	s.app.Clipboard().SetContent(text)
	b.SetText("Copied")
	b.SetIcon(theme.ConfirmIcon())
	time.AfterFunc(copiedFor, func() {
		s.run.do(func() {
			b.SetText(label)
			b.SetIcon(theme.ContentCopyIcon())
		})
	})
}

// session starts streaming on first use: the rtc session, in the player's
// output format and on its clock, joins the player (startStreaming).
func (s *streamPanel) session() (*rtc.Session, error) {
	if s.sess != nil {
		return s.sess, nil
	}
	p := s.p
	hub := measure.NewHub(p.clock, s.run.log)
	f := p.format
	sess, err := rtc.NewSession(rtc.Config{
		Width: f.W, Height: f.H, Rate: f.Rate,
		MinBitrate: s.set.MinBitrate, MaxBitrate: s.set.MaxBitrate,
		ICEServers: s.set.ICE, Log: s.run.log, Clock: p.clock,
		LoopbackOnly: s.loopbackOnly, Observers: []rtc.Observer{hub, s.paths},
	})
	if err != nil {
		hub.Close()
		return nil, fmt.Errorf("start streaming: %w", err)
	}
	s.hub = hub
	s.sess = sess
	s.unsink = p.startStreaming(sess, sess.Restart)
	sess.OnViewersChanged(func() { s.run.do(s.refresh) })
	return sess, nil
}

func (s *streamPanel) say(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	s.message.SetText(text)
	s.message.Hidden = text == ""
	s.message.Refresh()
}

// follow makes the message track viewer id's state from now on.
func (s *streamPanel) follow(id string, st rtc.ViewerState) {
	s.watch, s.watched = id, st
}

// offer creates a viewer that offers; the answer comes back by paste.
func (s *streamPanel) offer() {
	sess, err := s.session()
	if err != nil {
		s.say("%v", err)
		return
	}
	s.paste.Open(0)
	s.addViewer.Disable()
	s.say("Gathering network candidates…")
	s.run.start(func() {
		ctx, cancel := context.WithTimeout(s.run.ctx, signalTimeout)
		defer cancel()
		v, offer, err := sess.Offer(ctx)
		s.run.do(func() {
			s.addViewer.Enable()
			if err != nil {
				s.say("Add viewer failed: %v", err)
				return
			}
			if s.pending != nil {
				_ = s.pending.Close() // superseded before it got an answer
			}
			s.pending = v
			s.pasted[v.ID()] = true
			s.setOffer(offer)
			s.answerIn.SetText("")
			s.follow(v.ID(), rtc.ViewerNew)
			s.say("Viewer %s: copy the offer into the viewer page, then paste its answer here.", v.ID())
			s.refresh()
		})
	})
}

// setOffer shows that an offer is ready to copy ("" clears it). The text
// itself is kilobytes of base64: it goes to the clipboard, not the screen.
func (s *streamPanel) setOffer(offer string) {
	s.offerOut = offer
	showReady("Offer", offer, s.offerInfo, s.offerCopy)
}

// setAnswer is setOffer for the app's answer.
func (s *streamPanel) setAnswer(answer string) {
	s.answerOut = answer
	showReady("Answer", answer, s.answerInfo, s.answerCopy)
}

// showReady says that what (an offer or answer) is ready, with its size,
// and enables its Copy button; for "" it clears both.
func showReady(what, text string, info *widget.Label, copyBtn *widget.Button) {
	if text == "" {
		info.SetText("")
		copyBtn.Disable()
		return
	}
	info.SetText(fmt.Sprintf("%s ready (%.1f KB)", what, float64(len(text))/1000))
	copyBtn.Enable()
}

// accept hands the pasted answer to the waiting viewer. A bad answer is
// reported and the viewer keeps waiting for a good one.
func (s *streamPanel) accept() {
	s.acceptText(s.answerIn.Text)
}

func (s *streamPanel) acceptText(text string) bool {
	if s.pending == nil {
		s.say("Press Add viewer first.")
		return false
	}
	if err := s.pending.Accept(text); err != nil {
		s.say("Answer not accepted (viewer %s still waiting): %v", s.pending.ID(), err)
		return false
	}
	id := s.pending.ID()
	s.pending = nil
	s.setOffer("")
	s.answerIn.SetText("")
	s.follow(id, rtc.ViewerNew)
	s.say("Viewer %s: connecting…", id)
	s.refresh()
	return true
}

// answer answers a browser's pasted offer.
func (s *streamPanel) answer() { s.answerText(s.offerIn.Text, false) }

// answerText answers offer; toClipboard puts the answer on the clipboard.
func (s *streamPanel) answerText(text string, toClipboard bool) {
	sess, err := s.session()
	if err != nil {
		s.say("%v", err)
		return
	}
	s.answerBtn.Disable()
	s.say("Answering…")
	s.run.start(func() {
		ctx, cancel := context.WithTimeout(s.run.ctx, signalTimeout)
		defer cancel()
		v, answer, err := sess.Answer(ctx, text)
		s.run.do(func() {
			s.answerBtn.Enable()
			if err != nil {
				s.say("Offer not accepted: %v", err)
				return
			}
			s.pasted[v.ID()] = true
			s.setAnswer(answer)
			s.offerIn.SetText("")
			s.follow(v.ID(), rtc.ViewerNew)
			if toClipboard {
				s.app.Clipboard().SetContent(answer)
				s.say("Viewer %s: the answer is on the clipboard; paste it into the viewer page.", v.ID())
			} else {
				s.say("Viewer %s: copy the answer into the viewer page.", v.ID())
			}
			s.refresh()
		})
	})
}

// fromClipboard (Ctrl+Shift+V) adds a viewer from what the clipboard
// holds: a page's answer to the waiting offer is accepted; a page's offer
// is answered and the answer put on the clipboard; anything else starts an
// offer to copy.
func (s *streamPanel) fromClipboard() {
	text := strings.TrimSpace(s.app.Clipboard().Content())
	s.paste.Open(0)
	kind := ""
	if text != "" {
		if d, err := rtc.DecodeSignal(text); err == nil {
			kind = d.Type.String()
		}
	}
	switch {
	case kind == "answer" && s.pending != nil:
		s.answerIn.SetText(text)
		s.acceptText(text)
	case kind == "offer":
		s.offerIn.SetText(text)
		s.answerText(text, true)
	default:
		s.offer()
	}
}

// saveViewerPage writes the embedded viewer page where the user says.
func (s *streamPanel) saveViewerPage() {
	go (func() {
		path, err := s.saveFile("segcast-viewer.html")
		if err == nil {
			if werr := os.WriteFile(path, assets.ViewerPage(), 0o644); werr != nil {
				err = fmt.Errorf("save viewer page %s: %w", path, werr)
			}
		}
		s.run.do(func() {
			switch {
			case err == nil:
				s.say("Viewer page saved to %s", path)
			case !isCancel(err):
				fdialog.ShowError(err, s.win)
			}
		})
	})()
}

// toggleShare (Ctrl+L) starts or stops the LAN share.
func (s *streamPanel) toggleShare() {
	if s.share != nil {
		s.stopSharing()
		return
	}
	sess, err := s.session()
	if err != nil {
		s.say("%v", err)
		return
	}
	ls, err := startLANShare(sess, s.set.LANAddr, s.run.log)
	if err != nil {
		s.say("Share on LAN: %v", err)
		return
	}
	s.share = ls
	s.run.log.Info("share link", "url", ls.url, "whep", ls.whep)
	s.paste.Close(0) // the link and its QR code in view
	s.link.show(ls)
	s.say("")
}

// stopSharing tells the viewers that joined through the link that the
// stream ended, then stops the server (which closes them), off the UI
// thread: the goodbye and the server's shutdown take a moment.
func (s *streamPanel) stopSharing() {
	var ids []string
	for _, v := range s.sess.Viewers() {
		if !s.pasted[v.ID] {
			ids = append(ids, v.ID)
		}
	}
	ls, hub := s.share, s.hub
	s.share = nil
	s.link.show(nil)
	s.run.start(func() {
		if len(ids) > 0 {
			hub.Bye("The host stopped sharing.", ids...)
		}
		if err := ls.close(); err != nil {
			s.run.log.Warn("stop sharing", "err", err)
		}
	})
}

// closeViewer ends one viewer, telling its page first.
func (s *streamPanel) closeViewer(id string) {
	sess, hub := s.sess, s.hub
	s.run.start(func() {
		hub.Bye("The host closed this viewer.", id)
		if err := sess.CloseViewer(id); err != nil {
			s.run.do(func() { s.say("Close viewer %s: %v", id, err) })
		}
	})
}

// refresh shows the viewers' state: the list, the message about the
// viewer last signalled, the paste boxes folded once one is connected.
func (s *streamPanel) refresh() {
	if s.sess == nil {
		return
	}
	infos := s.sess.Viewers()
	if s.pending != nil && !hasViewer(infos, s.pending.ID()) {
		s.pending = nil // closed before its answer came: nothing to paste into
		s.setOffer("")
	}
	s.viewers.show(infos)
	if s.watch != "" {
		st, ok := rtc.ViewerClosed, false
		for _, v := range infos {
			if v.ID == s.watch {
				st, ok = v.State, true
			}
		}
		if st != s.watched || !ok {
			s.sayState(s.watch, st, ok)
			s.watched = st
			if !ok {
				s.watch = ""
			}
		}
	}
}

// sayState updates the message for the watched viewer's state.
func (s *streamPanel) sayState(id string, st rtc.ViewerState, present bool) {
	switch {
	case !present:
		s.say("Viewer %s has left.", id)
	case st == rtc.ViewerConnecting:
		s.say("Viewer %s: connecting…", id)
	case st == rtc.ViewerConnected:
		s.say("Viewer %s connected.", id)
		s.setAnswer("")
		s.paste.Close(0)
	case st == rtc.ViewerFailed:
		s.say("Viewer %s could not connect (ICE failed).", id)
	}
}

func hasViewer(infos []rtc.ViewerInfo, id string) bool {
	for _, v := range infos {
		if v.ID == id {
			return true
		}
	}
	return false
}

// connected counts connected viewers (the status bar, on air).
func (s *streamPanel) connected() int {
	if s.sess == nil {
		return 0
	}
	n := 0
	for _, v := range s.viewers.last {
		if v.State == rtc.ViewerConnected {
			n++
		}
	}
	return n
}

// stats is the session's counters, or false before streaming.
func (s *streamPanel) stats() (rtc.SessionStats, bool) {
	if s.sess == nil {
		return rtc.SessionStats{}, false
	}
	return s.sess.Stats(), true
}

// close tells every viewer the stream ends, then ends sharing and the
// session.
func (s *streamPanel) close() {
	s.publish.close()
	if s.sess == nil {
		return
	}
	s.hub.Bye("The host closed Segcast.")
	if s.share != nil {
		_ = s.share.close()
	}
	s.unsink()
	_ = s.sess.Close()
	s.hub.Close()
}

// rateText is a frame rate as people write it.
func rateText(r engine.Rate) string {
	if r.Den == 1 {
		return fmt.Sprint(r.Num)
	}
	return fmt.Sprintf("%.3g", r.FPS())
}
