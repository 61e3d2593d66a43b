package ui

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	fdialog "fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/assets"
	"segcast/rtc"
	"segcast/rtc/measure"
)

// signalTimeout bounds ICE gathering for one offer or answer.
const signalTimeout = 20 * time.Second

// streamPanel is the right-hand panel: viewers by pasted SDP (both
// directions), the LAN share with its QR code, and the viewer list. The
// rtc session starts on first use, as a sink of the player's loop.
type streamPanel struct {
	app          fyne.App    // clipboard, drift windows
	win          fyne.Window // error dialogs
	p            *player
	set          *settings // ICE, bitrates, LAN address as last saved
	run          *runner
	saveFile     func(name string) (string, error)
	loopbackOnly bool // ICE on 127.0.0.1 only (tests)

	content *fyne.Container
	sess    *rtc.Session
	hub     *measure.Hub // the viewers' sync channels (drift views, the page's lip-sync trim)
	unsink  func()
	share   *lanShare
	pending *rtc.Viewer // offered, waiting for the browser's answer
	count   int         // viewers, for the status bar

	addViewer, connect, answerBtn, shareBtn *widget.Button
	offerOut, answerIn, offerIn, answerOut  *widget.Entry
	offerCopy, answerCopy                   *widget.Button
	message                                 *widget.Label
	qr                                      *canvas.Image
	shareURL                                *widget.Label
	viewers                                 *fyne.Container
	lastList                                string
}

func newStreamPanel(a fyne.App, win fyne.Window, p *player, set *settings, r *runner,
	saveFile func(name string) (string, error), loopbackOnly bool) *streamPanel {
	s := &streamPanel{app: a, win: win, p: p, set: set, run: r, saveFile: saveFile, loopbackOnly: loopbackOnly}
	s.message = widget.NewLabel("")
	s.message.Wrapping = fyne.TextWrapWord

	s.addViewer = widget.NewButtonWithIcon("Add viewer", theme.ContentAddIcon(), s.offer)
	s.offerOut = readOnlyBox("The app's offer appears here")
	s.offerCopy = widget.NewButtonWithIcon("Copy offer", theme.ContentCopyIcon(), func() { s.copy(s.offerOut.Text) })
	s.answerIn = widget.NewMultiLineEntry()
	s.answerIn.SetPlaceHolder("Paste the browser's answer")
	s.answerIn.SetMinRowsVisible(3)
	s.connect = widget.NewButton("Connect", s.accept)

	s.offerIn = widget.NewMultiLineEntry()
	s.offerIn.SetPlaceHolder("Or paste a browser's offer (viewer page)")
	s.offerIn.SetMinRowsVisible(3)
	s.answerBtn = widget.NewButton("Answer", s.answer)
	s.answerOut = readOnlyBox("The app's answer appears here")
	s.answerCopy = widget.NewButtonWithIcon("Copy answer", theme.ContentCopyIcon(), func() { s.copy(s.answerOut.Text) })

	save := widget.NewButtonWithIcon("Save viewer page…", theme.DocumentSaveIcon(), s.saveViewerPage)
	s.shareBtn = widget.NewButtonWithIcon("Share on LAN", theme.MailForwardIcon(), s.toggleShare)
	s.qr = canvas.NewImageFromImage(nil)
	s.qr.ScaleMode = canvas.ImageScalePixels // QR modules stay sharp
	s.qr.FillMode = canvas.ImageFillContain
	s.qr.SetMinSize(fyne.NewSize(200, 200))
	s.qr.Hide()
	s.shareURL = widget.NewLabel("")
	s.shareURL.Selectable = true
	s.shareURL.Wrapping = fyne.TextWrapBreak
	s.viewers = container.NewVBox(widget.NewLabel("No viewers"))

	s.content = container.NewVBox(
		widget.NewLabelWithStyle("Stream", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.addViewer, s.offerOut, s.offerCopy, s.answerIn, s.connect,
		widget.NewSeparator(),
		s.offerIn, s.answerBtn, s.answerOut, s.answerCopy,
		s.message,
		widget.NewSeparator(),
		save, s.shareBtn, s.qr, s.shareURL,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Viewers", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.viewers,
	)
	return s
}

// readOnlyBox is a multi-line box the user copies from, not types in.
func readOnlyBox(placeholder string) *widget.Entry {
	e := widget.NewMultiLineEntry()
	e.SetPlaceHolder(placeholder)
	e.SetMinRowsVisible(3)
	e.Wrapping = fyne.TextWrapBreak
	e.Disable()
	return e
}

func (s *streamPanel) copy(text string) {
	if text != "" {
		s.app.Clipboard().SetContent(text)
	}
}

// session starts streaming on first use: the rtc session, in the player's
// output format and on its clock, joins the player (startStreaming).
func (s *streamPanel) session() (*rtc.Session, error) {
	if s.sess != nil {
		return s.sess, nil
	}
	p := s.p
	hub := measure.NewHub(p.clock, s.run.log)
	sess, err := rtc.NewSession(rtc.Config{
		Width: p.w, Height: p.h, Rate: p.rate,
		MinBitrate: s.set.MinBitrate, MaxBitrate: s.set.MaxBitrate,
		ICEServers: s.set.ICE, Log: s.run.log, Clock: p.clock,
		LoopbackOnly: s.loopbackOnly, Observers: []rtc.Observer{hub},
	})
	if err != nil {
		hub.Close()
		return nil, fmt.Errorf("start streaming: %w", err)
	}
	s.hub = hub
	s.sess = sess
	s.unsink = p.startStreaming(sess)
	sess.OnViewersChanged(func() { s.run.do(s.refresh) })
	return sess, nil
}

func (s *streamPanel) say(format string, args ...any) {
	s.message.SetText(fmt.Sprintf(format, args...))
}

// offer creates a viewer that offers; the answer comes back by paste.
func (s *streamPanel) offer() {
	sess, err := s.session()
	if err != nil {
		s.say("%v", err)
		return
	}
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
			s.offerOut.SetText(offer)
			s.answerIn.SetText("")
			s.say("Viewer %s: copy the offer into the viewer page, then paste its answer.", v.ID())
			s.refresh()
		})
	})
}

