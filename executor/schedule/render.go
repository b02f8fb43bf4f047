package schedule

import (
	"fmt"
	"io"
	"time"

	"github.com/dpl-dev/dpl/definition"
)

// DefaultCap is how many instances `dpl plan` shows per component with an
// unbounded schedule when no --end or --count is given.
const DefaultCap = 100

// Request is what `dpl plan` asks for.
type Request struct {
	From, To time.Time // window on scheduled starts; zero: the schedules' own bounds
	Count    int       // instances per component; 0: no limit
	Now      time.Time // backfill reference; zero: time.Now()
	// Activation is the (first) activation time for startAt
	// FIRST_ACTIVATION_DATE_TIME and on-demand runs; zero: From, else Now.
	Activation time.Time
	Params     Params // --param overrides
	JSON       bool   // JSON rows with evaluated fields; else the text table
}

// Render plans d (resolved) and streams the instances to w. Notes are
// things to tell the user on stderr: schedule warnings, the cap on
// unbounded schedules, fields that could not be evaluated offline.
func Render(w io.Writer, d *definition.Definition, req Request) (notes []string, err error) {
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	act := req.Activation
	if act.IsZero() {
		act = req.From
	}
	ev := &Evaluator{Def: d, Params: req.Params}
	p, err := Build(d, Options{Activation: act, Now: req.Now, Params: req.Params, Expand: ev.Expand})
	if err != nil {
		return nil, err
	}
	ev.Plan = p
	for _, wn := range p.Warnings {
		notes = append(notes, "warning: "+wn.String())
	}
	win := Window{From: req.From, To: req.To, Limit: req.Count}
	if req.To.IsZero() && req.Count == 0 {
		win.UnboundedLimit = DefaultCap
	}
	it := p.Iter(win)
	seen := map[string]bool{}
	var jw *JSONWriter
	var tw *TextWriter
	if req.JSON {
		jw = NewJSONWriter(w)
	} else {
		tw = NewTextWriter(w)
	}
	for inst, ok := it.Next(); ok; inst, ok = it.Next() {
		if tw != nil {
			if err := tw.Write(inst); err != nil {
				return notes, err
			}
			continue
		}
		fields, errs := ev.Fields(inst)
		for _, e := range errs {
			// One note per component and field, not per instance.
			key := e.Error()
			if len(key) > 0 && !seen[key] {
				seen[key] = true
				notes = append(notes, "note: kept as written: "+key)
			}
		}
		if err := jw.Write(NewRow(inst, fields)); err != nil {
			return notes, err
		}
	}
	if it.Capped() {
		notes = append(notes, fmt.Sprintf("note: unbounded schedule: showing the first %d instances per component (use --end or --count)", DefaultCap))
	}
	if jw != nil {
		return notes, jw.Close()
	}
	return notes, tw.Close()
}
