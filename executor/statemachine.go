// The state machine as data: one transition table per sphere.

package executor

import (
	"fmt"
	"sort"
	"strings"
)

// Cause is what moves an object from one status to another: an engine
// event or an operator action (SetStatus).
type Cause string

// Engine events.
const (
	CauseCreate    Cause = "create"    // the instance or attempt is created
	CauseQueue     Cause = "queue"     // an attempt is queued for a runner
	CauseStart     Cause = "start"     // a runner took the task; a resource is being provisioned
	CauseReady     Cause = "ready"     // a resource is up
	CauseSucceed   Cause = "succeed"   // the work (or a shutdown) finished
	CauseRecheck   Cause = "recheck"   // a precondition was not met: checked again later
	CauseWait      Cause = "wait"      // back to waiting: a resource's failed start, a relaunch
	CauseFail      Cause = "fail"      // the work failed for good
	CauseCascade   Cause = "cascade"   // an upstream did not finish (cascade mode)
	CauseCancel    Cause = "cancel"    // the engine canceled it (its resource ended, a release)
	CauseTimeout   Cause = "timeout"   // attemptTimeout or terminateAfter
	CauseShutdown  Cause = "shutdown"  // a resource is no longer needed
	CauseSkip      Cause = "skip"      // a scheduled period before the pipeline's start is skipped
	CauseTerminate Cause = "terminate" // a Terminate action fired on a resource
)

// Operator actions: the SetStatus commands, plus SKIP as the engine
// applies it to periods skipped at creation.
const (
	ActionRerun        = Cause(CmdRerun)
	ActionTryCancel    = Cause(CmdTryCancel)
	ActionMarkFinished = Cause(CmdMarkFinished)
	ActionPause        = Cause(CmdPause)
	ActionResume       = Cause(CmdResume)
)

// Operator reports whether c is an operator action.
func (c Cause) Operator() bool {
	switch c {
	case ActionRerun, ActionTryCancel, ActionMarkFinished, ActionPause, ActionResume:
		return true
	}
	return false
}

// noStatus is the "from" of creation: the object does not exist yet.
const noStatus Status = ""

// Transition is one row of a sphere's table.
type Transition struct {
	From Status
	On   Cause
	// To is the new status. Ignored rows (an operator action that leaves
	// the object as it is, as the service does) have To == From.
	To Status
	// Guard, when set, says what must also hold; the engine checks it
	// where it decides (see the code named in the text).
	Guard string
	// Writes is the event the change writes to the log (operator actions
	// also write an EventAction naming the command).
	Writes EventKind
	// Ignored marks an operator action accepted without effect.
	Ignored bool
}

// TransitionError is a (status, cause) pair the table does not allow.
type TransitionError struct {
	Sphere string
	From   Status
	On     Cause
}

func (e *TransitionError) Error() string {
	from := string(e.From)
	if from == "" {
		from = "(not created)"
	}
	return fmt.Sprintf("%s state machine: no transition from %s on %s", e.Sphere, from, e.On)
}

// Machine is the transition table of one sphere.
type Machine struct {
	Sphere   string
	Statuses []Status
	Causes   []Cause
	rows     []Transition
	index    map[machineKey]int
}

type machineKey struct {
	from Status
	on   Cause
}

func newMachine(sphere string, writes EventKind, statuses []Status, causes []Cause, rows []Transition) *Machine {
	m := &Machine{Sphere: sphere, Statuses: statuses, Causes: causes, rows: rows, index: map[machineKey]int{}}
	for n, r := range rows {
		if r.Writes == "" {
			rows[n].Writes = writes
		}
		k := machineKey{r.From, r.On}
		if _, dup := m.index[k]; dup {
			panic(fmt.Sprintf("%s state machine: two rows for (%s, %s)", sphere, r.From, r.On))
		}
		m.index[k] = n
	}
	return m
}

// Next returns the transition for (from, on) or a *TransitionError naming
// both.
func (m *Machine) Next(from Status, on Cause) (Transition, error) {
	n, ok := m.index[machineKey{from, on}]
	if !ok {
		return Transition{}, &TransitionError{Sphere: m.Sphere, From: from, On: on}
	}
	return m.rows[n], nil
}