// accept hands the pasted answer to the waiting viewer. A bad answer is
// reported and the viewer keeps waiting for a good one.
func (s *streamPanel) accept() {
	if s.pending == nil {
		s.say("Press Add viewer first.")
		return
	}
	if err := s.pending.Accept(s.answerIn.Text); err != nil {
		s.say("Answer not accepted (viewer %s still waiting): %v", s.pending.ID(), err)
		return
	}
	s.say("Viewer %s connecting…", s.pending.ID())
	s.pending = nil
	s.offerOut.SetText("")
	s.answerIn.SetText("")
	s.refresh()
}

// answer answers a browser's pasted offer.
func (s *streamPanel) answer() {
	sess, err := s.session()
	if err != nil {
		s.say("%v", err)
		return
	}
	text := s.offerIn.Text
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
			s.answerOut.SetText(answer)
			s.say("Viewer %s: copy the answer into the viewer page.", v.ID())
			s.refresh()
		})
	})
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

// toggleShare starts or stops the LAN server and shows its QR code.
func (s *streamPanel) toggleShare() {
	if s.share != nil {
		if err := s.share.close(); err != nil {
			s.run.log.Warn("stop sharing", "err", err)
		}
		s.share = nil
		s.qr.Hide()
		s.shareURL.SetText("")
		s.shareBtn.SetText("Share on LAN")
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
	s.qr.Image = ls.qr
	s.qr.Show()
	s.qr.Refresh()
	s.shareURL.SetText(ls.url)
	s.shareBtn.SetText("Stop sharing")
}

// refresh redraws the viewer list when it changed.
func (s *streamPanel) refresh() {
	if s.sess == nil {
		return
	}
	infos := s.sess.Viewers()
	s.count = len(infos)
	if s.pending != nil && !slices.ContainsFunc(infos, func(v rtc.ViewerInfo) bool { return v.ID == s.pending.ID() }) {
		s.pending = nil // closed before its answer came: nothing to paste into
		s.offerOut.SetText("")
	}
	key := fmt.Sprint(infos)
	if key == s.lastList {
		return
	}
	s.lastList = key
	var rows []fyne.CanvasObject
	for _, v := range infos {
		id := v.ID
		text := fmt.Sprintf("%s  %s  %s  %d kbit/s  RTT %v  loss %.1f%%",
			id, v.State, orDash(v.CandidateType), v.BitrateBps/1000, v.RTT.Round(time.Millisecond), 100*v.PacketLoss)
		closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), func() {
			if err := s.sess.CloseViewer(id); err != nil {
				s.say("Close viewer %s: %v", id, err)
			}
		})
		rows = append(rows, container.NewBorder(nil, nil, nil, closeBtn, widget.NewLabel(text)),
			widget.NewButton("Drift…", func() { s.openViewerDrift(id) }))
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel("No viewers"))
	}
	s.viewers.Objects = rows
	s.viewers.Refresh()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func (s *streamPanel) viewerCount() int { return s.count }

// close ends sharing and the session.
func (s *streamPanel) close() {
	if s.share != nil {
		_ = s.share.close()
	}
	if s.sess != nil {
		s.unsink()
		_ = s.sess.Close()
		s.hub.Close()
	}
}
