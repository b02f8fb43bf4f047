// Package executor is dpl's engine: it runs a pipeline definition the way
// AWS Data Pipeline would, owning instances and attempts and their state
// machine (runtime.md §3), resources (§4) and the task-runner protocol
// (§5).
//
// The engine offers the service's operations as the API interface; task
// runners — the built-in local worker (package executor/local), the HTTP
// endpoint's remote runners — poll it for tasks and report back. All state
// changes are written to the store (package executor/runstore) and published
// as Events to subscribers (headless output, the TUI).
//
// Time comes from an injected task.Clock (package executor/clock), so the
// state machine is tested without sleeping.
//
// Files by idea: core.go (state), setup.go and recover.go (start, resume),
// scheduling.go (instances, dependencies, timers), machine.go,
// transition.go, attempt.go, precondition.go, resource.go and actions.go
// (the state machine), tasks.go and taskobject.go (task hand-out),
// operator.go (SetStatus), query.go and history.go (queries), record.go
// (events and store writes), run.go (the run loop).
package executor
