package rtc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// MaxSignalBytes bounds pasted or posted signalling text. A real offer or
// answer is a few KiB; anything near this is not one.
const MaxSignalBytes = 64 << 10

// DecodeSignal reads what a user pasted: the pion examples' format (base64
// of the JSON {"type":"offer"|"answer","sdp":"…"}) or raw SDP text. Raw
// SDP has no type, so it is taken from a=setup: an offer says actpass.
// The SDP is parsed, so a description that comes back is well-formed.
func DecodeSignal(text string) (webrtc.SessionDescription, error) {
	if len(text) > MaxSignalBytes {
		return webrtc.SessionDescription{}, fmt.Errorf("signal: %d bytes, over the %d KiB limit", len(text), MaxSignalBytes>>10)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return webrtc.SessionDescription{}, errors.New("signal: empty")
	}
	var desc webrtc.SessionDescription
	if strings.HasPrefix(text, "v=") {
		desc.SDP = normaliseSDP(text)
		desc.Type = webrtc.SDPTypeAnswer
		if strings.Contains(desc.SDP, "a=setup:actpass") {
			desc.Type = webrtc.SDPTypeOffer
		}
	} else {
		// Pastes get wrapped by chat apps and terminals: drop whitespace.
		compact := strings.Join(strings.Fields(text), "")
		raw, err := base64.StdEncoding.DecodeString(compact)
		if err != nil {
			return webrtc.SessionDescription{}, fmt.Errorf("signal: neither raw SDP (starting v=) nor base64: %w", err)
		}
		if err := json.Unmarshal(raw, &desc); err != nil {
			return webrtc.SessionDescription{}, fmt.Errorf("signal: base64 decodes but is not {\"type\",\"sdp\"} JSON: %w", err)
		}
		if desc.Type != webrtc.SDPTypeOffer && desc.Type != webrtc.SDPTypeAnswer {
			return webrtc.SessionDescription{}, fmt.Errorf("signal: type %q, want offer or answer", desc.Type)
		}
		desc.SDP = normaliseSDP(desc.SDP)
	}
	// SDP is UTF-8 text; anything else would not survive EncodeSignal's
	// JSON (invalid bytes become U+FFFD) nor mean anything to a browser.
	if !utf8.ValidString(desc.SDP) {
		return webrtc.SessionDescription{}, errors.New("signal: SDP is not UTF-8 text")
	}
	if _, err := parseSDP(desc.SDP); err != nil {
		return webrtc.SessionDescription{}, err
	}
	return desc, nil
}

