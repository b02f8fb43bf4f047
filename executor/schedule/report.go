package schedule

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one instance as `dpl plan --output json` prints it.
type Row struct {
	ID             string         `json:"@id"`
	Component      string         `json:"@componentParent"`
	ScheduledStart string         `json:"@scheduledStartTime"`
	ScheduledEnd   string         `json:"@scheduledEndTime"`
	RunnableAt     string         `json:"runnableAt"`
	WaitsOn        []string       `json:"waitsOn"`
	RunsOn         *string        `json:"runsOn"`
	Fields         map[string]any `json:"fields"` // string, or []string for lists
}

// NewRow renders an instance and its evaluated fields.
func NewRow(inst Instance, fields []FieldValue) Row {
	r := Row{
		ID:             inst.ID,
		Component:      inst.Component,
		ScheduledStart: inst.Start.Format(TimeLayout),
		ScheduledEnd:   inst.End.Format(TimeLayout),
		RunnableAt:     inst.RunnableAt.Format(TimeLayout),
		WaitsOn:        append([]string{}, inst.WaitsOn...),
		Fields:         make(map[string]any, len(fields)),
	}
	if inst.RunsOn != "" {
		r.RunsOn = &inst.RunsOn
	}
	for _, f := range fields {
		if f.List {
			r.Fields[f.Key] = append([]string{}, f.Values...)
		} else if len(f.Values) > 0 {
			r.Fields[f.Key] = f.Values[0]
		} else {
			r.Fields[f.Key] = ""
		}
	}
	return r
}

// JSONWriter streams rows as one JSON array, so that a long plan is never
// held in memory.
type JSONWriter struct {
	w   io.Writer
	n   int
	err error
}

// NewJSONWriter starts an array on w.
func NewJSONWriter(w io.Writer) *JSONWriter { return &JSONWriter{w: w} }

// Write appends one row.
func (j *JSONWriter) Write(r Row) error {
	if j.err != nil {
		return j.err
	}
	b, err := json.MarshalIndent(r, "  ", "  ")
	if err != nil {
		j.err = fmt.Errorf("encoding %s: %w", r.ID, err)
		return j.err
	}
	sep := ",\n  "
	if j.n == 0 {
		sep = "[\n  "
	}
	j.n++
	if _, err := io.WriteString(j.w, sep); err != nil {
		j.err = err
		return err
	}
	_, j.err = j.w.Write(b)
	return j.err
}

// Close ends the array.
func (j *JSONWriter) Close() error {
	if j.err != nil {
		return j.err
	}
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, j.err = io.WriteString(j.w, end)
	return j.err
}

// TextWriter prints a table of instances grouped by the time they become
// runnable: one header per runnable time, one aligned line per instance.
type TextWriter struct {
	w     io.Writer
	tw    *tabwriter.Writer
	group time.Time
	n     int
}

// NewTextWriter prints to w; backfill instances (runnable before now, on
// a schedule that does not start at the activation) are marked.
func NewTextWriter(w io.Writer) *TextWriter {
	return &TextWriter{w: w}
}

// Write adds one instance.
func (t *TextWriter) Write(inst Instance) error {
	if t.n == 0 || !inst.RunnableAt.Equal(t.group) {
		if err := t.flush(); err != nil {
			return err
		}
		note := ""
		if inst.Backfill {
			note = "  (backfill: runnable at once)"
		}
		sep := "\n"
		if t.n == 0 {
			sep = ""
		}
		if _, err := fmt.Fprintf(t.w, "%srunnable %s%s\n", sep, inst.RunnableAt.Format(TimeLayout), note); err != nil {
			return err
		}
		t.group = inst.RunnableAt
		t.tw = tabwriter.NewWriter(t.w, 0, 4, 2, ' ', 0)
	}
	t.n++
	runsOn := "-"
	if inst.RunsOn != "" {
		runsOn = inst.RunsOn
	}
	waits := "-"
	if len(inst.WaitsOn) > 0 {
		waits = strings.Join(inst.WaitsOn, " ")
	}
	_, err := fmt.Fprintf(t.tw, "  %s\t%s .. %s\truns on %s\twaits on %s\n", inst.ID,
		inst.Start.Format(TimeLayout), inst.End.Format(TimeLayout), runsOn, waits)
	return err
}

func (t *TextWriter) flush() error {
	if t.tw == nil {
		return nil
	}
	return t.tw.Flush()
}

// Close flushes the table and prints the count.
func (t *TextWriter) Close() error {
	if err := t.flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(t.w, "\n%d instance(s)\n", t.n)
	return err
}
