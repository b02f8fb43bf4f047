package schedule

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/period"
)

func date(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// randomSchedule draws a schedule with a random period, start and bound.
func randomSchedule(r *rand.Rand) *Schedule {
	units := []period.Unit{period.Minute, period.Hour, period.Day, period.Week, period.Month, period.Year}
	u := units[r.IntN(len(units))]
	n := 1 + r.IntN(4)
	if u == period.Minute {
		n = 15 * (1 + r.IntN(4))
	}
	start := date(2000+r.IntN(40), time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60))
	p := period.Period{N: n, Unit: u}
	switch r.IntN(3) {
	case 0:
		return NewSchedule("S", p, start, time.Time{}, 1+r.IntN(60))
	case 1:
		end := start.Add(time.Duration(1+r.Int64N(int64(60*p.Approx()))) * time.Nanosecond)
		return NewSchedule("S", p, start, end.Truncate(time.Second).Add(time.Second), 0)
	}
	return NewSchedule("S", p, start, time.Time{}, 0)
}

// TestIntervalsContiguous checks, for many random schedules, that the
// intervals tile time: each starts where the previous ended, has positive
// length, IndexAt maps every boundary and midpoint back to its interval,
// and the number of intervals matches occurrences / endDateTime.
func TestIntervalsContiguous(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		s := randomSchedule(r)
		limit := 80
		var prevEnd time.Time
		n := 0
		for k := 0; s.Has(k) && k < limit; k++ {
			st, en := s.Interval(k)
			if k == 0 && !st.Equal(s.Start) {
				t.Fatalf("%v: first interval starts %v, want the schedule start", s.Period, st)
			}
			if k > 0 && !st.Equal(prevEnd) {
				t.Fatalf("%v from %v: gap or overlap at k=%d: %v after %v", s.Period, s.Start, k, st, prevEnd)
			}
			if !en.After(st) {
				t.Fatalf("%v: empty interval %d", s.Period, k)
			}
			if got := s.IndexAt(st); got != k {
				t.Fatalf("%v from %v: IndexAt(start of %d) = %d", s.Period, s.Start, k, got)
			}
			if got := s.IndexAt(st.Add(en.Sub(st) / 2)); got != k {
				t.Fatalf("%v from %v: IndexAt(middle of %d) = %d", s.Period, s.Start, k, got)
			}
			if got := s.IndexAt(en.Add(-time.Second)); got != k {
				t.Fatalf("%v from %v: IndexAt(end of %d - 1s) = %d", s.Period, s.Start, k, got)
			}
			prevEnd = en
			n++
		}
		switch {
		case s.Occurrences > 0:
			if n != min(s.Occurrences, limit) || s.Count() != s.Occurrences {
				t.Fatalf("occurrences %d: generated %d, Count %d", s.Occurrences, n, s.Count())
			}
		case !s.End.IsZero():
			if n < limit && n != s.Count() {
				t.Fatalf("%v from %v to %v: generated %d, Count %d", s.Period, s.Start, s.End, n, s.Count())
			}
			if n < limit && prevEnd.Before(s.End) {
				t.Fatalf("%v: last interval ends %v before endDateTime %v", s.Period, prevEnd, s.End)
			}
		default:
			if n != limit || s.Count() != -1 || s.Bounded() {
				t.Fatalf("unbounded schedule stopped at %d", n)
			}
		}
		if s.IndexAt(s.Start.Add(-time.Second)) != -1 {
			t.Fatalf("%v: a time just before the start must be interval -1", s.Period)
		}
	}
}

