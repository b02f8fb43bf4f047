// Package schedule turns a resolved pipeline definition into the instances
// the service would create: one per schedulable component (activity, data
// node, resource) per schedule period, or one per activation for on-demand
// pipelines, linked to the instances they wait on.
//
// Rules (runtime.md §2, §3.1, §3.4, §4; where the reference is silent the
// choice is ours and says so):
//
//   - Interval k of a schedule is [start + k·period, start + (k+1)·period),
//     with calendar arithmetic for months and years (Jan 31 + 1 month =
//     Feb 28/29; each boundary is computed from the start, so the day does
//     not drift after a short month).
//   - Bounds: `occurrences` gives exactly that many intervals; otherwise
//     intervals are generated while scheduledStartTime < endDateTime (a
//     trailing partial interval is kept: its start is before the end);
//     with neither, the schedule is unbounded.
//   - scheduleType: cron instances are runnable at their interval start,
//     timeseries at their interval end. Timeseries is the default when no
//     scheduleType is found (undocumented; the historical default).
//     Resources ignore scheduleType and are created at the interval start.
//     Data nodes follow the scheduleType like activities.
//   - On-demand (scheduleType ondemand on Default, or an
//     ONDEMAND_PERIOD/ONDEMAND_ACTIVATION_TIME schedule, or a pipeline
//     with no Schedule object at all — the last with a warning): one
//     instance per component per activation, start = end = runnable =
//     the activation time.
//   - Instance ids are `@<componentId>_<scheduledStartTime>` with the
//     start formatted yyyy-MM-dd'T'HH:mm:ss in UTC; attempts append
//     `_Attempt=<n>`.
//   - Linking an instance I of component A (interval [s, e)) to component
//     B (an input, a dependsOn target, the producer of a data node, or a
//     runsOn resource): when B's period is at least A's (equal or
//     coarser), I links to the one instance of B whose interval contains
//     s (for equal, aligned periods that is the same interval). When B is
//     finer, I links to every instance of B that starts inside [s, e)
//     (a roll-up). runsOn always uses containment (the resource instance
//     whose interval contains s), whatever the periods. No link is made
//     when B has no matching instance (for example before B's start).
//     Plan.Dependents is the exact inverse of these rules.
//     On-demand instances link to the other components' instances of the
//     same activation.
//   - A resource instance is shared by every instance whose runsOn
//     resolves to it; more than 32 sharers per resource interval (the
//     service's roll-up limit) gives a warning, not an error.
//   - Backfill: instances whose runnable time is before Options.Now are
//     marked Backfill; they are runnable at once, in order. A scheduled
//     start more than one day before Now adds the "1-day rule" warning
//     (the service may refuse such an activation; we only warn), and
//     failureAndRerunMode=cascade with backfill adds the service's
//     cascade warning.
//   - Activation with startTimestamp: intervals that started before it
//     are SKIPPED (see Skipped).
//   - Preconditions and actions are not scheduled: they are evaluated per
//     referring instance (Instance.Preconditions lists the ids).
//
// Generation is lazy: Iter yields instances in the order they become
// runnable (RunnableAt, then the topological order of the component
// graph, then id) and computes each one only when asked, so an unbounded
// schedule costs nothing until iterated.
package schedule