// Rows returns the table in declaration order.
func (m *Machine) Rows() []Transition { return append([]Transition(nil), m.rows...) }

// Mermaid renders the table as a mermaid state diagram (ignored operator
// actions left out: they change nothing).
func (m *Machine) Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	type edge struct{ from, to string }
	labels := map[edge][]string{}
	var order []edge
	for _, r := range m.rows {
		if r.Ignored {
			continue
		}
		from := string(r.From)
		if r.From == noStatus {
			from = "[*]"
		}
		ed := edge{from, string(r.To)}
		if _, seen := labels[ed]; !seen {
			order = append(order, ed)
		}
		l := string(r.On)
		if r.Guard != "" {
			l += " [" + r.Guard + "]"
		}
		labels[ed] = append(labels[ed], l)
	}
	for _, ed := range order {
		ls := labels[ed]
		sort.Strings(ls)
		fmt.Fprintf(&b, "    %s --> %s: %s\n", ed.from, ed.to, strings.Join(ls, ", "))
	}
	return b.String()
}

// rows builds table rows: on from each status in from, to status to.
func rows(on Cause, to Status, guard string, from ...Status) []Transition {
	out := make([]Transition, 0, len(from))
	for _, f := range from {
		out = append(out, Transition{From: f, On: on, To: to, Guard: guard})
	}
	return out
}

// ignored builds rows of an operator action that leaves these statuses as
// they are.
func ignored(on Cause, from ...Status) []Transition {
	out := make([]Transition, 0, len(from))
	for _, f := range from {
		out = append(out, Transition{From: f, On: on, To: f, Writes: EventAction, Ignored: true})
	}
	return out
}