// TestMonthClamp: month periods from Jan 31 clamp to each month's end and
// are computed from the start, so the day recovers after February.
func TestMonthClamp(t *testing.T) {
	s := NewSchedule("M", period.Period{N: 1, Unit: period.Month}, date(2023, 1, 31, 10, 0), time.Time{}, 6)
	want := []time.Time{date(2023, 1, 31, 10, 0), date(2023, 2, 28, 10, 0), date(2023, 3, 31, 10, 0),
		date(2023, 4, 30, 10, 0), date(2023, 5, 31, 10, 0), date(2023, 6, 30, 10, 0)}
	for k, w := range want {
		if st, _ := s.Interval(k); !st.Equal(w) {
			t.Errorf("interval %d starts %v, want %v", k, st, w)
		}
	}
	leap := NewSchedule("M", period.Period{N: 1, Unit: period.Month}, date(2024, 1, 31, 0, 0), time.Time{}, 2)
	if st, _ := leap.Interval(1); !st.Equal(date(2024, 2, 29, 0, 0)) {
		t.Errorf("leap year: got %v, want Feb 29", st)
	}
	y := NewSchedule("Y", period.Period{N: 1, Unit: period.Year}, date(2024, 2, 29, 0, 0), time.Time{}, 0)
	if st, _ := y.Interval(1); !st.Equal(date(2025, 2, 28, 0, 0)) {
		t.Errorf("Feb 29 + 1 year: got %v, want Feb 28", st)
	}
	if st, _ := y.Interval(4); !st.Equal(date(2028, 2, 29, 0, 0)) {
		t.Errorf("Feb 29 + 4 years: got %v, want Feb 29", st)
	}
}

