package schedule

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func loadFixture(t testing.TB, name string) *definition.Definition {
	t.Helper()
	d, err := definition.ParseFile(filepath.Join("..", "..", "fixtures", "plan", name))
	if err != nil {
		t.Fatal(err)
	}
	d.Resolve()
	return d
}

// TestGoldenPlans renders each fixture the way `dpl plan` does and compares
// stdout and the stderr notes with testdata/<name>.golden.
func TestGoldenPlans(t *testing.T) {
	now := mustTime(t, "2024-03-02T00:00:00")
	cases := []struct {
		name, fixture string
		req           Request
	}{
		{"cron-occurrences", "cron.json", Request{JSON: true}},
		{"cron-text", "cron.json", Request{}},
		{"timeseries-enddatetime", "timeseries.json", Request{JSON: true}},
		{"timeseries-window", "timeseries.json", Request{From: mustTime(t, "2024-02-28T06:00:00"), To: mustTime(t, "2024-03-01T06:00:00")}},
		{"ondemand", "ondemand.json", Request{JSON: true}},
		{"ondemand-param", "ondemand.json", Request{JSON: true, Params: Params{"myInput": {"s3://other/x.csv"}}}},
		{"monthly-clamp", "monthly.json", Request{}},
		{"backfill", "backfill.json", Request{To: mustTime(t, "2024-03-02T12:00:00")}},
		{"backfill-param-start", "backfill.json", Request{Count: 3, Params: Params{"myStart": {"2024-03-01T18:00:00"}}}},
		{"rollup-coarser-resource", "rollup.json", Request{JSON: true}},
		{"rollup-text", "rollup.json", Request{}},
		{"first-activation-capped", "firstactivation.json", Request{}},
		{"first-activation-count", "firstactivation.json", Request{From: mustTime(t, "2024-03-05T10:00:00"), Count: 3, JSON: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := loadFixture(t, c.fixture)
			c.req.Now = now
			var out bytes.Buffer
			notes, err := Render(&out, d, c.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(notes) > 0 {
				out.WriteString("--- stderr ---\n" + strings.Join(notes, "\n") + "\n")
			}
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("plan differs from %s (rerun with -update after checking):\n%s", path, diffLines(string(want), got))
			}
		})
	}
}

// diffLines shows the first differing line with a little context.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + itoa(i+1) + ":\n  want: " + a + "\n  got:  " + b
		}
	}
	return "(same lines, different bytes)"
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestFirstActivationIsNotBackfill: a startAt FIRST_ACTIVATION_DATE_TIME
// schedule starts at the activation, so its instances are never labelled
// backfill, even when the activation (--start) is before --now; a schedule
// with a startDateTime in the past is.
func TestFirstActivationIsNotBackfill(t *testing.T) {
	now := mustTime(t, "2024-03-10T00:00:00")
	for _, tc := range []struct {
		fixture  string
		req      Request
		backfill bool
	}{
		{"firstactivation.json", Request{From: mustTime(t, "2024-03-05T10:00:00"), Count: 2}, false},
		{"firstactivation.json", Request{Count: 2}, false},
		{"backfill.json", Request{Count: 2}, true},
	} {
		d := loadFixture(t, tc.fixture)
		tc.req.Now = now
		var out bytes.Buffer
		notes, err := Render(&out, d, tc.req)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(out.String(), "backfill")
		for _, n := range notes {
			got = got || strings.Contains(n, "backfill")
		}
		if got != tc.backfill {
			t.Errorf("%s %+v: backfill labels %v, want %v:\n%s%s", tc.fixture, tc.req, got, tc.backfill, out.String(), strings.Join(notes, "\n"))
		}
	}
}
