package avsync

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestDecodePageMessageValid(t *testing.T) {
	v, err := DecodePageMessage([]byte(`{"t":"pong","id":7,"app_ms":100.5,"page_rx_ms":9000,"page_tx_ms":9000.25}`))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := v.(Pong); !ok || p.ID != 7 || p.AppMS != 100.5 || p.PageTxMS != 9000.25 {
		t.Errorf("pong = %#v", v)
	}

	v, err = DecodePageMessage([]byte(`{"t":"m","flash_index":300,"video_ms":5000,"audio_ms":5012.5,` +
		`"offset_ms":12.5,"latency_ms":null,"jitter_buffer_ms":40,"freezes":1,"playout_offset_ms":-3,"at_ms":77}`))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(Measurement)
	if !ok || m.FlashIndex != 300 || m.OffsetMS != 12.5 || m.JitterBufferMS != 40 || m.Freezes != 1 || m.PlayoutOffsetMS != -3 {
		t.Errorf("measurement = %#v", v)
	}
	// Unknown and absent stay unknown, not 0; at_ms is the app's to fill.
	if m.LatencyMS.Known() || m.ConcealedSamples.Known() || m.AtMS.Known() {
		t.Errorf("latency %v concealed %v at %v: want unknown", m.LatencyMS, m.ConcealedSamples, m.AtMS)
	}

	// offset_ms may be left to the app.
	v, err = DecodePageMessage([]byte(`{"t":"m","flash_index":0,"video_ms":10,"audio_ms":4}`))
	if err != nil || v.(Measurement).OffsetMS != -6 {
		t.Errorf("derived offset: %#v, %v", v, err)
	}

	if v, err = DecodePageMessage([]byte(`{"t":"hello"}`)); err != nil || v != (Hello{}) {
		t.Errorf("hello = %#v, %v", v, err)
	}

	v, err = DecodePageMessage([]byte(`{"t":"stats","page_ms":123,"frames_dropped":4}`))
	if s, ok := v.(StatsMsg); err != nil || !ok || s.PageMS != 123 || s.FramesDropped != 4 || s.Freezes.Known() || s.TimelineMS.Known() {
		t.Errorf("stats = %#v, %v", v, err)
	}
	v, err = DecodePageMessage([]byte(`{"t":"stats","page_ms":1,"timeline_ms":-2.5,"trim_audio_ms":41,"trim_video_ms":0}`))
	if s, ok := v.(StatsMsg); err != nil || !ok || s.TimelineMS != -2.5 || s.TrimAudioMS != 41 || s.TrimVideoMS != 0 {
		t.Errorf("stats with the lip-sync trim = %#v, %v", v, err)
	}
}

func TestDecodePageMessageErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat(" ", MaxMessageBytes+1), "limit"},
		{`not json`, "invalid character"},
		{`{"id":1}`, `no "t"`},
		{`{"t":"ping"}`, `unknown type "ping"`},
		{`{"t":"pong","app_ms":1,"page_rx_ms":2,"page_tx_ms":3}`, "field id"},
		{`{"t":"pong","id":1,"app_ms":1,"page_tx_ms":3}`, "field page_rx_ms"},
		{`{"t":"pong","id":1,"app_ms":1,"page_rx_ms":4,"page_tx_ms":3}`, "before page_rx_ms"},
		{`{"t":"pong","id":1,"app_ms":"x","page_rx_ms":4,"page_tx_ms":5}`, "app_ms"},
		{`{"t":"m","video_ms":1,"audio_ms":2}`, "field flash_index"},
		{`{"t":"m","flash_index":3,"audio_ms":2}`, "field video_ms"},
		{`{"t":"m","flash_index":3,"video_ms":2,"audio_ms":null}`, "field audio_ms"},
		{`{"t":"m","flash_index":3,"video_ms":10,"audio_ms":20,"offset_ms":-10}`, "offset_ms -10 is not"},
		{`{"t":"m","flash_index":3,"video_ms":10,"audio_ms":20} {}`, "after top-level value"},
		{`{"t":"stats"}`, "field page_ms"},
		{`{"t":"hello"} {}`, "after top-level value"},
		{`{"t":"m","flash_index":0,"video_ms":-1e308,"audio_ms":1e308}`, "out of range"},
	} {
		_, err := DecodePageMessage([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60s: error %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

func TestAppMessagesJSON(t *testing.T) {
	var c ClockSync
	b, _ := json.Marshal(NewPing(1, 10, &c))
	if string(b) != `{"t":"ping","id":1,"app_ms":10,"offset_ms":null}` {
		t.Errorf("ping before sync: %s", b)
	}
	c.Add(0, 105, 105, 10)
	b, _ = json.Marshal(NewPing(2, 20, &c))
	if string(b) != `{"t":"ping","id":2,"app_ms":20,"offset_ms":100}` {
		t.Errorf("ping after sync: %s", b)
	}
	b, _ = json.Marshal(NewFrame(42, 1234.5, 4294967295))
	if string(b) != `{"t":"frame","k":42,"send_ms":1234.5,"rtp":4294967295}` {
		t.Errorf("frame: %s", b)
	}
	b, _ = json.Marshal(NewMap(4294967295, 1.7956e12))
	if string(b) != `{"t":"map","video_rtp":4294967295,"wall_ms":1795600000000}` {
		t.Errorf("map: %s", b)
	}
}

// FuzzDecodePageMessage: any input either fails cleanly or yields a value
// that holds the invariants and encodes back to JSON.
func FuzzDecodePageMessage(f *testing.F) {
	for _, s := range []string{
		`{"t":"pong","id":7,"app_ms":100.5,"page_rx_ms":9000,"page_tx_ms":9000.25}`,
		`{"t":"m","flash_index":300,"video_ms":5000,"audio_ms":5012.5,"offset_ms":12.5,"latency_ms":null}`,
		`{"t":"m","flash_index":0,"video_ms":1e308,"audio_ms":-1e308}`,
		`{"t":"stats","page_ms":1,"freezes":2,"playout_offset_ms":-4.5}`,
		`{"t":null}`, `[]`, `{"t":"m","t":"pong"}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodePageMessage(b)
		if err != nil {
			if v != nil {
				t.Fatalf("value %#v with error %v", v, err)
			}
			return
		}
		switch m := v.(type) {
		case Pong:
			if m.ID < 0 || m.PageTxMS < m.PageRxMS {
				t.Fatalf("bad pong accepted: %#v", m)
			}
		case Measurement:
			want := m.AudioMS - m.VideoMS
			if m.FlashIndex < 0 || !m.VideoMS.Known() || !m.AudioMS.Known() ||
				(want.Known() && math.Abs(float64(m.OffsetMS-want)) > offsetSlackMS) {
				t.Fatalf("bad measurement accepted: %#v", m)
			}
		case StatsMsg:
		default:
			t.Fatalf("unexpected type %T", v)
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("accepted value does not encode: %v", err)
		}
	})
}