func TestEndDateTimeCount(t *testing.T) {
	h := period.Period{N: 1, Unit: period.Hour}
	cases := []struct {
		end  time.Time
		want int
	}{
		{date(2012, 9, 25, 18, 0), 1},  // runtime.md §2.4: 17:00 to 18:00 hourly gives one instance
		{date(2012, 9, 25, 18, 30), 2}, // a trailing partial period is kept
		{date(2012, 9, 25, 17, 1), 1},
		{date(2012, 9, 26, 17, 0), 24},
	}
	for _, c := range cases {
		s := NewSchedule("S", h, date(2012, 9, 25, 17, 0), c.end, 0)
		if got := s.Count(); got != c.want {
			t.Errorf("end %v: Count %d, want %d", c.end, got, c.want)
		}
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]Type{"": Timeseries, "CRON": Cron, "cron": Cron, "TimeSeries": Timeseries, " ondemand ": OnDemand} {
		if got, err := ParseType(in); err != nil || got != want {
			t.Errorf("ParseType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseType("weekly"); err == nil {
		t.Error("ParseType(weekly) accepted")
	}
}

func TestKindOf(t *testing.T) {
	for name, want := range map[string]Kind{"ShellCommandActivity": KindActivity, "S3DataNode": KindDataNode,
		"EmrCluster": KindResource, "S3KeyExists": KindPrecondition, "SnsAlarm": KindAction,
		"CSV": KindOther, "FutureActivity": KindActivity, "shellcommandactivity": KindOther} {
		if got := KindOf(name); got != want {
			t.Errorf("KindOf(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestInstanceIDs(t *testing.T) {
	st := date(2012, 12, 12, 0, 0)
	id := InstanceID("SayHello", st)
	if id != "@SayHello_2012-12-12T00:00:00" {
		t.Fatalf("InstanceID = %q", id)
	}
	att := AttemptID(id, 1)
	if att != "@SayHello_2012-12-12T00:00:00_Attempt=1" {
		t.Fatalf("AttemptID = %q", att)
	}
	comp, start, n, ok := ParseInstanceID(att)
	if !ok || comp != "SayHello" || !start.Equal(st) || n != 1 {
		t.Errorf("ParseInstanceID(%q) = %q %v %d %v", att, comp, start, n, ok)
	}
	comp, _, n, ok = ParseInstanceID("@My_Obj_2012-12-12T00:00:00")
	if !ok || comp != "My_Obj" || n != 0 {
		t.Errorf("underscored id: %q %d %v", comp, n, ok)
	}
	for _, bad := range []string{"", "@", "SayHello_2012-12-12T00:00:00", "@X_2012-13-12T00:00:00", "@X_2012-12-12T00:00:00_Attempt=0"} {
		if _, _, _, ok := ParseInstanceID(bad); ok {
			t.Errorf("ParseInstanceID(%q) accepted", bad)
		}
	}
}

func TestSkipped(t *testing.T) {
	d := loadFixture(t, "backfill.json")
	p, err := Build(d, Options{Now: date(2024, 3, 2, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	resume := date(2024, 3, 1, 9, 0)
	var skipped []string
	for inst := range p.All(Window{Limit: 4}) {
		if Skipped(inst, resume) {
			skipped = append(skipped, inst.ID)
		}
	}
	want := []string{"@Load_2024-03-01T00:00:00", "@Load_2024-03-01T06:00:00"}
	if !slices.Equal(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
}

// TestRunnableOrder: the merged iterator yields instances by RunnableAt,
// then topological order, each component's instances in interval order.
func TestRunnableOrder(t *testing.T) {
	d := loadFixture(t, "rollup.json")
	p, err := Build(d, Options{Now: date(2024, 3, 2, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var prev Instance
	last := map[string]int{}
	n := 0
	for inst := range p.All(Window{}) {
		if n > 0 {
			if inst.RunnableAt.Before(prev.RunnableAt) {
				t.Fatalf("%s runnable before %s but yielded after", inst.ID, prev.ID)
			}
			if inst.RunnableAt.Equal(prev.RunnableAt) && p.Component(inst.Component).Order < p.Component(prev.Component).Order {
				t.Fatalf("%s before %s breaks topological order", prev.ID, inst.ID)
			}
		}
		if k, ok := last[inst.Component]; ok && inst.Index != k+1 {
			t.Fatalf("%s: index %d after %d", inst.ID, inst.Index, k)
		}
		last[inst.Component] = inst.Index
		for _, w := range inst.WaitsOn {
			if _, ok := p.Lookup(w); !ok {
				t.Errorf("%s waits on %s, which the plan does not create", inst.ID, w)
			}
		}
		prev = inst
		n++
	}
	// Tick: 6, Summary: 2, Box: 2, Lookup: 1.
	if n != 11 {
		t.Errorf("got %d instances, want 11", n)
	}
}

// TestLinksAndDependents: WaitsOn/RunsOn and Dependents are inverses, and
// the coarser resource is shared by the three 20-minute instances in its hour.
func TestLinksAndDependents(t *testing.T) {
	d := loadFixture(t, "rollup.json")
	p, err := Build(d, Options{Now: date(2024, 3, 2, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	uses := map[string][]string{} // instance -> instances waiting on / running on it
	var all []Instance
	for inst := range p.All(Window{}) {
		all = append(all, inst)
		for _, w := range inst.WaitsOn {
			uses[w] = append(uses[w], inst.ID)
		}
		if inst.RunsOn != "" {
			uses[inst.RunsOn] = append(uses[inst.RunsOn], inst.ID)
		}
	}
	for _, inst := range all {
		got := p.Dependents(inst)
		slices.Sort(got)
		want := uses[inst.ID]
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Dependents(%s) = %v, want %v", inst.ID, got, want)
		}
	}
	box := uses["@Box_2024-03-01T00:00:00"]
	want := []string{"@Summary_2024-03-01T00:00:00", "@Tick_2024-03-01T00:00:00", "@Tick_2024-03-01T00:20:00", "@Tick_2024-03-01T00:40:00"}
	if !slices.Equal(box, want) {
		t.Errorf("resource shared by %v, want %v", box, want)
	}
}

func TestBuildWarningsAndOnDemand(t *testing.T) {
	parse := func(src string) *definition.Definition {
		d, err := definition.Parse("t.json", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		d.Resolve()
		return d
	}
	// No Schedule at all: planned as on-demand, with a warning.
	d := parse(`{"objects":[{"id":"A","type":"ShellCommandActivity","command":"x"}]}`)
	p, err := Build(d, Options{Now: date(2024, 1, 1, 0, 0)})
	if err != nil || !p.OnDemand || len(p.Warnings) != 1 || p.Warnings[0].Code != "ondemand-implied" {
		t.Fatalf("implied on-demand: %v %+v", err, p)
	}
	// The special ONDEMAND schedule.
	d = parse(`{"objects":[{"id":"Default","schedule":{"ref":"S"}},
		{"id":"S","type":"Schedule","period":"ONDEMAND_PERIOD","startAt":"ONDEMAND_ACTIVATION_TIME"},
		{"id":"A","type":"ShellCommandActivity","command":"x"}]}`)
	act := date(2024, 5, 5, 5, 5)
	p, err = Build(d, Options{Now: act.Add(time.Hour), Activation: act})
	if err != nil || !p.OnDemand {
		t.Fatalf("ONDEMAND schedule: %v", err)
	}
	insts := slices.Collect(p.All(Window{}))
	if len(insts) != 1 || insts[0].ID != "@A_2024-05-05T05:05:00" {
		t.Fatalf("on-demand run: %+v", insts)
	}
	// A component without a schedule in a scheduled pipeline.
	d = parse(`{"objects":[{"id":"S","type":"Schedule","period":"1 day","startDateTime":"2024-01-01T00:00:00","occurrences":"2"},
		{"id":"A","type":"ShellCommandActivity","schedule":{"ref":"S"},"command":"x"},
		{"id":"B","type":"ShellCommandActivity","command":"y"}]}`)
	p, err = Build(d, Options{Now: date(2024, 1, 1, 0, 0)})
	if err != nil || p.OnDemand || len(p.Warnings) != 1 || p.Warnings[0].ObjectID != "B" {
		t.Fatalf("missing schedule: %v %+v", err, p.Warnings)
	}
	if n := len(slices.Collect(p.All(Window{}))); n != 2 {
		t.Errorf("got %d instances, want 2 (A only)", n)
	}
	// Bad schedules are errors naming the object.
	for _, src := range []string{
		`{"objects":[{"id":"S","type":"Schedule","period":"1 fortnight","startDateTime":"2024-01-01T00:00:00"},{"id":"A","type":"ShellCommandActivity","schedule":{"ref":"S"}}]}`,
		`{"objects":[{"id":"S","type":"Schedule","period":"1 day","startDateTime":"yesterday"},{"id":"A","type":"ShellCommandActivity","schedule":{"ref":"S"}}]}`,
		`{"objects":[{"id":"S","type":"Schedule","period":"1 day","startDateTime":"2024-01-02T00:00:00","endDateTime":"2024-01-01T00:00:00"},{"id":"A","type":"ShellCommandActivity","schedule":{"ref":"S"}}]}`,
		`{"objects":[{"id":"S","type":"Schedule","period":"1 day","startDateTime":"2024-01-02T00:00:00","occurrences":"-1"},{"id":"A","type":"ShellCommandActivity","schedule":{"ref":"S"}}]}`,
		`{"objects":[{"id":"S","type":"Schedule","period":"1 day"},{"id":"A","type":"ShellCommandActivity","schedule":{"ref":"S"}}]}`,
	} {
		if _, err := Build(parse(src), Options{}); err == nil {
			t.Errorf("accepted %s", src)
		}
	}
}

func TestFirstActivation(t *testing.T) {
	d := loadFixture(t, "firstactivation.json")
	act := date(2024, 7, 1, 8, 7)
	p, err := Build(d, Options{Activation: act, Now: act})
	if err != nil {
		t.Fatal(err)
	}
	inst, ok := p.Instance("Poll", 2)
	if !ok || !inst.Start.Equal(act.Add(30*time.Minute)) || !inst.RunnableAt.Equal(inst.Start) || inst.Backfill {
		t.Errorf("instance 2: %+v", inst)
	}
}

func TestTimeseriesRunnableAtEnd(t *testing.T) {
	d := loadFixture(t, "timeseries.json")
	p, err := Build(d, Options{Now: date(2024, 2, 28, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	inst, ok := p.Instance("Extract", 0)
	if !ok || !inst.RunnableAt.Equal(inst.End) || inst.Backfill {
		t.Errorf("timeseries instance: %+v", inst)
	}
	if !slices.Equal(inst.Preconditions, []string{"Ready"}) {
		t.Errorf("preconditions %v", inst.Preconditions)
	}
	if p.Component("Db") != nil || p.Component("Ready") != nil {
		t.Error("databases and preconditions must not be scheduled")
	}
}

func TestAppendTimeMatchesLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		tm := time.Unix(r.Int64N(400*365*86400)-200*365*86400+946684800, 0)
		if got, want := string(appendTime(nil, tm)), tm.UTC().Format(TimeLayout); got != want {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}
