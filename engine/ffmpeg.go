package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// Limits for what the ffmpeg tools hand back.
const (
	maxProbeOutput = 1 << 20
	maxStderr      = 16 << 10
	// maxVideoAudio bounds decoded sound: an hour of 48 kHz stereo s16.
	maxVideoAudio = 3600 * AudioRate * AudioChannels * 2
)

// videoInfo is what ffprobe says about a file's first video and audio
// streams. Durations are in seconds, 0 when the file does not say.
type videoInfo struct {
	// Width and Height are the picture as shown: a phone's portrait clip
	// is stored landscape with a display matrix turning it, and ffmpeg
	// turns the frames it decodes the same way.
	Width, Height int
	Rate          Rate
	// Frames is the video stream's frame count as declared (nb_frames),
	// VideoDuration the video stream's duration.
	Frames         int
	VideoDuration  float64
	HasAudio       bool
	AudioDuration  float64 // the audio stream's own duration
	FormatDuration float64 // the container's, the longest stream's
	// AudioRate and AudioChannels describe the first audio stream as
	// stored, before ffmpeg converts it to 48 kHz.
	AudioRate, AudioChannels int
}

// ffprobeStream is the part of one stream in `ffprobe -of json` we read.
type ffprobeStream struct {
	CodecType    string            `json:"codec_type"`
	Width        int               `json:"width"`
	Height       int               `json:"height"`
	RFrameRate   string            `json:"r_frame_rate"`
	AvgFrameRate string            `json:"avg_frame_rate"`
	NbFrames     string            `json:"nb_frames"`
	Duration     string            `json:"duration"`
	SampleRate   string            `json:"sample_rate"`
	Channels     int               `json:"channels"`
	Tags         map[string]string `json:"tags"`
	SideData     []struct {
		Rotation *float64 `json:"rotation"`
	} `json:"side_data_list"`
}

// ffprobeOutput is the subset of `ffprobe -of json` we read.
type ffprobeOutput struct {
	Streams []ffprobeStream `json:"streams"`
	Format  struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// duration is the stream's declared length: its duration field, else the
// DURATION tag Matroska muxers write per stream.
func (s *ffprobeStream) duration() float64 {
	if d := parseSeconds(s.Duration); d > 0 {
		return d
	}
	for k, v := range s.Tags {
		if strings.EqualFold(k, "DURATION") {
			return parseClock(v)
		}
	}
	return 0
}

// rotation is the turn of the stream's display matrix in degrees (the
// legacy rotate tag of older ffprobes otherwise), normalised to 0..359.
func (s *ffprobeStream) rotation() int {
	deg := 0.0
	found := false
	for _, sd := range s.SideData {
		if sd.Rotation != nil {
			deg, found = *sd.Rotation, true
			break
		}
	}
	if !found {
		deg, _ = strconv.ParseFloat(s.Tags["rotate"], 64)
	}
	return ((int(math.Round(deg)) % 360) + 360) % 360
}

// parseSeconds reads ffprobe's decimal seconds; 0 for "N/A" or junk.
func parseSeconds(s string) float64 {
	d, err := strconv.ParseFloat(s, 64)
	if err != nil || !(d > 0) || math.IsInf(d, 0) {
		return 0
	}
	return d
}

// parseClock reads Matroska's HH:MM:SS.fraction; 0 for junk.
func parseClock(s string) float64 {
	h, rest, ok1 := strings.Cut(s, ":")
	m, sec, ok2 := strings.Cut(rest, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 {
		return 0
	}
	return float64(hh*3600+mm*60) + parseSeconds(sec)
}

// lookTool finds an ffmpeg program or says clearly that it is missing.
func lookTool(name, kind string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("decoding %s needs the %s program, which is not on PATH", kind, name)
	}
	return p, nil
}

// runTool runs a tool to completion and returns its stdout (at most limit
// bytes); ctx cancellation kills it.
func runTool(ctx context.Context, limit int64, name string, args ...string) ([]byte, error) {
	cmd, out, stderr, err := startTool(ctx, name, args...)
	if err != nil {
		return nil, err
	}
	data, rerr := io.ReadAll(io.LimitReader(out, limit+1))
	if int64(len(data)) > limit {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("%s: output over %d MiB", baseTool(name), limit>>20)
	}
	if err := waitTool(ctx, cmd, stderr); err != nil {
		return nil, err
	}
	return data, rerr
}

// startTool starts a tool with its stdout piped to the caller and the
// tail of its stderr kept for the error message.
func startTool(ctx context.Context, name string, args ...string) (*exec.Cmd, io.ReadCloser, *tailBuffer, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	stderr := new(tailBuffer)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, out, stderr, nil
}

func waitTool(ctx context.Context, cmd *exec.Cmd, stderr *tailBuffer) error {
	err := cmd.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("%s failed: %v: %s", baseTool(cmd.Path), err, lastLine(stderr.String()))
	}
	return nil
}

