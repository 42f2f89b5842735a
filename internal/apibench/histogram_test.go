package apibench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The histogram's quantiles are those of the sorted latencies, to its
// precision (1/64), however they spread.
func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h, other := newHistogram(), newHistogram()
	var all []time.Duration
	for i := range 100000 {
		// From a microsecond to a second, log-uniform.
		d := time.Duration(float64(time.Microsecond) * math.Pow(10, rng.Float64()*6))
		all = append(all, d)
		if i%2 == 0 {
			h.record(d)
		} else {
			other.record(d)
		}
	}
	h.merge(other)
	slices.Sort(all)
	if h.n != uint64(len(all)) || h.max != all[len(all)-1] {
		t.Fatalf("count %d, max %v; want %d, %v", h.n, h.max, len(all), all[len(all)-1])
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := all[int(q*float64(len(all)))-1]
		got := h.quantile(q)
		if got < want || float64(got-want) > float64(want)/64+1 {
			t.Errorf("quantile %v = %v, want %v within 1/64 above", q, got, want)
		}
	}
}

// Every latency falls in a bucket whose bounds hold it.
func TestHistogramBuckets(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 63, 64, 65, 127, 128, 129, 1000, 123456789, 3 * time.Hour} {
		i := bucketOf(d)
		if upperBound(i) < d || i > 0 && upperBound(i-1) >= d {
			t.Errorf("%v in bucket %d of bounds (%v, %v]", d, i, upperBound(i-1), upperBound(i))
		}
	}
}
