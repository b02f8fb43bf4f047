package executor

import (
	"encoding/json"
	"time"
)

// EventKind names what an Event reports. The values are the "event" field
// of `dpl run --output jsonl` and `dpl events --output jsonl`.
type EventKind string

const (
	// EventRun marks the start ("started"/"resumed") and end of an
	// activation; Message says why it ended.
	EventRun EventKind = "run"
	// EventStatus is an instance changing @status (Prev → Status).
	EventStatus EventKind = "status"
	// EventAttempt is an attempt created, handed out or ended; Status is the
	// attempt's status.
	EventAttempt EventKind = "attempt"
	// EventWaiting says what an instance waits on (WaitingOn, Message), and
	// for preconditions the last check result and the next check time.
	EventWaiting EventKind = "waiting"
	// EventAlarm is an SnsAlarm published (Object, Node, TopicArn, Subject,
	// Message).
	EventAlarm EventKind = "alarm"
	// EventLog gives the files an attempt's output goes to (Stdout, Stderr).
	EventLog EventKind = "log"
	// EventAction is a non-alarm action fired (Terminate).
	EventAction EventKind = "action"
)

// Event is one entry of the engine's event stream. The same values feed the
// store's event log, the headless output and the TUI. Only the fields that
// matter for the kind are set.
type Event struct {
	Seq  uint64    `json:"seq,omitempty"` // position in the activation's event log
	Time time.Time `json:"time"`          // engine clock
	Kind EventKind `json:"event"`

	Pipeline  string `json:"pipeline,omitempty"`
	Component string `json:"component,omitempty"`
	Instance  string `json:"instance,omitempty"`
	Attempt   string `json:"attempt,omitempty"`
	Status    Status `json:"status,omitempty"`
	Prev      Status `json:"previous,omitempty"`
	Error     string `json:"error,omitempty"`

	// Waiting: what the instance waits on and, for preconditions, the
	// outcome of the last check and when the next one is due.
	WaitingOn  []string   `json:"waitingOn,omitempty"`
	LastCheck  *time.Time `json:"lastCheck,omitempty"`
	LastResult string     `json:"lastResult,omitempty"`
	NextCheck  *time.Time `json:"nextCheck,omitempty"`

	// Alarm (and other actions): the action object, the instance it fired
	// for, and the evaluated SnsAlarm fields.
	Object   string `json:"object,omitempty"`
	Node     string `json:"node,omitempty"`
	TopicArn string `json:"topicArn,omitempty"`
	Subject  string `json:"subject,omitempty"`
	Message  string `json:"message,omitempty"`

	// Log: where the attempt's streams are written.
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
}

// MarshalJSON writes the time in UTC with the service's layout plus
// fractional seconds, so that jsonl lines sort and read well.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return json.Marshal(struct {
		Time string `json:"time"`
		plain
	}{Time: e.Time.UTC().Format(time.RFC3339Nano), plain: plain(e)})
}

// UnmarshalJSON reverses MarshalJSON.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var v struct {
		Time string `json:"time"`
		plain
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Event(v.plain)
	if v.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, v.Time)
		if err != nil {
			return err
		}
		e.Time = t
	}
	return nil
}