func baseTool(path string) string {
	return path[strings.LastIndexByte(path, '/')+1:]
}

// tailBuffer keeps the last maxStderr bytes written to it: enough for the
// error line a failing ffmpeg prints last.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > maxStderr {
		t.b = t.b[len(t.b)-maxStderr:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

func probeVideo(ctx context.Context, path, kind string) (videoInfo, error) {
	ffprobe, err := lookTool("ffprobe", kind)
	if err != nil {
		return videoInfo{}, err
	}
	out, err := runTool(ctx, maxProbeOutput, ffprobe, "-v", "error",
		"-show_entries", "stream=codec_type,width,height,r_frame_rate,avg_frame_rate,nb_frames,duration,sample_rate,channels"+
			":stream_tags:stream_side_data=rotation:format=duration",
		"-of", "json", "--", path)
	if err != nil {
		return videoInfo{}, err
	}
	var p ffprobeOutput
	if err := json.Unmarshal(out, &p); err != nil {
		return videoInfo{}, fmt.Errorf("ffprobe output: %w", err)
	}
	info := videoInfo{FormatDuration: parseSeconds(p.Format.Duration)}
	found := false
	for _, s := range p.Streams {
		switch {
		case s.CodecType == "audio" && !info.HasAudio:
			info.HasAudio = true
			info.AudioRate, _ = strconv.Atoi(s.SampleRate)
			info.AudioChannels = s.Channels
			info.AudioDuration = s.duration()
		case s.CodecType == "video" && !found:
			found = true
			info.Width, info.Height = s.Width, s.Height
			if s.rotation()%180 == 90 {
				info.Width, info.Height = s.Height, s.Width
			}
			// r_frame_rate is ffprobe's guess at the base rate; a
			// variable-rate file may give a timebase there, so the
			// first rate in range wins, else the caller's.
			for _, r := range []string{s.RFrameRate, s.AvgFrameRate} {
				if rate, err := ParseRate(r); err == nil && CheckFPS(rate) == nil {
					info.Rate = rate
					break
				}
			}
			info.Frames, _ = strconv.Atoi(s.NbFrames)
			info.VideoDuration = s.duration()
		}
	}
	if !found {
		return info, errors.New("no video stream")
	}
	if info.Width <= 0 || info.Height <= 0 || info.Width > maxFrameDim || info.Height > maxFrameDim {
		return info, fmt.Errorf("video size %dx%d, want 1..%d each way", info.Width, info.Height, maxFrameDim)
	}
	return info, nil
}

// expectedFrames is how many frames at rate the video declares: from its
// duration, else its frame count, else (an estimate only) the file's
// duration; 0 when nothing says.
func (v videoInfo) expectedFrames(rate Rate) (n int, declared bool) {
	switch {
	case v.VideoDuration > 0:
		return int(math.Round(v.VideoDuration * rate.FPS())), true
	case v.Frames > 0:
		return v.Frames, true
	}
	return int(math.Round(v.FormatDuration * rate.FPS())), false
}

// Decoding may fall short of the declaration by this much without it
// counting as damage: a variable-rate file's last frame or two rounded to
// the constant rate, and two codec frames of sound (an AAC frame is 1024
// samples) or 50 ms.
const (
	frameShortfall = 2
	soundShortfall = 0.050
)

// loadVideo decodes a video file through ffmpeg: sound first, as 48 kHz
// s16 (mono kept mono) trimmed to the length its stream declares (the
// encoder's padding dropped), then frames piped as raw yuv420p at a
// constant rate (ffmpeg repeats or drops frames of variable-rate files to
// keep it, and turns them as the display matrix says). The budget is
// checked from the declared lengths before anything is decoded, and what
// was decoded is checked against them: a cut file is an error, not half a
// clip.
func loadVideo(ctx context.Context, path, kind string, l *loader) (*Segment, error) {
	ffmpeg, err := lookTool("ffmpeg", kind)
	if err != nil {
		return nil, err
	}
	info, err := probeVideo(ctx, path, kind)
	if err != nil {
		return nil, err
	}
	seg := &Segment{Name: baseName(path), Source: path, Rate: l.rate(info.Rate)}
	channels := 2
	if info.AudioChannels == 1 {
		channels = 1
	}
	soundDur := info.AudioDuration
	if soundDur == 0 {
		soundDur = info.FormatDuration // at most the longest stream
	}
	soundBytes := int64(math.Ceil(soundDur*AudioRate)) * int64(channels) * 2
	if info.HasAudio {
		if soundBytes > maxVideoAudio {
			return nil, fmt.Errorf("sound of %.0f s is over the limit of %d MiB at 48 kHz", soundDur, maxVideoAudio>>20)
		}
		if err := l.reserveSound(soundBytes); err != nil {
			return nil, err
		}
	}
	expect, declared := info.expectedFrames(seg.Rate)
	if err := l.begin(image.Pt(info.Width, info.Height), expect); err != nil {
		return nil, err
	}
	var audioErr string
	if info.HasAudio {
		args := []string{"-nostdin", "-v", "error", "-i", path, "-map", "0:a:0"}
		if info.AudioDuration > 0 {
			args = append(args, "-t", strconv.FormatFloat(info.AudioDuration, 'f', 6, 64))
		}
		args = append(args, "-f", "s16le", "-ac", strconv.Itoa(channels), "-ar", strconv.Itoa(AudioRate), "-")
		samples, stderr, err := l.readPCM(ctx, ffmpeg, args, soundBytes)
		if err != nil {
			return nil, fmt.Errorf("audio: %w", err)
		}
		audioErr = stderr
		if len(samples) >= channels {
			seg.Audio = NewPCM(samples, channels)
			seg.SourceAudioRate, seg.SourceChannels = info.AudioRate, info.AudioChannels
		}
	}
	videoErr, err := l.readFrames(ctx, ffmpeg, path, info, seg.Rate)
	if err != nil {
		return nil, err
	}
	if l.done() == 0 {
		return nil, errors.New("ffmpeg decoded no frames")
	}
	// Compare what was decoded with what the container declares.
	var declares, decoded []string
	if declared && l.done() < expect-frameShortfall {
		declares = append(declares, fmt.Sprintf("%d frames", expect))
		decoded = append(decoded, fmt.Sprintf("%d frames", l.done()))
	}
	if got := seg.AudioDuration().Seconds(); info.AudioDuration > 0 &&
		got < info.AudioDuration-max(soundShortfall, 2*1024/float64(cmp.Or(info.AudioRate, AudioRate))) {
		declares = append(declares, fmt.Sprintf("%.3f s of sound", info.AudioDuration))
		decoded = append(decoded, fmt.Sprintf("%.3f s", got))
	}
	if len(declares) > 0 {
		msg := fmt.Sprintf("truncated or damaged: the file declares %s but only %s could be decoded",
			strings.Join(declares, " and "), strings.Join(decoded, " and "))
		if why := cmp.Or(videoErr, audioErr); why != "" {
			msg += " (ffmpeg: " + why + ")"
		}
		return nil, errors.New(msg)
	}
	return l.finish(seg), nil
}

// readPCM runs ffmpeg with args to decode s16le sound to its stdout and
// returns the samples, with the last line ffmpeg wrote to stderr. reserved
// bytes are already taken from the budget; a sound longer than declared
// reserves more as it grows, and what is not used is given back.
func (l *loader) readPCM(ctx context.Context, ffmpeg string, args []string, reserved int64) ([]int16, string, error) {
	cmd, out, stderr, err := startTool(ctx, ffmpeg, args...)
	if err != nil {
		return nil, "", err
	}
	defer stopTool(cmd)
	samples := make([]int16, 0, reserved/2)
	buf := make([]byte, 64<<10)
	for {
		n, rerr := io.ReadFull(out, buf)
		n &^= 1
		if grow := int64(len(samples)+n/2)*2 - reserved; grow > 0 {
			if reserved+grow > maxVideoAudio {
				return nil, "", fmt.Errorf("decoded sound over %d MiB", maxVideoAudio>>20)
			}
			grow = max(grow, 1<<20) // reserve in steps, not per block
			if err := l.reserveSound(grow); err != nil {
				return nil, "", err
			}
			reserved += grow
		}
		for i := 0; i < n; i += 2 {
			samples = append(samples, int16(uint16(buf[i])|uint16(buf[i+1])<<8))
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, "", rerr
		}
	}
	if err := waitTool(ctx, cmd, stderr); err != nil {
		return nil, "", err
	}
	l.releaseSound(reserved - int64(len(samples))*2)
	if cap(samples)-len(samples) > cap(samples)/16 {
		samples = slices.Clone(samples) // the file declared more than it had
	}
	return samples, lastLine(stderr.String()), nil
}

// readFrames runs ffmpeg to decode the video's frames at rate and stores
// them; it returns the last line ffmpeg wrote to stderr.
func (l *loader) readFrames(ctx context.Context, ffmpeg, path string, info videoInfo, rate Rate) (string, error) {
	cmd, out, stderr, err := startTool(ctx, ffmpeg, "-nostdin", "-v", "error", "-i", path,
		"-map", "0:v:0", "-fps_mode", "cfr", "-r", rate.String(),
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-")
	if err != nil {
		return "", err
	}
	defer stopTool(cmd)
	var img *image.YCbCr // reused while the store compresses what it gets
	for {
		if img == nil {
			img = image.NewYCbCr(image.Rect(0, 0, info.Width, info.Height), image.YCbCrSubsampleRatio420)
		}
		n, err := io.ReadFull(out, img.Y)
		if err == io.EOF {
			break
		}
		if err == nil {
			_, err = io.ReadFull(out, img.Cb)
		}
		if err == nil {
			_, err = io.ReadFull(out, img.Cr)
		}
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", fmt.Errorf("frame %d: short read from ffmpeg (%d bytes): %w", l.done(), n, err)
		}
		if img, err = l.add(img); err != nil {
			return "", fmt.Errorf("frame %d: %w", l.done(), err)
		}
	}
	if err := waitTool(ctx, cmd, stderr); err != nil {
		return "", err
	}
	return lastLine(stderr.String()), nil
}

// stopTool makes sure a tool's process is gone, whatever happened.
func stopTool(cmd *exec.Cmd) {
	if cmd.ProcessState == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// lastLine is the last non-empty line of s, without the "[h264 @ 0x…] "
// that ffmpeg puts before a component's messages.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	s = s[strings.LastIndexByte(s, '\n')+1:]
	if tag, rest, ok := strings.Cut(s, "] "); ok && strings.HasPrefix(tag, "[") && strings.Contains(tag, " @ 0x") {
		s = rest
	}
	return s
}
