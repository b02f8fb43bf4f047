package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dpl-dev/dpl/executor/task"
)

// The detail pane shows an attempt's progress (Hive statements or
// streaming tasks done, rows written) under the attempt's line.
func TestDetailShowsAttemptProgress(t *testing.T) {
	f := newFake()
	id := "@CopyData_2024-01-01T10:00:00"
	f.atts[id][1].Progress = &task.Progress{Done: 2, Total: 5, Unit: "statements", Rows: 1200, Step: "INSERT OVERWRITE TABLE out SELECT k, count(*) FROM src GROUP BY k"}
	m := New(Options{Source: f, Now: fixedNow, Tick: -1})
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 40})
	m.openDetail(id)
	v := m.View()
	var line string
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "progress  ") {
			line = l
		}
	}
	if !strings.Contains(line, "progress  2/5 statements, 1200 rows written: INSERT") || !strings.Contains(line, "…") {
		t.Fatalf("no progress line cut to the width:\n%s", v)
	}
}
