package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestMidTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"/a/b", 10, "/a/b"},
		{"/work/state/pipelines/df-1/attempts/@Copy_1_Attempt=2/stdout", 30, "/work/state/…_Attempt=2/stdout"},
		{"abcdef", 3, "abc"},
	} {
		if got := midTruncate(c.in, c.w); got != c.want {
			t.Errorf("midTruncate(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
		if got := []rune(midTruncate(c.in, c.w)); len(got) > c.w {
			t.Errorf("midTruncate(%q, %d) is %d wide", c.in, c.w, len(got))
		}
	}
}

// On a narrow terminal a long log path stays on one line, cut in the
// middle with its file name kept; y puts the whole path on the status
// line (and the clipboard).
func TestDetailPathsNotWrapped(t *testing.T) {
	f := newFake()
	id := "@CopyData_2024-01-01T10:00:00"
	long := "/var/lib/dpl/state/pipelines/df-0123456789ABCDEF/attempts/" + id + "_Attempt=2/stdout"
	f.atts[id][1].Stdout = long
	m := New(Options{Source: f, Now: fixedNow, Tick: -1})
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 40})
	m.openDetail(id)
	v := m.View()
	var line string
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "stdout  /var") {
			line = l
		}
	}
	if line == "" || !strings.Contains(line, "…") || !strings.HasSuffix(strings.TrimRight(line, " "), "Attempt=2/stdout") {
		t.Fatalf("the long path is not one line cut in the middle:\n%s", v)
	}
	if strings.Contains(v, "\n"+strings.Repeat(" ", 7)+"Attempt=2/stdout") {
		t.Errorf("the path wrapped:\n%s", v)
	}
	m.Update(keyMsg("y"))
	if !strings.Contains(m.flash, long) {
		t.Errorf("y flashed %q, want the full path %q", m.flash, long)
	}
}
