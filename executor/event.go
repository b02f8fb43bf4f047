package executor

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dpl-dev/dpl/executor/task"
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
	// EventNext says the run is idle until its next instance is due:
	// Instance and NextCheck (when it becomes runnable), Message in words
	// ("next: @X at 2027-01-01T00:00:00, in 28 days").
	EventNext EventKind = "next"
	// EventProgress is a running attempt's progress (Progress; Message
	// in words: "2/5 statements, 1200 rows written: INSERT ...").
	EventProgress EventKind = "progress"
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

	// Progress: how far the attempt got.
	Progress *task.Progress `json:"progress,omitempty"`
}

// MarshalJSON writes the time in UTC with the service's layout plus
// fractional seconds, so that jsonl lines sort and read well. Fields come
// in declaration order, empty ones omitted, strings escaped exactly as
// encoding/json does; it is written by hand because every state change
// encodes events (reflection was the engine's largest cost per task).
func (e Event) MarshalJSON() ([]byte, error) {
	return e.appendJSON(make([]byte, 0, 256)), nil
}

func (e Event) appendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if e.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, e.Seq, 10)
	}
	b = append(b, `,"event":`...)
	b = appendJSONString(b, string(e.Kind))
	str := func(key, v string) {
		if v != "" {
			b = append(b, ',', '"')
			b = append(b, key...)
			b = append(b, '"', ':')
			b = appendJSONString(b, v)
		}
	}
	tm := func(key string, t *time.Time) {
		if t != nil {
			b = append(b, ',', '"')
			b = append(b, key...)
			b = append(b, `":"`...)
			b = t.AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		}
	}
	str("pipeline", e.Pipeline)
	str("component", e.Component)
	str("instance", e.Instance)
	str("attempt", e.Attempt)
	str("status", string(e.Status))
	str("previous", string(e.Prev))
	str("error", e.Error)
	if len(e.WaitingOn) > 0 {
		b = append(b, `,"waitingOn":[`...)
		for k, w := range e.WaitingOn {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, w)
		}
		b = append(b, ']')
	}
	tm("lastCheck", e.LastCheck)
	str("lastResult", e.LastResult)
	tm("nextCheck", e.NextCheck)
	str("object", e.Object)
	str("node", e.Node)
	str("topicArn", e.TopicArn)
	str("subject", e.Subject)
	str("message", e.Message)
	str("stdout", e.Stdout)
	str("stderr", e.Stderr)
	if p := e.Progress; p != nil {
		b = append(b, `,"progress":{"done":`...)
		b = strconv.AppendInt(b, int64(p.Done), 10)
		if p.Total > 0 {
			b = append(b, `,"total":`...)
			b = strconv.AppendInt(b, int64(p.Total), 10)
		}
		if p.Unit != "" {
			b = append(b, `,"unit":`...)
			b = appendJSONString(b, p.Unit)
		}
		b = append(b, `,"rows":`...)
		b = strconv.AppendInt(b, p.Rows, 10)
		if p.Step != "" {
			b = append(b, `,"step":`...)
			b = appendJSONString(b, p.Step)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does (HTML-safe: <, > and &
// escaped; invalid UTF-8 as U+FFFD; U+2028 and U+2029 escaped).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