func concat(parts ...[]Transition) []Transition {
	var out []Transition
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var (
	allStatuses = []Status{WaitingOnDependencies, WaitingForRunner, Creating, Running, Finished, Failed,
		CascadeFailed, Canceled, TimedOut, ShuttingDown, Skipped, Paused}
	instanceStatuses = without(allStatuses, Creating, ShuttingDown)
	resourceStatuses = without(allStatuses, WaitingForRunner)
	operatorActions  = []Cause{ActionRerun, ActionTryCancel, ActionMarkFinished, ActionPause, ActionResume}
	// instanceOpen are the statuses an activity, data node or precondition
	// instance is in before it ends.
	instanceOpen = []Status{WaitingOnDependencies, WaitingForRunner, Running, Paused}
	resourceOpen = []Status{WaitingOnDependencies, Creating, Running, ShuttingDown, Paused}
)

// without returns ss minus the given statuses.
func without(ss []Status, drop ...Status) []Status {
	var out []Status
	for _, s := range ss {
		keep := true
		for _, d := range drop {
			keep = keep && s != d
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

// operatorRows are the operator actions on instances and resources, as the
// service applies them: RERUN from anywhere, MARK_FINISHED from anywhere,
// TRY_CANCEL on what has not ended, PAUSE on what waits, RESUME on what is
// paused; every other pair is accepted and changes nothing.
func operatorRows(statuses, open []Status, cancelTerminal bool) []Transition {
	cancelFrom, cancelIgnored := open, without(statuses, open...)
	if cancelTerminal {
		cancelFrom, cancelIgnored = statuses, nil
	}
	pause := rows(ActionPause, Paused, "", WaitingOnDependencies)
	for _, s := range statuses {
		if s == WaitingForRunner {
			pause = append(pause, rows(ActionPause, Paused, "no attempt running", WaitingForRunner)...)
		}
	}
	return concat(
		rows(ActionRerun, WaitingOnDependencies, "", statuses...),
		rows(ActionMarkFinished, Finished, "", without(statuses, Finished)...),
		ignored(ActionMarkFinished, Finished),
		rows(ActionTryCancel, Canceled, "", cancelFrom...),
		ignored(ActionTryCancel, cancelIgnored...),
		pause,
		ignored(ActionPause, without(statuses, WaitingOnDependencies, WaitingForRunner)...),
		rows(ActionResume, WaitingOnDependencies, "", Paused),
		ignored(ActionResume, without(statuses, Paused)...),
	)
}

// InstanceMachine is the state machine of activity, data node and
// precondition instances (runtime.md §3.3).
var InstanceMachine = newMachine("instance", EventStatus, instanceStatuses,
	[]Cause{CauseCreate, CauseSkip, CauseQueue, CauseStart, CauseSucceed, CauseRecheck, CauseFail, CauseCascade, CauseCancel},
	concat(
		rows(CauseCreate, WaitingOnDependencies, "", noStatus),
		rows(CauseSkip, Skipped, "scheduled before the pipeline's start", noStatus),
		rows(CauseQueue, WaitingForRunner, "", WaitingOnDependencies, Running),
		rows(CauseStart, Running, "", WaitingForRunner),
		rows(CauseSucceed, Finished, "", Running),
		rows(CauseSucceed, Finished, "a data node: no work", WaitingOnDependencies),
		rows(CauseRecheck, WaitingOnDependencies, "a precondition", Running, WaitingForRunner),
		rows(CauseFail, Failed, "", instanceOpen...),
		rows(CauseCascade, CascadeFailed, "cascade mode", WaitingOnDependencies, WaitingForRunner, Paused),
		rows(CauseCancel, Canceled, "", instanceOpen...),
		operatorRows(instanceStatuses, instanceOpen, false),
	))

// ResourceMachine is the state machine of Ec2Resource and EmrCluster
// instances (runtime.md §3.4).
var ResourceMachine = newMachine("resource", EventStatus, resourceStatuses,
	[]Cause{CauseCreate, CauseSkip, CauseStart, CauseReady, CauseWait, CauseShutdown, CauseSucceed, CauseFail, CauseTimeout, CauseCancel, CauseTerminate},
	concat(
		rows(CauseCreate, WaitingOnDependencies, "", noStatus),
		rows(CauseSkip, Skipped, "scheduled before the pipeline's start", noStatus),
		rows(CauseStart, Creating, "", WaitingOnDependencies),
		rows(CauseReady, Running, "", Creating),
		rows(CauseWait, WaitingOnDependencies, "start failed, actionOnResourceFailure retryall", Creating),
		rows(CauseWait, WaitingOnDependencies, "relaunched for a rerun", Finished, ShuttingDown),
		rows(CauseShutdown, ShuttingDown, "no work left", Creating, Running),
		rows(CauseSucceed, Finished, "", ShuttingDown),
		rows(CauseSucceed, Finished, "never needed", WaitingOnDependencies),
		rows(CauseFail, Failed, "", resourceOpen...),
		rows(CauseTimeout, TimedOut, "terminateAfter", resourceOpen...),
		rows(CauseCancel, Canceled, "", resourceOpen...),
		rows(CauseTerminate, Canceled, "a Terminate action", resourceStatuses...),
		// TRY_CANCEL terminates a resource whatever its status.
		operatorRows(resourceStatuses, resourceOpen, true),
	))

// AttemptMachine is the state machine of attempts (runtime.md §3.5).
var AttemptMachine = newMachine("attempt", EventAttempt,
	[]Status{WaitingForRunner, Running, Finished, Failed, Canceled, TimedOut},
	[]Cause{CauseCreate, CauseStart, CauseSucceed, CauseFail, CauseCancel, CauseTimeout},
	concat(
		rows(CauseCreate, WaitingForRunner, "", noStatus),
		rows(CauseStart, Running, "", WaitingForRunner),
		rows(CauseSucceed, Finished, "TRUE or FALSE for a precondition", Running),
		rows(CauseFail, Failed, "", Running),
		rows(CauseCancel, Canceled, "", WaitingForRunner, Running),
		rows(CauseTimeout, TimedOut, "attemptTimeout", Running),
	))

// machineFor is the table an instance moves by.
func machineFor(i *inst) *Machine {
	if i.Kind == "resource" {
		return ResourceMachine
	}
	return InstanceMachine
}

// attemptCause is the cause of an engine-ended attempt's status.
func attemptCause(st Status) Cause {
	switch st {
	case Finished:
		return CauseSucceed
	case Canceled:
		return CauseCancel
	case TimedOut:
		return CauseTimeout
	}
	return CauseFail
}
