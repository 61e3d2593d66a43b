package engine

import (
	"fmt"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Rate is a rational frame rate Num/Den frames per second (30/1,
// 30000/1001…). Frame times are computed from the frame number with
// integer arithmetic, never by adding a rounded step.
type Rate struct {
	Num int64
	Den int64
}

// Common rates.
var (
	Rate25    = Rate{25, 1}
	Rate30    = Rate{30, 1}
	Rate2997  = Rate{30000, 1001}
	Rate23976 = Rate{24000, 1001}
	Rate60    = Rate{60, 1}
)

// maxRate bounds what ParseRate accepts; beyond it frame times are below a
// millisecond and something is wrong with the input.
const maxRate = 1000

// ParseRate reads "30", "30000/1001" or a decimal such as "29.97" (taken
// as the NTSC rate 30000/1001 when it is one, else as an exact decimal).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	var r Rate
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		d, err2 := strconv.ParseInt(strings.TrimSpace(den), 10, 64)
		if err1 != nil || err2 != nil {
			return Rate{}, fmt.Errorf("frame rate %q: want N or N/D with integers", s)
		}
		r = Rate{n, d}
	} else {
		x, ok := new(big.Rat).SetString(s)
		if !ok {
			return Rate{}, fmt.Errorf("frame rate %q: not a number", s)
		}
		for _, ntsc := range []int64{24, 30, 60} {
			// 23.976, 29.97, 59.94 written with two or three decimals.
			approx := new(big.Rat).SetFrac64(ntsc*1000, 1001)
			if d := new(big.Rat).Sub(x, approx); d.Abs(d).Cmp(big.NewRat(1, 100)) < 0 && !x.IsInt() {
				x = approx
			}
		}
		if !x.Num().IsInt64() || !x.Denom().IsInt64() {
			return Rate{}, fmt.Errorf("frame rate %q: too precise", s)
		}
		r = Rate{x.Num().Int64(), x.Denom().Int64()}
	}
	if err := r.Valid(); err != nil {
		return Rate{}, fmt.Errorf("frame rate %q: %w", s, err)
	}
	return r.reduced(), nil
}

// Valid reports whether r is a usable frame rate.
func (r Rate) Valid() error {
	if r.Num <= 0 || r.Den <= 0 {
		return fmt.Errorf("must be positive")
	}
	if r.Num > maxRate*r.Den {
		return fmt.Errorf("above %d fps", maxRate)
	}
	if r.Den > 1_000_000 {
		return fmt.Errorf("denominator above 1000000")
	}
	return nil
}

func (r Rate) reduced() Rate {
	a, b := r.Num, r.Den
	for b != 0 {
		a, b = b, a%b
	}
	return Rate{r.Num / a, r.Den / a}
}

func (r Rate) String() string {
	if r.Den == 1 {
		return strconv.FormatInt(r.Num, 10)
	}
	return fmt.Sprintf("%d/%d", r.Num, r.Den)
}

// FPS is the rate as a float, for display only.
func (r Rate) FPS() float64 { return float64(r.Num) / float64(r.Den) }

// muldiv returns floor(a·b/c) for a, b, c ≥ 0 without overflowing the
// product (it is held in 128 bits). The quotient must fit in 63 bits.
func muldiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// FrameNS is the media time of frame k in nanoseconds: floor(k·1e9·den/num).
func (r Rate) FrameNS(k int64) int64 { return muldiv(k, 1e9*r.Den, r.Num) }

// FrameRTP is frame k's RTP timestamp on the 90 kHz video clock,
// floor(k·90000·den/num), wrapping to 32 bits as RTP does.
func (r Rate) FrameRTP(k int64) uint32 { return uint32(muldiv(k, 90000*r.Den, r.Num)) }

// FrameAt is the latest frame whose media time is at or before t (ns),
// or -1 for t < 0.
func (r Rate) FrameAt(t int64) int64 {
	if t < 0 {
		return -1
	}
	// floor(k·1e9·den/num) ≤ t ⇔ k·1e9·den < (t+1)·num
	// ⇔ k ≤ floor(((t+1)·num − 1) / (1e9·den)).
	hi, lo := bits.Mul64(uint64(t+1), uint64(r.Num))
	lo, borrow := bits.Sub64(lo, 1, 0)
	hi -= borrow
	q, _ := bits.Div64(hi, lo, uint64(1e9*r.Den))
	return int64(q)
}

// FramesIn is the number of frames whose media time is before d (ns).
func (r Rate) FramesIn(d int64) int64 {
	if d <= 0 {
		return 0
	}
	return r.FrameAt(d-1) + 1
}
