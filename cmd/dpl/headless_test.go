package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
)

var at = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// TestPrintEventsQuiet: without --verbose, one line per attempt end and
// per failure, not every WAITING or RUNNING transition; --verbose prints
// them all; jsonl prints every event.
func TestPrintEventsQuiet(t *testing.T) {
	evs := []executor.Event{
		{Time: at, Kind: executor.EventRun, Message: "activation 1 started"},
		{Time: at, Kind: executor.EventStatus, Instance: "@A_1", Status: executor.WaitingOnDependencies},
		{Time: at, Kind: executor.EventStatus, Instance: "@A_1", Status: executor.WaitingForRunner},
		{Time: at, Kind: executor.EventAttempt, Instance: "@A_1", Attempt: "@A_1_Attempt=1", Status: executor.Running},
		{Time: at, Kind: executor.EventStatus, Instance: "@A_1", Status: executor.Running},
		{Time: at, Kind: executor.EventAttempt, Instance: "@A_1", Attempt: "@A_1_Attempt=1", Status: executor.Failed, Error: "exit 3"},
		{Time: at, Kind: executor.EventStatus, Instance: "@A_1", Status: executor.Failed, Error: "exit 3"},
		{Time: at, Kind: executor.EventStatus, Instance: "@B_1", Status: executor.CascadeFailed},
		{Time: at, Kind: executor.EventLog, Instance: "@A_1", Stdout: "/x"},
		{Time: at, Kind: executor.EventRun, Message: "activation 1 did not finish"},
	}
	cases := []struct {
		name    string
		o       progressOptions
		want    []string
		notWant []string
		lines   int
	}{
		{"quiet", progressOptions{format: "text"},
			[]string{"attempt failed          @A_1_Attempt=1: exit 3", "FAILED                  @A_1: exit 3", "CASCADE_FAILED          @B_1", "did not finish"},
			[]string{"WAITING_FOR_RUNNER", "RUNNING", "attempt running"}, 5},
		{"verbose", progressOptions{format: "text", verbose: true},
			[]string{"WAITING_ON_DEPENDENCIES @A_1", "WAITING_FOR_RUNNER      @A_1", "RUNNING                 @A_1"}, nil, 9},
		{"jsonl", progressOptions{format: "jsonl"}, []string{`"event":"log"`}, nil, len(evs)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := make(chan executor.Event, len(evs))
			for _, ev := range evs {
				ch <- ev
			}
			close(ch)
			var out, errb bytes.Buffer
			printEvents(&out, &errb, ch, c.o)
			s := out.String()
			for _, w := range c.want {
				if !strings.Contains(s, w) {
					t.Errorf("output lacks %q:\n%s", w, s)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(s, w) {
					t.Errorf("output has %q:\n%s", w, s)
				}
			}
			if n := strings.Count(s, "\n"); n != c.lines {
				t.Errorf("%d lines, want %d:\n%s", n, c.lines, s)
			}
			if errb.Len() > 0 {
				t.Errorf("a status line without a terminal: %q", errb.String())
			}
		})
	}
}

func fanInSummary() *executor.Summary {
	s := &executor.Summary{PipelineID: "df-X", Activation: 2, Reason: "1 FAILED, 499 CASCADE_FAILED"}
	add := func(comp string, st executor.Status, mod func(*runstore.Instance)) {
		in := runstore.Instance{ID: "@" + comp + "_1", Component: comp, Status: string(st)}
		if mod != nil {
			mod(&in)
		}
		s.Instances = append(s.Instances, in)
	}
	add("Task000", executor.Failed, func(in *runstore.Instance) { in.Attempts, in.ErrorMessage = 3, "command exited with status 1" })
	for i := 1; i < 500; i++ {
		st := executor.Finished
		if i%2 == 0 {
			st = executor.CascadeFailed
		}
		add(fmt.Sprintf("Task%03d", i), st, func(in *runstore.Instance) {
			if st == executor.CascadeFailed {
				in.CascadeFrom = "@Task000_1"
			}
		})
	}
	add("Join", executor.CascadeFailed, func(in *runstore.Instance) { in.CascadeFrom = "@Task000_1" })
	add("Load_a", executor.Finished, nil)
	return s
}

// TestSummaryShort: siblings in one row with counts per status, the
// failure listed, the cascade it caused in one line (not a 502-row table).
func TestSummaryShort(t *testing.T) {
	var b bytes.Buffer
	printSummary(&b, fanInSummary(), false)
	want := `
COMPONENT               INSTANCES  STATUS
Join                    1          1 CASCADE_FAILED
Load_a                  1          1 FINISHED
Task* (500 components)  500        1 FAILED, 249 CASCADE_FAILED, 250 FINISHED

INSTANCE       STATUS          ATTEMPTS  ERROR
@Task000_1     FAILED          3         command exited with status 1
250 instances  CASCADE_FAILED            cascade from @Task000_1

run 2 of df-X did not finish: 1 FAILED, 499 CASCADE_FAILED
`
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestSummaryFull: --summary full lists every component and instance.
func TestSummaryFull(t *testing.T) {
	var b bytes.Buffer
	printSummary(&b, fanInSummary(), true)
	s := b.String()
	if !strings.Contains(s, "\nTask499 ") || strings.Contains(s, "Task*") {
		t.Errorf("full summary does not list every component:\n%.600s", s)
	}
	if n := strings.Count(s, "@Task"); n < 500 {
		t.Errorf("full summary lists %d instances, want every one", n)
	}
}

func TestLiveStatusLine(t *testing.T) {
	l := newLiveStatus(&bytes.Buffer{}, 10)
	l.started = at
	for i, st := range []executor.Status{executor.Finished, executor.Finished, executor.Running, executor.Running, executor.Running, executor.Failed} {
		l.add(executor.Event{Kind: executor.EventStatus, Instance: fmt.Sprintf("@T%d", i), Status: st})
	}
	got := l.line(at.Add(30 * time.Second))
	want := "3/10 done · 30s · ETA 1m10s · 3 running (@T2, @T3 +1) · 1 failed · 2 finished"
	if got != want {
		t.Errorf("status line\n %q\nwant\n %q", got, want)
	}
}
