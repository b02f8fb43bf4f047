// The engine's state: components, instances and the engine type.

package executor

import (
	"sync"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/secret"
	"github.com/dpl-dev/dpl/executor/task"
)

// comp is a definition object with what the engine needs of it, read once.
type comp struct {
	obj  *definition.Object
	eff  *definition.Effective
	kind schedule.Kind
	typ  string

	maxRetries  int
	retryDelay  time.Duration
	attemptTO   time.Duration
	progressTO  time.Duration // reportProgressTimeout (0: the service default for remote runners)
	lateAfter   time.Duration
	precondTO   time.Duration
	terminateAt time.Duration // resources: terminateAfter
	initTO      time.Duration // resources: initTimeout
	cascade     bool
	maxActive   int // 0: unlimited
	group       string
	taskTermin  bool // resources: actionOnTaskFailure terminate
	retryNone   bool // resources: actionOnResourceFailure retrynone
	onSuccess   []string
	onFail      []string
	onLate      []string
	precondRefs int // precondition: how many components refer to it

	active  int            // instances holding an attempt (maxActiveInstances)
	blocked map[*inst]bool // instances waiting for capacity
	paused  bool
}

// inst is an instance with its links.
type inst struct {
	runstore.Instance
	c     *comp
	waits []string // instance ids waited on (inputs, dependsOn, producers)
	// Kept up to date as dependencies change status, so that a fan-in over
	// N upstreams costs O(1) per upstream change, not O(N):
	notOK int // entries of waits not FINISHED/SKIPPED (or not created yet)
	bad   int // entries of waits in a Bad status
	scan  int // waits[:scan] are all FINISHED/SKIPPED
	// waitsOf indexes waits by component (built on first use), so that
	// linking a ref to the waited instance does not scan every wait.
	waitsOf map[string][]string
	pre     []string // precondition object ids
	pres    []*inst  // precondition instances, once created
	node    *inst    // precondition: the instance it is checked for
	att     *runstore.Attempt
	counted bool               // holds a maxActiveInstances slot
	users   []string           // resources: instance ids running on it
	prov    provider.Resource  // resources: the provisioned resource, while up
	launch  int                // resources: provisioning generation (stale ready calls are ignored)
	wakeAt  map[time.Time]bool // timers pending for this instance
}

type engine struct {
	mu           sync.Mutex
	opts         Options
	d            *definition.Definition
	plan         *schedule.Plan
	clock        task.Clock
	db           runstore.Backend
	pipelineID   string
	name         string
	act          *runstore.Activation
	resumed      bool
	follows      string               // why a new activation follows an ended one of the same pipeline (KeepEnded)
	res          *definition.Resolver // the expression scope: parameters, fields, refs
	secrets      []string             // secret values, masked in what viewers see
	secretsKnown bool                 // secrets computed (lazily, on first view)

	comps   map[string]*comp
	it      *schedule.Iterator
	insts   map[string]*inst
	order   []*inst
	atts    map[string]*runstore.Attempt // by attempt id
	attList map[string][]*runstore.Attempt
	tasks   map[string]*runstore.Attempt // by task id
	waiters map[string][]*inst           // instance id → instances waiting on it
	dirty   []*inst
	isDirty map[*inst]bool
	timers  timerHeap

	queues   map[string][]*runstore.Attempt // worker group → attempts to hand out
	readyCh  chan struct{}                  // closed when work is queued
	activeCh chan struct{}                  // closed while the activation is open; renewed when it ends
	// settled is closed once Run has settled what a previous process left
	// in flight (kept task leases among it).
	settled    chan struct{}
	settleOnce sync.Once
	cancels    map[string]chan struct{} // task id → closed on cancel
	inflight   int
	taskSeq    int
	kick       chan struct{}

	open    int            // instances not in a terminal status
	running bool           // Run is driving the engine
	pubs    sync.WaitGroup // alarms being published
	seq     uint64
	subs    map[*subscriber]bool
	memLog  []*Event // the event log when there is no store (pointers: appending stays cheap)
	done    bool
	// sealer encrypts `*` values for the store (nil: no state folder).
	sealer *secret.Sealer
	// announced is the instance the last EventNext named.
	announced string
	pending   runstore.Change // batched writes of the current operation
	w         writer          // writes them in order, outside e.mu
	invalid   []error         // transitions the state machine refused (engine defects)
}
