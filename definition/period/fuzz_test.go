package period

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse: Parse never panics; what it accepts has a positive count and
// a known unit, prints back to something it parses to the same period,
// and moves a time forward by whole periods consistently.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"15 minutes", "1 Day", "1 Hours", "20 Minutes", "3 months", "1 year", "2 weeks",
		"30 seconds", "", " ", "0 days", "-1 day", "1", "s", "1 s", "9223372036854775807 years", "1\u00a0day", "١ day"} {
		f.Add(s)
	}
	base := time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), "period") {
				t.Fatalf("error %q does not say what failed", err)
			}
			return
		}
		if p.N <= 0 || p.Unit < Second || p.Unit > Year {
			t.Fatalf("Parse(%q) = %+v", s, p)
		}
		back, err := Parse(p.String())
		if err != nil || back != p {
			t.Fatalf("Parse(%q).String() = %q reparses to %+v, %v", s, p.String(), back, err)
		}
		if p.N > 1000 {
			return // huge counts overflow time arithmetic by design of time.Time
		}
		if next := p.AddTo(base, 1); !next.After(base) {
			t.Fatalf("%v.AddTo moved %v to %v", p, base, next)
		}
		if prev := p.AddTo(base, -1); !prev.Before(base) {
			t.Fatalf("%v.AddTo(-1) moved %v to %v", p, base, prev)
		}
	})
}
