package apibench

import (
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per doubling
// of the latency, so that a recorded value is off by at most 1/64 (1.6 %).
const subBits = 6

// histogram counts latencies in log-linear buckets, HDR-style: memory
// stays fixed (a few thousand counters) however long a case runs.
type histogram struct {
	counts []uint64
	n      uint64
	max    time.Duration
}

func newHistogram() *histogram { return &histogram{counts: make([]uint64, 64<<subBits)} }

func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1
	return (e+1)<<subBits + int(v>>e) - 1<<subBits
}

// upperBound is the largest latency bucket i holds.
func upperBound(i int) time.Duration {
	if i < 1<<subBits {
		return time.Duration(i)
	}
	e := i>>subBits - 1
	m := uint64(i&(1<<subBits-1) + 1<<subBits)
	return time.Duration((m+1)<<e - 1)
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile is the latency that a fraction q of the recorded ones do not
// exceed, to the bucket's precision and never above the maximum.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(upperBound(i), h.max)
		}
	}
	return h.max
}
