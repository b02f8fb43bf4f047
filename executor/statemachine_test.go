package executor

import (
	"context"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var updateStates = flag.Bool("update-states", false, "rewrite STATES.md from the transition tables")

// operatorSpec is what each operator action does from each status, written
// out by hand from runtime.md §3.8 (not derived from the tables): the new
// status, "=" for accepted without effect, "!" for refused.
var operatorSpec = map[string]map[Cause]map[Status]string{
	"instance": {
		ActionRerun:        every(string(WaitingOnDependencies)),
		ActionMarkFinished: except(string(Finished), Finished, "="),
		ActionTryCancel: {
			WaitingOnDependencies: "CANCELED", WaitingForRunner: "CANCELED", Running: "CANCELED", Paused: "CANCELED",
			Finished: "=", Failed: "=", CascadeFailed: "=", Canceled: "=", TimedOut: "=", Skipped: "=",
		},
		ActionPause:  with(every("="), map[Status]string{WaitingOnDependencies: "PAUSED", WaitingForRunner: "PAUSED"}),
		ActionResume: with(every("="), map[Status]string{Paused: "WAITING_ON_DEPENDENCIES"}),
	},
	"resource": {
		ActionRerun:        every(string(WaitingOnDependencies)),
		ActionMarkFinished: except(string(Finished), Finished, "="),
		ActionTryCancel:    every(string(Canceled)), // a resource is terminated whatever its status
		ActionPause:        with(every("="), map[Status]string{WaitingOnDependencies: "PAUSED", WaitingForRunner: "PAUSED"}),
		ActionResume:       with(every("="), map[Status]string{Paused: "WAITING_ON_DEPENDENCIES"}),
	},
}

func every(v string) map[Status]string {
	m := map[Status]string{}
	for _, s := range allStatuses {
		m[s] = v
	}
	return m
}

func except(v string, s Status, other string) map[Status]string {
	m := every(v)
	m[s] = other
	return m
}

func with(m map[Status]string, over map[Status]string) map[Status]string {
	for k, v := range over {
		m[k] = v
	}
	return m
}

func TestOperatorActionsEveryPair(t *testing.T) {
	for _, m := range []*Machine{InstanceMachine, ResourceMachine} {
		for _, on := range operatorActions {
			for _, from := range m.Statuses {
				want := operatorSpec[m.Sphere][on][from]
				if want == "" {
					t.Fatalf("spec misses %s (%s, %s)", m.Sphere, from, on)
				}
				tr, err := m.Next(from, on)
				got := string(tr.To)
				switch {
				case err != nil:
					got = "!"
				case tr.Ignored:
					got = "="
				}
				if got != want {
					t.Errorf("%s (%s, %s) = %s, want %s", m.Sphere, from, on, got, want)
				}
				if err == nil && tr.Ignored != (tr.To == from && tr.Writes == EventAction) {
					t.Errorf("%s (%s, %s): ignored row %+v", m.Sphere, from, on, tr)
				}
			}
		}
	}
	// Attempts take no operator action: every pair is refused.
	for _, on := range operatorActions {
		for _, from := range AttemptMachine.Statuses {
			if _, err := AttemptMachine.Next(from, on); err == nil {
				t.Errorf("attempt (%s, %s) accepted", from, on)
			}
		}
	}
}

func TestTransitionErrorNamesBoth(t *testing.T) {
	_, err := InstanceMachine.Next(Finished, CauseStart)
	var te *TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *TransitionError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "FINISHED") || !strings.Contains(msg, "start") || !strings.Contains(msg, "instance") {
		t.Errorf("message %q does not name the sphere, the status and the cause", msg)
	}
	if _, err := AttemptMachine.Next(noStatus, CauseStart); err == nil || !strings.Contains(err.Error(), "(not created)") {
		t.Errorf("creation pair: %v", err)
	}
}

// Every row's statuses and causes are the sphere's own, and every terminal
// status is left only by an operator action (or a resource's Terminate).
func TestTablesAreClosed(t *testing.T) {
	for _, m := range []*Machine{InstanceMachine, ResourceMachine, AttemptMachine} {
		known := map[Status]bool{noStatus: true}
		for _, s := range m.Statuses {
			known[s] = true
		}
		causes := map[Cause]bool{}
		for _, c := range m.Causes {
			causes[c] = true
		}
		for _, r := range m.Rows() {
			if !known[r.From] || !known[r.To] {
				t.Errorf("%s: row %+v uses a status outside the sphere", m.Sphere, r)
			}
			if !r.On.Operator() && !causes[r.On] {
				t.Errorf("%s: row %+v: cause %s not listed in the sphere's causes", m.Sphere, r, r.On)
			}
			if r.From.Terminal() && !r.On.Operator() && r.On != CauseWait && r.On != CauseTerminate {
				t.Errorf("%s: terminal %s left on engine event %s", m.Sphere, r.From, r.On)
			}
			if r.Writes == "" {
				t.Errorf("%s: row %+v writes no event", m.Sphere, r)
			}
		}
	}
}

