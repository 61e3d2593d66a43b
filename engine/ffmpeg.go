package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os/exec"
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

// videoInfo is what ffprobe says about a file's first video stream.
type videoInfo struct {
	Width, Height int
	Rate          Rate
	Frames        int // expected, possibly estimated
	HasAudio      bool
	// AudioRate and AudioChannels describe the first audio stream as
	// stored, before ffmpeg converts it to 48 kHz stereo.
	AudioRate, AudioChannels int
}

// ffprobeOutput is the subset of `ffprobe -of json` we read.
type ffprobeOutput struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		RFrameRate   string `json:"r_frame_rate"`
		AvgFrameRate string `json:"avg_frame_rate"`
		NbFrames     string `json:"nb_frames"`
		Duration     string `json:"duration"`
		SampleRate   string `json:"sample_rate"`
		Channels     int    `json:"channels"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
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
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return fmt.Errorf("%s failed: %v: %s", baseTool(cmd.Path), err, msg)
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
		"-show_entries", "stream=codec_type,width,height,r_frame_rate,avg_frame_rate,nb_frames,duration,sample_rate,channels:format=duration",
		"-of", "json", "--", path)
	if err != nil {
		return videoInfo{}, err
	}
	var p ffprobeOutput
	if err := json.Unmarshal(out, &p); err != nil {
		return videoInfo{}, fmt.Errorf("ffprobe output: %w", err)
	}
	var info videoInfo
	found := false
	for _, s := range p.Streams {
		switch {
		case s.CodecType == "audio" && !info.HasAudio:
			info.HasAudio = true
			info.AudioRate, _ = strconv.Atoi(s.SampleRate)
			info.AudioChannels = s.Channels
		case s.CodecType == "video" && !found:
			found = true
			info.Width, info.Height = s.Width, s.Height
			for _, r := range []string{s.RFrameRate, s.AvgFrameRate} {
				if rate, err := ParseRate(r); err == nil {
					info.Rate = rate
					break
				}
			}
			info.Frames, _ = strconv.Atoi(s.NbFrames)
			dur := s.Duration
			if dur == "" || dur == "N/A" {
				dur = p.Format.Duration
			}
			if d, err := strconv.ParseFloat(dur, 64); err == nil && info.Frames == 0 && info.Rate.Num > 0 {
				info.Frames = int(d*info.Rate.FPS() + 0.5)
			}
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

// loadVideo decodes a video file through ffmpeg: sound as 48 kHz stereo
// s16 first, then frames piped as raw yuv420p at a constant rate (ffmpeg
// repeats or drops frames of variable-rate files to keep it).
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
	if info.HasAudio {
		raw, err := runTool(ctx, maxVideoAudio, ffmpeg, "-nostdin", "-v", "error", "-i", path,
			"-map", "0:a:0", "-f", "s16le", "-ac", "2", "-ar", "48000", "-")
		if err != nil {
			return nil, fmt.Errorf("audio: %w", err)
		}
		samples := make([]int16, len(raw)/2)
		for i := range samples {
			samples[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		if len(samples) >= 2 {
			seg.Audio = NewPCM(samples, 2)
			seg.SourceAudioRate, seg.SourceChannels = info.AudioRate, info.AudioChannels
		}
	}
	cmd, out, stderr, err := startTool(ctx, ffmpeg, "-nostdin", "-v", "error", "-i", path,
		"-map", "0:v:0", "-fps_mode", "cfr", "-r", seg.Rate.String(),
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-")
	if err != nil {
		return nil, err
	}
	// Whatever happens below, the process is gone when we return.
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	l.begin(image.Pt(info.Width, info.Height), info.Frames)
	for {
		img := image.NewYCbCr(image.Rect(0, 0, info.Width, info.Height), image.YCbCrSubsampleRatio420)
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
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("frame %d: short read from ffmpeg (%d bytes): %w", l.done(), n, err)
		}
		if err := l.add(img); err != nil {
			return nil, fmt.Errorf("frame %d: %w", l.done(), err)
		}
	}
	if err := waitTool(ctx, cmd, stderr); err != nil {
		return nil, err
	}
	if l.done() == 0 {
		return nil, errors.New("ffmpeg decoded no frames")
	}
	return l.finish(seg), nil
}
