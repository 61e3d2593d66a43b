package share

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// pageSample is the page's stats beside the host's CPU steal since the
// sample before (percent of all CPU time; NaN where /proc/stat is not
// readable).
type pageSample struct {
	st    rtctest.PageStats
	steal float64
}

// watchPage reads the page's stats every second (the page refreshes them
// once a second) until ctx ends.
func watchPage(ctx, page context.Context, b testing.TB) []pageSample {
	var all []pageSample
	s0, t0 := cpuSteal()
	for start, i := time.Now(), 1; ctx.Err() == nil; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second)))
		st, err := rtctest.ReadStats(page)
		if err != nil {
			b.Errorf("page stats: %v", err)
			break
		}
		s1, t1 := cpuSteal()
		all = append(all, pageSample{st, 100 * float64(s1-s0) / float64(t1-t0)})
		s0, t0 = s1, t1
	}
	return all
}

// cpuSteal is the steal and total jiffies of /proc/stat's cpu line (0, 0
// where it cannot be read).
func cpuSteal() (steal, total uint64) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0
	}
	fields := strings.Fields(sc.Text()) // cpu user nice system idle iowait irq softirq steal ...
	for i, v := range fields[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		total += n
		if i == 7 {
			steal = n
		}
	}
	return steal, total
}

// explainFreezes logs, for each second in which the page's freeze count
// rose, what the sender did in the two seconds up to it: its longest gap
// between video frames written and the frames the loop skipped (sequence
// gaps), and the host's steal. A freeze (Chrome: a frame shown ≥ 183 ms
// at 30 fps) with frames written on time beside it happened in the
// browser. Returns how many freezes had a sender gap of 150 ms or more.
func explainFreezes(b testing.TB, samples []pageSample, video []rtc.SentItem) (senderCaused int) {
	for i := 1; i < len(samples); i++ {
		n := samples[i].st.FreezeCount - samples[i-1].st.FreezeCount
		if n <= 0 {
			continue
		}
		to := time.UnixMilli(samples[i].st.Updated)
		from := to.Add(-2 * time.Second)
		var gap time.Duration
		var skipped int64
		var prev *rtc.SentItem
		for j := range video {
			v := &video[j]
			if v.Wall.Before(from) || v.Wall.After(to) {
				continue
			}
			if prev != nil {
				gap = max(gap, v.Wall.Sub(prev.Wall))
				skipped += max(v.Seq-prev.Seq-1, 0)
			}
			prev = v
		}
		if gap >= 150*time.Millisecond {
			senderCaused += n
		}
		b.Logf("%d freeze(s) seen at %s: in the 2 s before, the sender's longest gap between frames written %v, %d frames skipped; host steal %.1f %% then, %.1f %% the second before",
			n, to.Format("15:04:05.000"), gap.Round(time.Millisecond), skipped, samples[i].steal, samples[i-1].steal)
	}
	return senderCaused
}

// describeSteal sums up the host's steal over the samples.
func describeSteal(samples []pageSample) string {
	var sum, top float64
	for _, s := range samples {
		sum += s.steal
		top = max(top, s.steal)
	}
	return fmt.Sprintf("host steal mean %.1f %%, worst second %.1f %%", sum/float64(max(len(samples), 1)), top)
}

// logSenderGaps logs every gap of least or longer between video frames
// written, with the host's steal in the second it ended in.
func logSenderGaps(b testing.TB, video []rtc.SentItem, samples []pageSample, least time.Duration) {
	for j := 1; j < len(video); j++ {
		gap := video[j].Wall.Sub(video[j-1].Wall)
		if gap < least {
			continue
		}
		steal := "?"
		for _, s := range samples {
			if !time.UnixMilli(s.st.Updated).Before(video[j].Wall) {
				steal = fmt.Sprintf("%.1f %%", s.steal)
				break
			}
		}
		b.Logf("sender gap %v ending %s (frames %d→%d, due %v late): host steal %s",
			gap.Round(time.Millisecond), video[j].Wall.Format("15:04:05.000"), video[j-1].Seq, video[j].Seq,
			(video[j].Wrote - video[j].Deadline).Round(time.Millisecond), steal)
	}
}
