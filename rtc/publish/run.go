package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/livekit/protocol/auth"

	"segcast/engine"
	"segcast/rtc"
)

// RunOptions configures `segcast publish`: exactly one of LiveKit and WHIP.
type RunOptions struct {
	rtc.Config
	LiveKit *LiveKitOptions
	WHIP    *WHIPOptions
	// Duration is how long to publish once connected; 0 means until ctx
	// is done.
	Duration time.Duration
	Out      io.Writer // one line: where the stream went and how to watch it
}

// Publisher is what Run drives: a LiveKit or a WHIP publisher.
type Publisher interface {
	Status() Status
	Close() error
}

// viewerTokenValidity is how long the viewer token Run prints lasts.
const viewerTokenValidity = 24 * time.Hour

// Run publishes loop's output: it connects (a *ConnectError if that fails),
// prints one line, plays the loop, and ends after Duration or when ctx is
// done. Connection losses on the way are retried and logged.
func Run(ctx context.Context, loop *engine.Loop, opt RunOptions) error {
	if (opt.LiveKit == nil) == (opt.WHIP == nil) {
		return errors.New("publish: give exactly one of LiveKit and WHIP")
	}
	log := discardLog(opt.Config.Log)
	sess, err := rtc.NewSession(opt.Config)
	if err != nil {
		return err
	}
	defer sess.Close()
	var p Publisher
	var line string
	if opt.LiveKit != nil {
		lk := *opt.LiveKit
		lk.Log = log
		pl, err := PublishLiveKit(ctx, sess, lk)
		if err != nil {
			return err
		}
		p, line = pl, fmt.Sprintf("livekit room=%s url=%s identity=%s viewer=%s",
			pl.Room(), lk.URL, pl.Identity(), meetLink(lk, pl.Room()))
	} else {
		wo := *opt.WHIP
		wo.Log = log
		pw, err := PublishWHIP(ctx, sess, wo)
		if err != nil {
			return err
		}
		p, line = pw, fmt.Sprintf("whip endpoint=%s session=%s", wo.URL, pw.Resource())
	}
	defer p.Close()
	if opt.Out != nil {
		fmt.Fprintln(opt.Out, line)
	}

	loopDone, timeout, stopLoop := rtc.PlayLoop(ctx, loop, sess, opt.Duration)
	defer stopLoop()
	select {
	case <-timeout:
	case <-ctx.Done():
	case err := <-loopDone:
		return fmt.Errorf("publish: loop stopped: %w", err)
	}
	log.Info("publish: done", "status", p.Status())
	return nil
}

// meetLink is a LiveKit Meet link that plays the room: with the API key a
// subscribe-only token is minted into it; with a token it shows where the
// viewer's own token goes.
func meetLink(o LiveKitOptions, room string) string {
	token := "VIEWER_TOKEN"
	if o.APIKey != "" {
		no := false
		t, err := auth.NewAccessToken(o.APIKey, o.APISecret).SetIdentity(randomSuffix("viewer-")).
			SetValidFor(viewerTokenValidity).
			SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanPublish: &no, CanPublishData: &no}).ToJWT()
		if err == nil {
			token = t
		}
	}
	return "https://meet.livekit.io/custom?liveKitUrl=" + url.QueryEscape(o.URL) + "&token=" + token
}
