package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Alarm is an SnsAlarm ready to publish: subject and message evaluated with
// `node` bound to the instance the action fired for.
type Alarm struct {
	Time     time.Time `json:"time"`
	Object   string    `json:"object"` // the SnsAlarm object id
	Node     string    `json:"node"`   // the instance id
	TopicArn string    `json:"topicArn"`
	Subject  string    `json:"subject"`
	Message  string    `json:"message"`
	Role     string    `json:"role,omitempty"`
}

// Notifier publishes alarms. The engine always emits an EventAlarm as well;
// the notifier is where the message goes (a local outbox, or SNS).
type Notifier interface {
	Publish(ctx context.Context, a Alarm) error
}

// Outbox is the local Notifier: it appends each alarm as one JSON line to
// a file (`<state-dir>/outbox.jsonl`).
type Outbox struct {
	Path string
	mu   sync.Mutex
}

// Publish implements Notifier.
func (o *Outbox) Publish(_ context.Context, a Alarm) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o700); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	f, err := os.OpenFile(o.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	b, _ := json.Marshal(a)
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("outbox %s: %w", o.Path, err)
	}
	return nil
}
