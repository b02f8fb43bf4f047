package expr

import (
	"math/rand"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition/period"
)

// plusPeriod parses with period.Parse and shifts with the same Joda
// wall-clock arithmetic as plusDays/plusMonths; in UTC (no DST) that must
// agree exactly with period.Period.AddTo, which schedules use.
func TestPlusPeriodMatchesPeriodPackageInUTC(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	specs := []string{"15 minutes", "1 hour", "2 Hours", "1 day", "3 days", "1 week", "1 month", "2 months", "1 year", "30 seconds"}
	for i := 0; i < 5000; i++ {
		at := time.Unix(rng.Int63n(4e9), 0).UTC()
		p, err := period.Parse(specs[rng.Intn(len(specs))])
		if err != nil {
			t.Fatal(err)
		}
		k := rng.Intn(41) - 20
		if got, want := addPeriod(at, p, k), p.AddTo(at, k); !got.Equal(want) {
			t.Fatalf("%s + %d × %s: expr %s, period %s", at, k, p, got, want)
		}
	}
}
