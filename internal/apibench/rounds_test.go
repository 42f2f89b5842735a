package apibench

import (
	"testing"
)

func TestSummarize(t *testing.T) {
	round := func(rate, jump float64, jumpCase string) *Report {
		creates := Ratio{Name: "creates/s, 8 clients", Value: rate, Unit: "/s"}
		atLeast(2000).apply(&creates)
		return &Report{Backends: []*BackendReport{{Backend: "sqlite", Ratios: []Ratio{
			creates,
			{Name: "list p99, slowest jump to a page (" + jumpCase + "), 1 client", Value: jump, Unit: "ms"},
		}}}}
	}
	got := summarize([]*Report{
		round(2100, 4, "list page 1"),
		round(1500, 6, "list page 200 (last)"),
		round(2050, 5, "list page 1"),
	})
	if len(got) != 2 {
		t.Fatalf("%d figures, want 2: %+v", len(got), got)
	}
	creates, jump := got[0], got[1]
	if creates.Median != 2050 || creates.Met == nil || !*creates.Met || creates.RoundsMet == nil || *creates.RoundsMet != 2 {
		t.Errorf("creates: median %g, met %v, in %v rounds; want 2050, met, in 2", creates.Median, creates.Met, creates.RoundsMet)
	}
	if jump.Name != "list p99, slowest jump to a page, 1 client" || jump.Median != 5 || jump.Met != nil || jump.RoundsMet != nil {
		t.Errorf("jump: %+v, want one figure whatever the slowest case, median 5, no goal", jump)
	}
}

func TestFigureKey(t *testing.T) {
	for name, want := range map[string]string{
		"list p99, slowest jump to a page (list page 100 (middle)), 8 clients": "list p99, slowest jump to a page, 8 clients",
		"list p99, slowest jump to a page (list page 1), 1 client":             "list p99, slowest jump to a page, 1 client",
		"GET bearer ÷ bare read, 1 client":                                     "GET bearer ÷ bare read, 1 client",
		"serve ready on an empty data directory, median":                       "serve ready on an empty data directory, median",
	} {
		if got := figureKey(name); got != want {
			t.Errorf("figureKey(%q) = %q, want %q", name, got, want)
		}
	}
}
