package executor

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// reflectJSON is the reflection-based encoding MarshalJSON replaced; the
// hand-written one must produce the same bytes.
func reflectJSON(e Event) []byte {
	type plain Event
	b, _ := json.Marshal(struct {
		Time string `json:"time"`
		plain
	}{Time: e.Time.UTC().Format(time.RFC3339Nano), plain: plain(e)})
	return b
}

func TestEventJSONMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	nc := at.Add(time.Minute)
	odd := "quote \" backslash \\ <tag> & \n\r\t\b\f \x01\x1f é ✓ \u2028\u2029 bad\xff\xfe end"
	for _, e := range []Event{
		{Time: at, Kind: EventRun},
		{Seq: 42, Time: at.In(time.FixedZone("X", 3600)), Kind: EventStatus, Pipeline: "df-1", Component: "A", Instance: "@A_1", Status: Running, Prev: WaitingForRunner},
		{Seq: 7, Time: at, Kind: EventWaiting, Instance: "@F", WaitingOn: []string{"@T1", "@T2"}, LastCheck: &at, LastResult: "FALSE", NextCheck: &nc, Message: odd},
		{Time: at, Kind: EventAlarm, Object: "Alarm", Node: "@A", TopicArn: "arn:aws:sns:x", Subject: odd, Message: "m", Error: odd},
		{Time: at, Kind: EventLog, Attempt: "@A_1_Attempt=1", Stdout: "/s/out", Stderr: "/s/err", WaitingOn: []string{}},
	} {
		got, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if want := reflectJSON(e); string(got) != string(want) {
			t.Errorf("event %+v\n got %s\nwant %s", e, got, want)
		}
		var back Event
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if back.Seq != e.Seq || back.Message != toValid(e.Message) || !back.Time.Equal(e.Time) {
			t.Errorf("round trip %+v -> %+v", e, back)
		}
	}
}

// toValid is s as it reads back from JSON (invalid UTF-8 replaced).
func toValid(s string) string {
	var v string
	b, _ := json.Marshal(s)
	_ = json.Unmarshal(b, &v)
	return v
}

func BenchmarkEventJSON(b *testing.B) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	e := Event{Seq: 42, Time: at, Kind: EventStatus, Pipeline: "df-0123456789ABCDEF012", Component: "T123", Instance: "@T123_2026-01-01T00:00:00", Status: Running, Prev: WaitingForRunner}
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			_ = e.appendJSON(make([]byte, 0, 256))
		}
	})
	b.Run("reflect", func(b *testing.B) {
		for b.Loop() {
			_ = reflectJSON(e)
		}
	})
}

func TestWriterMergeKeepsLastState(t *testing.T) {
	a1 := &runstore.Instance{ID: "@A", Status: "RUNNING"}
	a2 := &runstore.Instance{ID: "@A", Status: "FINISHED"}
	b1 := &runstore.Instance{ID: "@B", Status: "RUNNING"}
	t1 := &runstore.Attempt{ID: "@A_Attempt=1", Status: "RUNNING"}
	t2 := &runstore.Attempt{ID: "@A_Attempt=1", Status: "FINISHED"}
	got := merge([]runstore.Change{
		{Instances: []*runstore.Instance{a1, b1}, Attempts: []*runstore.Attempt{t1}, Events: []runstore.Event{{Seq: 1}}},
		{Instances: []*runstore.Instance{a2}, Attempts: []*runstore.Attempt{t2}, Events: []runstore.Event{{Seq: 2}, {Seq: 3}}},
	})
	if len(got.Instances) != 2 || got.Instances[0] != a2 || got.Instances[1] != b1 {
		t.Errorf("instances %+v", got.Instances)
	}
	if len(got.Attempts) != 1 || got.Attempts[0] != t2 {
		t.Errorf("attempts %+v", got.Attempts)
	}
	if len(got.Events) != 3 || got.Events[2].Seq != 3 {
		t.Errorf("events %+v", got.Events)
	}
}