// STATES.md is generated from the tables; the README links it.
func TestStateDiagramMatchesTables(t *testing.T) {
	got := statesDoc()
	if *updateStates {
		if err := os.WriteFile("STATES.md", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("STATES.md")
	if err != nil {
		t.Fatalf("%v (run go test ./executor -run TestStateDiagram -update-states)", err)
	}
	if string(want) != got {
		t.Errorf("STATES.md is stale: run go test ./executor -run TestStateDiagram -update-states")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skipf("no README: %v", err)
	}
	if !strings.Contains(string(readme), "executor/STATES.md") {
		t.Error("README does not link executor/STATES.md")
	}
}

func statesDoc() string {
	var b strings.Builder
	b.WriteString("# dpl's state machines\n\n")
	b.WriteString("Generated from the transition tables in `statemachine.go` by\n")
	b.WriteString("`go test ./executor -run TestStateDiagram -update-states`; a test fails when they differ.\n")
	b.WriteString("Operator actions that leave a status as it is are not drawn; every pair not drawn\n")
	b.WriteString("and not such an action is refused with an error naming both.\n")
	for _, m := range []*Machine{InstanceMachine, ResourceMachine, AttemptMachine} {
		b.WriteString("\n## " + m.Sphere + "\n\n```mermaid\n")
		b.WriteString(m.Mermaid())
		b.WriteString("```\n")
	}
	return b.String()
}

// The operator actions on a live engine, from each status a test can reach,
// end where the table says (or leave the instance as it is).
func TestOperatorActionsOnAnEngine(t *testing.T) {
	def := one(`"failureAndRerunMode":"cascade","maximumRetries":"0"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x"}`,
		`{"id":"B","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"A"}}`)
	ctx := context.Background()
	// reach drives a new engine until instance id has status st.
	reach := map[Status]func(t *testing.T) (*run, string){
		WaitingForRunner: func(t *testing.T) (*run, string) {
			r := newRun(t, def, Options{})
			r.e.engine.mu.Lock()
			r.e.engine.step()
			r.e.engine.mu.Unlock()
			return r, iA
		},
		WaitingOnDependencies: func(t *testing.T) (*run, string) {
			r := newRun(t, def, Options{})
			r.e.engine.mu.Lock()
			r.e.engine.step()
			r.e.engine.mu.Unlock()
			return r, iB
		},
		Running: func(t *testing.T) (*run, string) {
			r := newRun(t, def, Options{})
			r.settle(always(hang()))
			return r, iA
		},
		Finished: func(t *testing.T) (*run, string) {
			r := newRun(t, def, Options{})
			r.drive(always(ok()))
			return r, iA
		},
		Failed: func(t *testing.T) (*run, string) {
			r := newRun(t, def, Options{})
			r.drive(always(fail("no")))
			return r, iA
		},
		CascadeFailed: func(t *testing.T) (*run, string) {
			r := newRun(t, def, Options{})
			r.drive(always(fail("no")))
			return r, iB
		},
		Paused: func(t *testing.T) (*run, string) {
			r := newRun(t, def, Options{})
			r.e.engine.mu.Lock()
			r.e.engine.step()
			r.e.engine.mu.Unlock()
			if err := r.e.SetStatus(ctx, "df-TEST", []string{"B"}, CmdPause); err != nil {
				t.Fatal(err)
			}
			return r, iB
		},
		Canceled: func(t *testing.T) (*run, string) {
			r := newRun(t, def, Options{})
			r.settle(always(hang()))
			if err := r.e.SetStatus(ctx, "df-TEST", []string{iA}, CmdTryCancel); err != nil {
				t.Fatal(err)
			}
			return r, iA
		},
	}
	for _, from := range allStatuses {
		get := reach[from]
		if get == nil {
			continue // not reachable by an activity in this harness (resource statuses, SKIPPED, TIMEDOUT)
		}
		for _, on := range operatorActions {
			t.Run(string(from)+"/"+string(on), func(t *testing.T) {
				r, id := get(t)
				r.wantStatus(id, from)
				target := id
				if on == ActionPause || on == ActionResume {
					target = r.inst(id).Component
				}
				if err := r.e.SetStatus(ctx, "df-TEST", []string{target}, string(on)); err != nil {
					t.Fatal(err)
				}
				want := operatorSpec["instance"][on][from]
				if want == "=" {
					want = string(from)
				}
				r.wantStatus(id, Status(want))
				if inv := r.e.engine.invalid; len(inv) > 0 {
					t.Errorf("refused transitions: %v", inv)
				}
			})
		}
	}
}

// settle hands out and runs tasks until nothing moves without the clock.
func (r *run) settle(fn runnerFunc) {
	r.t.Helper()
	e := r.e.engine
	for {
		e.mu.Lock()
		e.step()
		tk := e.handout(PollInput{WorkerGroup: LocalWorkerGroup, Hostname: "test"})
		e.mu.Unlock()
		if tk == nil {
			return
		}
		if o := fn(tk); o.hang {
			r.hung = append(r.hung, tk)
		} else if err := r.e.SetTaskStatus(context.Background(), tk.TaskID, o.res); err != nil {
			r.t.Fatalf("SetTaskStatus: %v", err)
		}
	}
}
