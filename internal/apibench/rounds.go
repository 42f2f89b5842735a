package apibench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Rounds is a run of every case several times over, each round on fresh
// data directories, and each figure summed up across the rounds. On a
// machine whose speed drifts within minutes, one round's figure says
// more about the moment than about the server; the median of several,
// measured in one run, says less about the moment.
type Rounds struct {
	Rounds  []*Report     `json:"rounds"`
	Figures []RoundFigure `json:"figures"`
}

// RoundFigure is one figure of the goals in every round, and its median.
type RoundFigure struct {
	Backend string    `json:"backend"`
	Name    string    `json:"name"`
	Unit    string    `json:"unit,omitempty"`
	Values  []float64 `json:"values"`
	Median  float64   `json:"median"`
	Goal    string    `json:"goal,omitempty"`
	// Met tells whether the median meets the goal; RoundsMet, in how many
	// rounds the figure did. Both nil for figures without a goal.
	Met       *bool `json:"met,omitempty"`
	RoundsMet *int  `json:"roundsMet,omitempty"`
	bound     *goal
}

// RunRounds runs Run n times and sums up its figures; it stops at the
// first round that fails, returning the rounds so far.
func RunRounds(ctx context.Context, cfg Config, n int) (*Rounds, error) {
	if n < 1 {
		return nil, fmt.Errorf("rounds %d: must be at least 1", n)
	}
	out := &Rounds{}
	for i := range n {
		cfg.progress("round %d of %d", i+1, n)
		rep, err := Run(ctx, cfg)
		if rep != nil {
			out.Rounds = append(out.Rounds, rep)
		}
		if err != nil {
			out.Figures = summarize(out.Rounds)
			return out, fmt.Errorf("round %d: %w", i+1, err)
		}
	}
	out.Figures = summarize(out.Rounds)
	return out, nil
}

// summarize gathers each backend's figures across rounds, in the order of
// the first round that has them. A figure whose name holds a case's name
// (the slowest jump) is the same figure in every round whatever that name.
func summarize(rounds []*Report) []RoundFigure {
	var out []RoundFigure
	index := map[string]int{}
	for _, rep := range rounds {
		for _, br := range rep.Backends {
			for _, r := range br.Ratios {
				key := br.Backend + "\x00" + figureKey(r.Name)
				i, ok := index[key]
				if !ok {
					i = len(out)
					index[key] = i
					out = append(out, RoundFigure{Backend: br.Backend, Name: figureKey(r.Name), Unit: r.Unit, Goal: r.Goal, bound: r.bound})
					if r.bound != nil {
						out[i].RoundsMet = new(int)
					}
				}
				out[i].Values = append(out[i].Values, r.Value)
				if r.Met != nil && *r.Met && out[i].RoundsMet != nil {
					*out[i].RoundsMet++
				}
			}
		}
	}
	for i := range out {
		f := &out[i]
		f.Median = median(slices.Sorted(slices.Values(f.Values)))
		r := Ratio{Value: f.Median, Unit: f.Unit}
		f.bound.apply(&r)
		f.Met = r.Met
	}
	return out
}

// figureKey drops the name of the slowest case from a figure's name,
// "list p99, slowest jump to a page (list page 1), 8 clients" becoming
// "list p99, slowest jump to a page, 8 clients".
func figureKey(name string) string {
	open := strings.Index(name, " (")
	end := strings.Index(name, "),")
	if open < 0 || end < open {
		return name
	}
	return name[:open] + name[end+1:]
}

// Print writes every round's report, then one table of the figures: each
// round's value, the median, and whether the median and how many rounds
// met the goal.
func (r *Rounds) Print(w io.Writer) {
	for i, rep := range r.Rounds {
		fmt.Fprintf(w, "## Round %d of %d\n\n", i+1, len(r.Rounds))
		rep.Print(w)
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "## Every round\n\n| backend | figure | each round | median | goal | median met | rounds met |\n|---|---|---|---|---|---|---|\n")
	for _, f := range r.Figures {
		values := make([]string, len(f.Values))
		for i, v := range f.Values {
			values[i] = formatValue(v, f.Unit)
		}
		met, rounds := "", ""
		if f.Met != nil {
			met = map[bool]string{true: "yes", false: "no"}[*f.Met]
		}
		if f.RoundsMet != nil {
			rounds = fmt.Sprintf("%d of %d", *f.RoundsMet, len(f.Values))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", f.Backend, f.Name, strings.Join(values, " / "), formatValue(f.Median, f.Unit), f.Goal, met, rounds)
	}
}
