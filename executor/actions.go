// Actions: onSuccess/onFail/onLateAction and SnsAlarm.

package executor

import (
	"context"
	"fmt"
	"strings"
)

// fireActions runs onSuccess/onFail/onLateAction actions for i.
func (e *engine) fireActions(i *inst, ids []string, why string) {
	now := e.now()
	for _, id := range ids {
		c := e.comps[id]
		if c == nil {
			continue
		}
		switch c.typ {
		case "SnsAlarm":
			e.publishAlarm(i, c)
		case "Terminate":
			e.emit(Event{Kind: EventAction, Object: id, Node: i.ID, Component: i.Component, Instance: i.ID,
				Message: "Terminate (" + why + ")"})
			switch {
			case i.Kind == "resource":
				e.terminateResource(i, CauseTerminate, "terminated by "+id, now)
			default:
				e.cancelInstance(i, "terminated by "+id+" ("+why+")", now)
			}
		default:
			e.emit(Event{Kind: EventAction, Object: id, Node: i.ID, Instance: i.ID,
				Error: fmt.Sprintf("action %s has type %q, which dpl does not run", id, c.typ)})
		}
	}
}

func (e *engine) publishAlarm(i *inst, c *comp) {
	sc := e.actionScope(c, i)
	get := func(key string) string {
		f := c.eff.Get(key)
		if f == nil || len(f.Values) == 0 || f.Values[0].IsRef {
			return ""
		}
		ss, err := e.evalStrings(f.Values[0].Str, sc)
		if err != nil {
			return fmt.Sprintf("<%s: %v>", key, err)
		}
		return e.mask(strings.Join(ss, ","))
	}
	a := Alarm{Time: e.now(), Object: c.obj.ID, Node: i.ID, TopicArn: get("topicArn"), Subject: get("subject"),
		Message: get("message"), Role: get("role")}
	ev := Event{Kind: EventAlarm, Component: i.Component, Instance: i.ID, Object: a.Object, Node: a.Node,
		TopicArn: a.TopicArn, Subject: a.Subject, Message: a.Message}
	e.emit(ev)
	if n := e.opts.Notifier; n != nil {
		// Published outside the engine's lock (SNS may be slow); a failure
		// is recorded as a second alarm event with the error. Run waits
		// for pending publishes before it returns.
		e.pubs.Add(1)
		go func() {
			defer e.pubs.Done()
			if err := n.Publish(context.Background(), a); err != nil {
				ev.Error = "publish: " + err.Error()
				e.mu.Lock()
				e.emit(ev)
				e.flush()
				e.mu.Unlock()
			}
		}()
	}
}
