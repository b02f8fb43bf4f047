package tui

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Pipelines at the sizes operators drive: a 500-activity fan-in, a
// 40-step chain, a 48-node DAG.

func pipelineJSON(t *testing.T, objs []map[string]any) string {
	t.Helper()
	all := append([]map[string]any{{"id": "Default", "name": "Default", "scheduleType": "ondemand", "workerGroup": "local"}}, objs...)
	b, err := json.Marshal(map[string]any{"objects": all})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func shellActivity(id string, deps ...string) map[string]any {
	o := map[string]any{"id": id, "name": id, "type": "ShellCommandActivity", "command": "true"}
	if len(deps) > 0 {
		var refs []map[string]string
		for _, d := range deps {
			refs = append(refs, map[string]string{"ref": d})
		}
		o["dependsOn"] = refs
	}
	return o
}

// summaryLine is the graph pane's last body line: the selected node.
var summaryRE = regexp.MustCompile(`(?m)^(\S+) · ShellCommandActivity`)

func selected(screen string) string {
	m := summaryRE.FindAllStringSubmatch(screen, -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][1]
}

// runFinished starts dpl run on the pipeline in a w×h terminal and waits
// for the end of the run.
func runFinished(t *testing.T, tm *term, session string, w, h int, def string, n int) {
	t.Helper()
	tm.write(session+".json", def)
	tm.start(session, w, h, fmt.Sprintf("./dpl run --state-dir st-%s %s.json", session, session))
	tm.waitFor(session, "the run to finish", 180*time.Second, screenHas(fmt.Sprintf("finished: %d instances", n)))
}

func waitSelected(t *testing.T, tm *term, session, want string) string {
	t.Helper()
	return tm.waitFor(session, "selection "+want, 10*time.Second, func(s string) bool { return selected(s) == want })
}

// TestTmuxFanIn500: the 500 siblings show as one node with counts; x
// expands them into a list where every one is reached with j (sent in
// batches), and the join after them.
func TestTmuxFanIn500(t *testing.T) {
	tm := newTerm(t)
	var objs []map[string]any
	var deps []string
	for i := range 500 {
		id := fmt.Sprintf("Task%03d", i)
		objs = append(objs, shellActivity(id))
		deps = append(deps, id)
	}
	objs = append(objs, shellActivity("Join", deps...))
	runFinished(t, tm, "fan", 160, 45, pipelineJSON(t, objs), 501)
	screen := tm.waitFor("fan", "the collapsed siblings", 10*time.Second, screenHas("500 × Task*", "✓500", "Join"))
	t.Logf("collapsed fan-in:\n%s", screen)
	tm.keys("fan", "g", "x")
	waitSelected(t, tm, "fan", "Task000")
	// Every j moves one: 500 j's in batches walk through every task.
	at := 0
	for _, step := range []int{1, 136, 174, 188} {
		tm.keys("fan", strings.Repeat("j", step))
		at += step
		waitSelected(t, tm, "fan", fmt.Sprintf("Task%03d", at))
	}
	tm.keys("fan", "j")
	waitSelected(t, tm, "fan", "Join")
	tm.keys("fan", "<")
	waitSelected(t, tm, "fan", "Task000")
	tm.keys("fan", "q")
}

// TestTmuxChain40: a 40-step chain is a column, not 40 boxes in a row;
// every step is reached, and < > follow the chain.
func TestTmuxChain40(t *testing.T) {
	tm := newTerm(t)
	var objs []map[string]any
	for i := 1; i <= 40; i++ {
		if i == 1 {
			objs = append(objs, shellActivity("Step01"))
		} else {
			objs = append(objs, shellActivity(fmt.Sprintf("Step%02d", i), fmt.Sprintf("Step%02d", i-1)))
		}
	}
	runFinished(t, tm, "chain", 140, 40, pipelineJSON(t, objs), 40)
	screen := tm.capture("chain")
	if strings.Count(screen, "Step") < 20 {
		t.Errorf("the chain is not shown as a column:\n%s", screen)
	}
	for i := 1; i <= 40; i++ {
		waitSelected(t, tm, "chain", fmt.Sprintf("Step%02d", i))
		if i < 40 {
			tm.keys("chain", "j")
		}
	}
	tm.keys("chain", "<")
	waitSelected(t, tm, "chain", "Step39")
	tm.keys("chain", ">")
	waitSelected(t, tm, "chain", "Step40")
	tm.keys("chain", "q")
}

// dag48 is 6 layers of 8 activities, each depending on two of the layer
// before.
func dag48() []map[string]any {
	var objs []map[string]any
	for l := range 6 {
		for k := range 8 {
			id := fmt.Sprintf("L%dN%d", l, k)
			if l == 0 {
				objs = append(objs, shellActivity(id))
				continue
			}
			objs = append(objs, shellActivity(id, fmt.Sprintf("L%dN%d", l-1, k), fmt.Sprintf("L%dN%d", l-1, (k+3)%8)))
		}
	}
	return objs
}

// TestTmuxDAG48: readable at 160×45 (boxes with whole names, nothing
// wrapped) and usable at 80×24 (the compact list; every node reachable).
func TestTmuxDAG48(t *testing.T) {
	tm := newTerm(t)
	runFinished(t, tm, "big", 160, 45, pipelineJSON(t, dag48()), 48)
	screen := tm.capture("big")
	names := regexp.MustCompile(`[║│](L\dN\d)\s`).FindAllString(screen, -1)
	if len(names) < 24 {
		t.Errorf("only %d whole component names in boxes at 160×45:\n%s", len(names), screen)
	}
	for _, l := range strings.Split(strings.TrimRight(screen, "\n"), "\n") {
		if w := len([]rune(l)); w > 160 {
			t.Errorf("a line of %d cells at 160 columns: %q", w, l)
		}
	}
	t.Logf("48-node DAG at 160×45:\n%s", screen)

	runFinished(t, tm, "small", 80, 24, pipelineJSON(t, dag48()), 48)
	screen = tm.capture("small")
	if !strings.Contains(screen, "L0N0") || strings.Contains(screen, "╔") {
		t.Errorf("at 80×24 the DAG is not the compact list:\n%s", screen)
	}
	// Usable: every one of the 48 nodes is reached with j, one by one.
	seen := map[string]bool{}
	prev := tm.waitFor("small", "a selection", 10*time.Second, func(s string) bool { return selected(s) != "" })
	seen[selected(prev)] = true
	for range 47 {
		before := selected(prev)
		tm.keys("small", "j")
		prev = tm.waitFor("small", "the next node after "+before, 10*time.Second, func(s string) bool { return selected(s) != before })
		seen[selected(prev)] = true
	}
	if len(seen) != 48 {
		t.Errorf("j reached %d distinct nodes of 48 at 80×24", len(seen))
	}
	tm.keys("small", "G")
	screen = tm.waitFor("small", "the last node", 10*time.Second, func(s string) bool { return strings.HasPrefix(selected(s), "L5") })
	t.Logf("48-node DAG at 80×24:\n%s", screen)
	tm.keys("small", "F")
	tm.waitFor("small", "nothing failed", 10*time.Second, screenHas("nothing failed"))
	tm.keys("small", "q")
}
