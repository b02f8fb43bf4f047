package period

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Period
	}{
		{"15 minutes", Period{15, Minute}},
		{"15 Minutes", Period{15, Minute}},
		{"1 Day", Period{1, Day}},
		{"1 Hours", Period{1, Hour}},
		{"1 hour", Period{1, Hour}},
		{"  2\tWEEKS ", Period{2, Week}},
		{"3 months", Period{3, Month}},
		{"1 year", Period{1, Year}},
		{"30 seconds", Period{30, Second}},
		{"1 s", Period{}}, // invalid, checked below
	}
	for _, c := range cases[:len(cases)-1] {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "day", "1", "0 days", "-1 days", "+1 days", "1.5 hours", "1 fortnight", "1 s", "1 days extra", "15Minutes", "9999999999999999999999 days"} {
		if p, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, p)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{"1 Day": "1 day", "15 MINUTES": "15 minutes", "2 week": "2 weeks"} {
		p, err := Parse(in)
		if err != nil || p.String() != want {
			t.Errorf("Parse(%q).String() = %q, %v; want %q", in, p.String(), err, want)
		}
	}
}

func TestAddTo(t *testing.T) {
	utc := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	cases := []struct {
		p    Period
		t    time.Time
		k    int
		want time.Time
	}{
		{Period{15, Minute}, utc(2024, 1, 1, 0), 4, utc(2024, 1, 1, 1)},
		{Period{1, Hour}, utc(2024, 1, 1, 23), 1, utc(2024, 1, 2, 0)},
		{Period{1, Day}, utc(2024, 2, 28, 6), 1, utc(2024, 2, 29, 6)},
		{Period{1, Week}, utc(2024, 2, 26, 0), 1, utc(2024, 3, 4, 0)},
		{Period{1, Month}, utc(2023, 1, 31, 0), 1, utc(2023, 2, 28, 0)},
		{Period{1, Month}, utc(2024, 1, 31, 0), 1, utc(2024, 2, 29, 0)},
		{Period{1, Month}, utc(2024, 1, 31, 0), 2, utc(2024, 3, 31, 0)},
		{Period{1, Month}, utc(2024, 3, 31, 0), -1, utc(2024, 2, 29, 0)},
		{Period{3, Month}, utc(2024, 11, 30, 0), 1, utc(2025, 2, 28, 0)},
		{Period{1, Year}, utc(2024, 2, 29, 0), 1, utc(2025, 2, 28, 0)},
		{Period{1, Year}, utc(2024, 2, 29, 0), 4, utc(2028, 2, 29, 0)},
		{Period{2, Month}, utc(2024, 1, 15, 0), -7, utc(2022, 11, 15, 0)},
	}
	for _, c := range cases {
		if got := c.p.AddTo(c.t, c.k); !got.Equal(c.want) {
			t.Errorf("%v.AddTo(%v, %d) = %v, want %v", c.p, c.t, c.k, got, c.want)
		}
	}
}

// TestAddToDST: days are calendar days in the time's zone (23 or 25 hours
// across a DST change), hours are fixed durations.
func TestAddToDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("SKIPPED: no zoneinfo for America/New_York: %v", err)
	}
	start := time.Date(2024, 3, 9, 12, 0, 0, 0, ny)
	if got := (Period{1, Day}).AddTo(start, 1); got.Sub(start) != 23*time.Hour || got.Hour() != 12 {
		t.Errorf("1 day over spring-forward: %v (%v)", got, got.Sub(start))
	}
	if got := (Period{24, Hour}).AddTo(start, 1); got.Sub(start) != 24*time.Hour || got.Hour() != 13 {
		t.Errorf("24 hours over spring-forward: %v", got)
	}
}

func TestApprox(t *testing.T) {
	for _, c := range []struct {
		p    Period
		want time.Duration
	}{{Period{15, Minute}, 15 * time.Minute}, {Period{1, Month}, 30 * 24 * time.Hour}, {Period{3, Year}, 3 * 365 * 24 * time.Hour}} {
		if got := c.p.Approx(); got != c.want {
			t.Errorf("%v.Approx() = %v, want %v", c.p, got, c.want)
		}
	}
}
