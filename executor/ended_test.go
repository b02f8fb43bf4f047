package executor

import (
	"errors"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// TestKeepEndedReportsTheEndedActivation: with KeepEnded (dpl run) a
// store whose latest activation ended starts nothing when the same run is
// asked for again — New says how it ended; other parameter values or a
// changed definition start a new activation and say why; Fresh starts one
// without a word.
func TestKeepEndedReportsTheEndedActivation(t *testing.T) {
	def := one(`"maximumRetries":"0"`, `{"id":"A","type":"ShellCommandActivity","command":"x"}`)
	failing := one(`"maximumRetries":"0"`, `{"id":"A","type":"ShellCommandActivity","command":"y"}`)
	dir := t.TempDir()
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := func() Options { return Options{Store: db, StateDir: dir, KeepEnded: true} }
	if s := newRun(t, def, opts()).drive(always(ok())); !s.OK {
		t.Fatalf("first run: %s", s.Reason)
	}

	_, err = New(Options{Definition: newDef(t, def), Source: []byte(def), PipelineID: "df-TEST", Store: db, StateDir: dir, KeepEnded: true})
	var ended *ActivationEndedError
	if !errors.As(err, &ended) {
		t.Fatalf("New on an ended activation: %v, want *ActivationEndedError", err)
	}
	if ended.State != runstore.ActFinished || !ended.Summary.OK || ended.Summary.Activation != 1 || ended.Ended.IsZero() ||
		len(ended.Summary.Instances) == 0 || ended.Summary.Counts[Finished] != len(ended.Summary.Instances) {
		t.Errorf("ended = %+v, summary %+v", ended, ended.Summary)
	}
	if msg := ended.Error(); !strings.Contains(msg, "activation 1 of df-TEST already ended at") || !strings.Contains(msg, "--fresh starts activation 2") {
		t.Errorf("message %q", msg)
	}

	o := opts()
	o.Params = map[string][]string{"myX": {"1"}}
	r := newRun(t, def, o)
	if r.e.Activation() != 2 || r.e.Resumed() || !strings.Contains(r.e.Follows(), "other parameter values") {
		t.Fatalf("other params: activation %d, resumed %v, follows %q; want activation 2 saying why", r.e.Activation(), r.e.Resumed(), r.e.Follows())
	}
	r.drive(always(fail("boom")))

	o = opts()
	o.Params = map[string][]string{"myX": {"1"}}
	_, err = New(Options{Definition: newDef(t, def), Source: []byte(def), PipelineID: "df-TEST", Store: db, StateDir: dir, KeepEnded: true, Params: o.Params})
	if !errors.As(err, &ended) || ended.State != runstore.ActFailed || ended.Summary.OK || !strings.Contains(ended.Error(), "FAILED: 1 FAILED") {
		t.Fatalf("failed activation: %v, want it reported FAILED", err)
	}

	r = newRun(t, failing, opts())
	if r.e.Activation() != 3 || !strings.Contains(r.e.Follows(), "the definition changed") {
		t.Errorf("changed definition: activation %d, follows %q", r.e.Activation(), r.e.Follows())
	}
	r.drive(always(ok()))
	o = opts()
	o.Fresh = true
	if r = newRun(t, failing, o); r.e.Activation() != 4 || r.e.Follows() != "" {
		t.Errorf("fresh: activation %d, follows %q; want 4 and nothing to say", r.e.Activation(), r.e.Follows())
	}
	r.drive(always(ok()))
	// Without KeepEnded (the API's engines) an ended activation is followed
	// by a new one as before.
	if r = newRun(t, failing, Options{Store: db, StateDir: dir}); r.e.Activation() != 5 {
		t.Errorf("without KeepEnded: activation %d, want 5", r.e.Activation())
	}
}
