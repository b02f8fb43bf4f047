package task

import (
	"context"
	"testing"
)

func TestProgressFieldsRoundTripAndText(t *testing.T) {
	for _, p := range []Progress{
		{Done: 2, Total: 5, Unit: "statements", Rows: 1200, Step: "INSERT OVERWRITE TABLE t SELECT 1"},
		{Done: 3, Unit: "map tasks", Rows: 7},
		{},
	} {
		got, ok := ProgressFromFields(p.Fields())
		if !ok || got != p {
			t.Errorf("round trip of %+v = %+v, %v", p, got, ok)
		}
	}
	if _, ok := ProgressFromFields(nil); ok {
		t.Error("no fields decoded as progress")
	}
	s := func(v string) *string { return &v }
	if _, ok := ProgressFromFields([]Field{{Key: FieldProgressDone, StringValue: s("1")}, {Key: FieldProgressRows, StringValue: s("x")}}); ok {
		t.Error("rows that are not a number decoded")
	}
	for p, want := range map[Progress]string{
		{Done: 2, Total: 5, Unit: "statements", Rows: 1200, Step: "INSERT ..."}: "2/5 statements, 1200 rows written: INSERT ...",
		{Done: 3, Unit: "map tasks", Rows: 7}:                                   "3 map tasks, 7 rows written",
	} {
		if got := p.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", p, got, want)
		}
	}
	var got []Progress
	ctx := WithProgressHook(context.Background(), func(p Progress) { got = append(got, p) })
	ReportProgress(ctx, Progress{Done: 1})
	ReportProgress(context.Background(), Progress{Done: 2}) // no hook: dropped
	if len(got) != 1 || got[0].Done != 1 {
		t.Errorf("hook got %+v", got)
	}
}
