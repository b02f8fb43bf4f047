package tui

import (
	"time"
)

// Relative times for countdowns ("in 2s", "3s ago").
func (m *shared) rel(t time.Time) string {
	d := t.Sub(m.now()).Round(time.Second)
	switch {
	case d > 0:
		return "in " + d.String()
	case d < 0:
		return (-d).String() + " ago"
	}
	return "now"
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
