package tui

import (
	"fmt"
	"strings"

	"github.com/dpl-dev/dpl/executor"
)

// Words is how an event line names statuses.
type Words int

const (
	// ServiceWords are the service's names (CASCADE_FAILED), for dpl run's
	// and dpl events' text output that scripts read.
	ServiceWords Words = iota
	// GlyphWords are the view's glyph and word ("↯ cascade-failed"), which
	// read without colour.
	GlyphWords
)

func (w Words) status(s executor.Status) string {
	if w == GlyphWords {
		return statusText(s)
	}
	return string(s)
}

// width is the status column's: the longest status name.
func (w Words) width() int {
	if w == GlyphWords {
		return 15
	}
	return len(executor.WaitingOnDependencies)
}

func (w Words) attempt(s executor.Status) string {
	if w == GlyphWords {
		return "attempt " + lookOf(s).word
	}
	return "attempt " + strings.ToLower(string(s))
}

// EventLine is an event as one line — the one formatter of the TUI's
// events pane and of dpl run's and dpl events' text output. It is "" for
// events with nothing to say (log locations, a waiting event without a
// message).
func EventLine(ev executor.Event, w Words) string {
	ts := ev.Time.UTC().Format("15:04:05")
	col := func(what, rest string) string { return fmt.Sprintf("%s  %-*s %s", ts, w.width(), what, rest) }
	switch ev.Kind {
	case executor.EventRun:
		return col("run", ev.Message)
	case executor.EventStatus:
		line := col(w.status(ev.Status), ev.Instance)
		if ev.Error != "" {
			line += ": " + ev.Error
		}
		return line
	case executor.EventWaiting:
		if ev.Message != "" {
			return col("waiting", ev.Instance+": "+ev.Message)
		}
	case executor.EventAlarm:
		alarm := "ALARM"
		if w == GlyphWords {
			alarm = "⚑ ALARM"
		}
		return col(alarm, fmt.Sprintf("%s for %s → %s: %s — %s", ev.Object, ev.Node, ev.TopicArn, ev.Subject, ev.Message))
	case executor.EventAction:
		if ev.Object == "" { // an operator command
			target := ev.Instance
			if target == "" {
				target = ev.Component
			}
			return col("command", target+": "+ev.Message)
		}
		if ev.Error != "" {
			return col("action", ev.Object+": "+ev.Error)
		}
		return col("action", fmt.Sprintf("%s on %s: %s", ev.Object, ev.Node, ev.Message))
	case executor.EventNext:
		return col("next", strings.TrimPrefix(ev.Message, "next: "))
	case executor.EventProgress:
		return col("progress", ev.Attempt+": "+ev.Message)
	case executor.EventAttempt:
		line := col(w.attempt(ev.Status), ev.Attempt)
		switch {
		case ev.Error != "":
			line += ": " + ev.Error
		case ev.Message != "":
			line += ": " + ev.Message
		}
		return line
	}
	return ""
}

// Notable reports whether a headless run prints ev without --verbose: the
// run's start and end, every attempt's end, failures, alarms and actions
// — not every WAITING or RUNNING transition.
func Notable(ev executor.Event) bool {
	switch ev.Kind {
	case executor.EventRun, executor.EventAlarm, executor.EventAction, executor.EventNext:
		return true
	case executor.EventAttempt:
		return ev.Status.Terminal()
	case executor.EventStatus:
		return ev.Status.Bad()
	}
	return false
}

// Family is the name shared by sibling components that differ only in a
// number ("Task017" → "Task*"); "" for an id without one. Views collapse
// a family of identical siblings into one line.
func Family(id string) string {
	end := len(id)
	for end > 0 && id[end-1] >= '0' && id[end-1] <= '9' {
		end--
	}
	if end == len(id) || end == 0 {
		return ""
	}
	// "Load_2", "Load-2": the separator belongs to the family.
	return id[:end] + "*"
}
