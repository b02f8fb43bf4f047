package tui

import (
	"strings"
	"testing"
)

// `:` completes commands and the ids they take: tab accepts the first
// match, ↓ moves to the next.
func TestCommandCompletion(t *testing.T) {
	m := New(Options{Source: newFake(), Now: fixedNow, Tick: -1})
	m.Update(keyMsg(":"))
	for _, k := range []string{"o", "p", "tab"} {
		m.Update(keyMsg(k))
	}
	if got := m.input.Value(); got != "open" {
		t.Errorf(":op<tab> = %q, want open", got)
	}
	for _, k := range []string{" ", "@", "C", "o", "p"} {
		m.Update(keyMsg(k))
	}
	if n := len(m.input.MatchedSuggestions()); n != 3 {
		t.Errorf(":open @Cop matches %d suggestions, want the 3 CopyData instances: %v", n, m.input.MatchedSuggestions())
	}
	mustContain(t, m.View(), "tab completes · ↑/↓ 3 matches")
	m.Update(keyMsg("down"))
	m.Update(keyMsg("tab"))
	want := "open @CopyData_2024-01-01T10:00:00"
	if got := m.input.Value(); got != want {
		t.Errorf("second completion = %q, want %q", got, want)
	}
	m.Update(keyMsg("enter"))
	if m.view != viewDetail || m.detail.id != "@CopyData_2024-01-01T10:00:00" {
		t.Errorf("enter on %q: view %d detail %q, want the instance's detail", want, m.view, m.detail.id)
	}
}

// The suggestions of a component verb offer components; the selected
// instance or component comes first.
func TestCommandSuggestionsSelectionFirst(t *testing.T) {
	m := New(Options{Source: newFake(), Now: fixedNow, Tick: -1})
	inst, comp := m.shown().selection(&m.shared)
	sug := m.commandSuggestions()
	first := func(prefix string) string {
		for _, s := range sug {
			if strings.HasPrefix(s, prefix) {
				return s
			}
		}
		return ""
	}
	if got := first("rerun "); got != "rerun "+inst {
		t.Errorf("first rerun suggestion %q, want the selection %q", got, inst)
	}
	if got := first("pause "); got != "pause "+comp {
		t.Errorf("first pause suggestion %q, want the selected component %q", got, comp)
	}
}

// A stored (read-only) run offers no verbs: not in the footer, not in
// `?`, not in the completion.
func TestReadOnlyOffersNoVerbs(t *testing.T) {
	f := newFake()
	f.readOnly = true
	m := New(Options{Source: f, Now: fixedNow, Tick: -1})
	m.Update(keyMsg("2"))
	m.Update(keyMsg("?"))
	help := m.View()
	for _, verb := range []string{"rerun", "mark finished", "pause/resume", "mark (r/c/m"} {
		if strings.Contains(help, verb) {
			t.Errorf("read-only help offers %q:\n%s", verb, help)
		}
	}
	mustContain(t, help, ":open ID", "logs")
	for _, s := range m.commandSuggestions() {
		if isVerb(strings.Fields(s)[0]) {
			t.Fatalf("read-only completion offers %q", s)
		}
	}
}

type remoteFake struct{ *fakeSource }

func (r remoteFake) Info() Info {
	i := r.fakeSource.Info()
	i.Endpoint = "http://127.0.0.1:9"
	return i
}

// Over the API there are no log files: the logs footer offers neither
// stdout/stderr nor follow, L says what it shows, and s says why not.
func TestRemoteFooterOffersWhatWorks(t *testing.T) {
	m := New(Options{Source: remoteFake{newFake()}, Now: fixedNow, Tick: -1})
	m.Update(keyMsg("?"))
	mustContain(t, m.View(), "attempt error (no logs over the API)")
	m.Update(keyMsg("?"))
	m.openLogs("@CopyData_2024-01-01T10:00:00", -1)
	v := m.View()
	footer := v[strings.LastIndex(v, "\n")+1:]
	for _, k := range []string{"stdout/stderr", "follow"} {
		if strings.Contains(footer, k) {
			t.Errorf("remote logs footer offers %q: %s", k, footer)
		}
	}
	m.Update(keyMsg("s"))
	mustContain(t, m.View(), "no log files")
}

// enter on a component with several instances opens its row of the
// instances grid (the current instance selected), not silently one of
// them; with one instance it opens that instance.
func TestEnterOnComponentOpensInstances(t *testing.T) {
	m := New(Options{Source: newFake(), Now: fixedNow, Tick: -1})
	m.graph.sel = m.graph.gv.byComp[m.compIdx["CopyData"]]
	m.Update(keyMsg("enter"))
	if m.view != viewGrid || m.comps[m.grid.rows[m.grid.row]].ID != "CopyData" {
		t.Fatalf("enter on CopyData: view %d, grid row %d; want the instances grid on CopyData", m.view, m.grid.row)
	}
	mustContain(t, m.View(), "CopyData: 3 instances — enter opens one")
	cur := m.insts[m.compCur[m.compIdx["CopyData"]]].ID
	if inst, _ := m.shown().selection(&m.shared); inst != cur {
		t.Errorf("grid selection %q, want the current instance %q", inst, cur)
	}
	m.Update(keyMsg("enter"))
	if m.view != viewDetail || m.detail.id != cur {
		t.Errorf("enter in the grid: view %d detail %q, want the detail of %q", m.view, m.detail.id, cur)
	}
}
