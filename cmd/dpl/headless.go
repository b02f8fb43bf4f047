package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/term"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/tui"
)

// progressOptions say how dpl run prints progress without the view.
type progressOptions struct {
	format    string // text or jsonl
	verbose   bool   // text: every status change
	parallel  int
	instances int // instances known when the run started
}

// printEvents writes progress. jsonl: one JSON object per event. text:
// one line per attempt end and per failure (every status change with
// verbose); on a terminal a live status line at the bottom, redrawn in
// place, with the event lines printed above it.
func printEvents(stdout, stderr io.Writer, events <-chan executor.Event, o progressOptions) {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	var live *liveStatus
	if o.format == "text" && isTerminal(stderr) {
		live = newLiveStatus(stderr, o.instances)
	}
	var tick <-chan time.Time
	if live != nil {
		t := time.NewTicker(time.Second) // the elapsed clock; the run's end stops it
		defer t.Stop()
		tick = t.C
	}
	wrote := false
	for {
		var ev executor.Event
		var ok bool
		select {
		case ev, ok = <-events:
		case <-tick:
			live.draw()
			continue
		}
		if !ok {
			break
		}
		if o.format == "jsonl" {
			b, _ := ev.MarshalJSON()
			out.Write(append(b, '\n'))
		} else if o.verbose || tui.Notable(ev) {
			if line := tui.EventLine(ev, tui.ServiceWords); line != "" {
				if live != nil && !wrote {
					live.clear()
				}
				out.WriteString(line + "\n")
				wrote = true
			}
		}
		if live != nil {
			live.add(ev)
		}
		if len(events) == 0 {
			out.Flush()
			if live != nil {
				live.draw()
			}
			wrote = false
		}
	}
	out.Flush()
	if live != nil {
		live.clear()
	}
}

// liveStatus is the status line of a headless run on a terminal: counts
// per status, what runs, elapsed time and an estimate of the rest.
type liveStatus struct {
	w       io.Writer
	fd      int
	started time.Time
	known   int
	status  map[string]executor.Status // by instance
	shown   bool
}

func newLiveStatus(w io.Writer, known int) *liveStatus {
	l := &liveStatus{w: w, fd: -1, started: time.Now(), known: known, status: map[string]executor.Status{}}
	if f, ok := w.(*os.File); ok {
		l.fd = int(f.Fd())
	}
	return l
}

func (l *liveStatus) add(ev executor.Event) {
	if ev.Kind == executor.EventStatus && ev.Instance != "" {
		l.status[ev.Instance] = ev.Status
	}
}

// clear erases the status line so that event lines start at column 0.
func (l *liveStatus) clear() {
	if l.shown {
		fmt.Fprint(l.w, "\r\033[K")
		l.shown = false
	}
}

func (l *liveStatus) draw() {
	width := 80
	if l.fd >= 0 {
		if w, _, err := term.GetSize(l.fd); err == nil && w > 0 {
			width = w
		}
	}
	// One cell short of the width: a full line would wrap on some
	// terminals and \r would then redraw only its second half.
	fmt.Fprint(l.w, "\r\033[K"+ansi.Truncate(l.line(time.Now()), width-1, "…"))
	l.shown = true
}

// line is the status line's text at now.
func (l *liveStatus) line(now time.Time) string {
	counts := map[executor.Status]int{}
	var running []string
	for id, s := range l.status {
		counts[s]++
		if s == executor.Running {
			running = append(running, id)
		}
	}
	sort.Strings(running)
	total := max(l.known, len(l.status))
	done := 0
	for s, n := range counts {
		if s.Terminal() {
			done += n
		}
	}
	var parts []string
	if n := len(running); n > 0 {
		names := running[:min(n, 2)]
		more := ""
		if n > 2 {
			more = fmt.Sprintf(" +%d", n-2)
		}
		parts = append(parts, fmt.Sprintf("%d running (%s%s)", n, strings.Join(names, ", "), more))
	}
	for _, s := range []executor.Status{executor.Failed, executor.CascadeFailed, executor.TimedOut, executor.Canceled,
		executor.WaitingForRunner, executor.WaitingOnDependencies, executor.Finished} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], strings.ToLower(string(s))))
		}
	}
	elapsed := now.Sub(l.started)
	clock := fmt.Sprintf("%d/%d done · %s", done, total, shortDuration(elapsed))
	if done > 0 && total > done {
		eta := time.Duration(float64(elapsed) / float64(done) * float64(total-done))
		clock += " · ETA " + shortDuration(eta)
	}
	return strings.Join(append([]string{clock}, parts...), " · ")
}