// EncodeSignal produces the one-line base64 form for a paste box or stdout.
func EncodeSignal(desc webrtc.SessionDescription) (string, error) {
	raw, err := json.Marshal(desc)
	if err != nil {
		return "", fmt.Errorf("signal: %w", err)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// normaliseSDP gives pasted SDP the CRLF line ends and final newline the
// parser wants; pastes often lose the CRs or the last line break.
func normaliseSDP(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	return strings.ReplaceAll(s, "\n", "\r\n") + "\r\n"
}

func parseSDP(text string) (*sdp.SessionDescription, error) {
	var parsed sdp.SessionDescription
	if err := parsed.UnmarshalString(text); err != nil {
		return nil, fmt.Errorf("signal: SDP: %w", err)
	}
	if len(parsed.MediaDescriptions) == 0 {
		return nil, errors.New("signal: SDP has no media sections (m= lines)")
	}
	return &parsed, nil
}

// checkMedia makes sure a description carries what we send: an active
// video section with VP8 and an active audio section with Opus. For a
// remote description a sendonly section does not count (that side would
// not receive). what names the description in the error.
func checkMedia(desc webrtc.SessionDescription, what string, remote bool) error {
	parsed, err := parseSDP(desc.SDP)
	if err != nil {
		return err
	}
	if !hasCodec(parsed, "video", "VP8/90000", remote) {
		return fmt.Errorf("%s has no usable video section with VP8", what)
	}
	if !hasCodec(parsed, "audio", "opus/48000", remote) {
		return fmt.Errorf("%s has no usable audio section with Opus", what)
	}
	return nil
}

func hasCodec(parsed *sdp.SessionDescription, kind, encoding string, remote bool) bool {
	for _, m := range parsed.MediaDescriptions {
		if m.MediaName.Media != kind || m.MediaName.Port.Value == 0 {
			continue
		}
		if _, ok := m.Attribute("inactive"); ok {
			continue
		}
		if _, ok := m.Attribute("sendonly"); ok && remote {
			continue
		}
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			// "96 VP8/90000" or "111 opus/48000/2"
			_, enc, _ := strings.Cut(a.Value, " ")
			if strings.HasPrefix(strings.ToLower(enc), strings.ToLower(encoding)) {
				return true
			}
		}
	}
	return false
}

// mids lists the media section ids of an SDP in order.
func mids(text string) ([]string, error) {
	parsed, err := parseSDP(text)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range parsed.MediaDescriptions {
		if v, ok := m.Attribute("mid"); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// checkAnswerFits catches an answer made for some other offer: every
// offer gets media ids unique to its viewer, and a browser's answer
// repeats them.
func checkAnswerFits(offerSDP, answerSDP string) error {
	want, err := mids(offerSDP)
	if err != nil {
		return err
	}
	got, err := mids(answerSDP)
	if err != nil {
		return err
	}
	if strings.Join(want, ",") != strings.Join(got, ",") {
		return fmt.Errorf("answer is for a different offer: media ids %q, this viewer's offer has %q", got, want)
	}
	return nil
}

// Negotiation: one exchange of complete descriptions per viewer.

// Answer answers a pasted offer (base64 JSON or raw SDP) with a new
// viewer. The answer comes back in the base64 form, with all ICE
// candidates in it (non-trickle).
func (s *Session) Answer(ctx context.Context, pastedOffer string) (*Viewer, string, error) {
	offer, err := DecodeSignal(pastedOffer)
	if err != nil {
		return nil, "", err
	}
	v, answer, err := s.answer(ctx, offer)
	if err != nil {
		return nil, "", err
	}
	text, err := EncodeSignal(answer)
	if err != nil {
		_ = v.Close()
		return nil, "", err
	}
	return v, text, nil
}

// AnswerSDP is Answer for raw SDP in and out (WHEP).
func (s *Session) AnswerSDP(ctx context.Context, offerSDP string) (*Viewer, string, error) {
	offer, err := DecodeSignal(offerSDP)
	if err != nil {
		return nil, "", err
	}
	v, answer, err := s.answer(ctx, offer)
	if err != nil {
		return nil, "", err
	}
	return v, answer.SDP, nil
}

func (s *Session) answer(ctx context.Context, offer webrtc.SessionDescription) (*Viewer, webrtc.SessionDescription, error) {
	var none webrtc.SessionDescription
	if offer.Type != webrtc.SDPTypeOffer {
		return nil, none, fmt.Errorf("rtc: got an %s where an offer was expected", offer.Type)
	}
	if err := checkMedia(offer, "offer", true); err != nil {
		return nil, none, fmt.Errorf("rtc: %w", err)
	}
	v, err := s.newViewer(false)
	if err != nil {
		return nil, none, err
	}
	fail := func(step string, err error) (*Viewer, webrtc.SessionDescription, error) {
		_ = v.Close() // observers hear of it too
		return nil, none, fmt.Errorf("rtc: %s: %w", step, err)
	}
	if err := v.pc.SetRemoteDescription(offer); err != nil {
		return fail("offer", err)
	}
	answer, err := v.pc.CreateAnswer(nil)
	if err != nil {
		return fail("create answer", err)
	}
	local, err := v.gather(ctx, answer)
	if err != nil {
		return fail("answer", err)
	}
	if err := checkMedia(*local, "our answer", false); err != nil {
		return fail("negotiation", fmt.Errorf("offer and our codecs have nothing in common: %w", err))
	}
	v.answered = true
	if err := s.addViewer(v); err != nil {
		return fail("add viewer", err)
	}
	return v, *local, nil
}

// gather sets the local description and waits for ICE gathering, so the
// SDP handed out carries every candidate.
func (v *Viewer) gather(ctx context.Context, desc webrtc.SessionDescription) (*webrtc.SessionDescription, error) {
	done := webrtc.GatheringCompletePromise(v.pc)
	if err := v.pc.SetLocalDescription(desc); err != nil {
		return nil, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("ICE gathering: %w", ctx.Err())
	}
	return v.pc.LocalDescription(), nil
}

// Offer creates a viewer that offers; hand its offer (base64 JSON) to the
// browser and pass the browser's answer to Accept.
func (s *Session) Offer(ctx context.Context) (*Viewer, string, error) {
	v, err := s.newViewer(true)
	if err != nil {
		return nil, "", err
	}
	fail := func(step string, err error) (*Viewer, string, error) {
		_ = v.Close() // observers hear of it too
		return nil, "", fmt.Errorf("rtc: %s: %w", step, err)
	}
	offer, err := v.pc.CreateOffer(nil)
	if err != nil {
		return fail("create offer", err)
	}
	local, err := v.gather(ctx, offer)
	if err != nil {
		return fail("offer", err)
	}
	text, err := EncodeSignal(*local)
	if err != nil {
		return fail("offer", err)
	}
	v.offerSDP = local.SDP
	if err := s.addViewer(v); err != nil {
		return fail("add viewer", err)
	}
	return v, text, nil
}

// Accept takes the browser's answer to this viewer's offer. Bad input is
// an error and leaves the viewer waiting for a good answer.
func (v *Viewer) Accept(pastedAnswer string) error {
	v.acceptMu.Lock()
	defer v.acceptMu.Unlock()
	if v.offerSDP == "" {
		return errors.New("rtc: this viewer answered an offer; it takes no answer")
	}
	if v.answered {
		return errors.New("rtc: this viewer already has an answer")
	}
	answer, err := DecodeSignal(pastedAnswer)
	if err != nil {
		return err
	}
	if answer.Type != webrtc.SDPTypeAnswer {
		return fmt.Errorf("rtc: got an %s where an answer was expected (paste the viewer's answer)", answer.Type)
	}
	if err := checkMedia(answer, "answer", true); err != nil {
		return fmt.Errorf("rtc: %w", err)
	}
	if err := checkAnswerFits(v.offerSDP, answer.SDP); err != nil {
		return fmt.Errorf("rtc: %w", err)
	}
	if err := v.pc.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("rtc: answer: %w", err)
	}
	v.answered = true
	v.StartConnectDeadline() // both sides have both descriptions now
	return nil
}