// shortDuration is 5s, 1m05s or 2h03m.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// summaryOrder lists statuses in the summary: what needs attention first.
var summaryOrder = []executor.Status{
	executor.Failed, executor.CascadeFailed, executor.TimedOut, executor.Canceled,
	executor.Running, executor.Creating, executor.WaitingForRunner, executor.WaitingOnDependencies,
	executor.Paused, executor.ShuttingDown, executor.Finished, executor.Skipped,
}

// minFamily is the number of siblings (Task001, Task002, ...) from which
// the short summary shows them as one row.
const minFamily = 3

// printSummary writes the run's outcome: instances counted per component
// (siblings that differ by a number in one row) and the instances that
// failed; full lists every component and every instance.
func printSummary(w io.Writer, s *executor.Summary, full bool) {
	type row struct {
		name   string
		comps  int
		n      int
		counts map[executor.Status]int
	}
	family := map[string]map[string]bool{}
	for _, i := range s.Instances {
		if f := tui.Family(i.Component); f != "" {
			if family[f] == nil {
				family[f] = map[string]bool{}
			}
			family[f][i.Component] = true
		}
	}
	rows := map[string]*row{}
	var names []string
	for _, i := range s.Instances {
		name := i.Component
		if f := tui.Family(name); !full && f != "" && len(family[f]) >= minFamily {
			name = f
		}
		r := rows[name]
		if r == nil {
			r = &row{name: name, counts: map[executor.Status]int{}}
			if name != i.Component {
				r.comps = len(family[name])
			}
			rows[name] = r
			names = append(names, name)
		}
		r.n++
		r.counts[executor.Status(i.Status)]++
	}
	sort.Strings(names)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tINSTANCES\tSTATUS")
	for _, name := range names {
		r := rows[name]
		label := r.name
		if r.comps > 0 {
			label = fmt.Sprintf("%s (%d components)", r.name, r.comps)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", label, r.n, statusCounts(r.counts))
	}
	tw.Flush()

	var listed []runstore.Instance
	cascades := map[string]int{}
	var cascadeFrom []string
	for _, i := range s.Instances {
		st := executor.Status(i.Status)
		switch {
		case full:
			listed = append(listed, i)
		case st == executor.CascadeFailed && i.CascadeFrom != "":
			// One line per failure that cascaded, not one per victim.
			if cascades[i.CascadeFrom] == 0 {
				cascadeFrom = append(cascadeFrom, i.CascadeFrom)
			}
			cascades[i.CascadeFrom]++
		case st.Bad():
			listed = append(listed, i)
		}
	}
	if len(listed) > 0 || len(cascades) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "INSTANCE\tSTATUS\tATTEMPTS\tERROR")
		for _, i := range listed {
			msg := i.ErrorMessage
			if i.CascadeFrom != "" {
				msg = "cascade from " + i.CascadeFrom
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", i.ID, i.Status, i.Attempts, oneLine(msg))
		}
		for _, from := range cascadeFrom {
			n := cascades[from]
			fmt.Fprintf(tw, "%d %s\t%s\t\tcascade from %s\n", n, plural(n, "instance"), executor.CascadeFailed, from)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	if s.OK {
		fmt.Fprintf(w, "run %d of %s finished: %d instances\n", s.Activation, s.PipelineID, len(s.Instances))
	} else {
		fmt.Fprintf(w, "run %d of %s did not finish: %s\n", s.Activation, s.PipelineID, s.Reason)
	}
}

func statusCounts(c map[executor.Status]int) string {
	var parts []string
	for _, st := range summaryOrder {
		if c[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[st], st))
		}
	}
	for st, n := range c { // a status not in the order (never expected)
		if !slices.Contains(summaryOrder, st) {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
