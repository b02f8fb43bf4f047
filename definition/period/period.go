// Package period parses Data Pipeline periods ("15 minutes", "1 Day",
// "2 Hours") and applies them to times with calendar semantics.
package period

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Unit is a calendar unit of a period.
type Unit int

const (
	Second Unit = iota
	Minute
	Hour
	Day
	Week
	Month
	Year
)

const day = 24 * time.Hour

// unitLength is each unit's nominal length (months 30 days, years 365).
var unitLength = [...]time.Duration{time.Second, time.Minute, time.Hour, day, 7 * day, 30 * day, 365 * day}

var unitNames = [...]string{"second", "minute", "hour", "day", "week", "month", "year"}

func (u Unit) String() string { return unitNames[u] }

// Period is N units, e.g. 15 minutes or 1 month.
type Period struct {
	N    int
	Unit Unit
}

func (p Period) String() string {
	if p.N == 1 {
		return "1 " + p.Unit.String()
	}
	return fmt.Sprintf("%d %ss", p.N, p.Unit)
}

// ErrTooLarge is wrapped by the error of a period whose length does not
// fit the arithmetic (about 292 years: the range of time.Duration).
var ErrTooLarge = errors.New("too large")

// Max returns the largest count of unit that Parse accepts: the most whose
// nominal length (months as 30 days, years as 365) fits a time.Duration.
func Max(u Unit) int { return int(math.MaxInt64 / int64(unitLength[u])) }

// TooLarge explains a value over the maximum; callers that build periods
// or durations from other sources use it for the same message.
func TooLarge(s string, u Unit) error {
	return fmt.Errorf("period %q is %w: at most %d %ss", s, ErrTooLarge, Max(u), u)
}

// Parse reads "N unit" case-insensitively, singular or plural, with any
// amount of blank space between number and unit. Seconds are accepted
// (callers warn where the service would not take them).
func Parse(s string) (Period, error) {
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return Period{}, fmt.Errorf("period %q: want \"N unit\" such as \"15 minutes\" or \"1 day\"", s)
	}
	n, err := strconv.Atoi(fields[0])
	digits := fields[0] != "" && strings.Trim(fields[0], "0123456789") == ""
	if (err != nil && !digits) || (err == nil && n <= 0) || fields[0][0] == '+' {
		return Period{}, fmt.Errorf("period %q: %q is not a positive whole number", s, fields[0])
	}
	unit := strings.ToLower(fields[1])
	if len(unit) > 1 && strings.HasSuffix(unit, "s") {
		unit = unit[:len(unit)-1]
	}
	for i, name := range unitNames {
		if unit == name {
			// err != nil here means more digits than an int holds.
			if err != nil || n > Max(Unit(i)) {
				return Period{}, TooLarge(s, Unit(i))
			}
			return Period{N: n, Unit: Unit(i)}, nil
		}
	}
	return Period{}, fmt.Errorf("period %q: unknown unit %q (use minutes, hours, days, weeks, months or years)", s, fields[1])
}

// AddTo returns t moved by k periods (k may be negative). Months and years
// keep the day of month where possible and clamp to the month's end like
// Joda-Time (Jan 31 + 1 month = Feb 28/29). Arithmetic happens in t's zone.
func (p Period) AddTo(t time.Time, k int) time.Time {
	n := p.N * k
	switch p.Unit {
	case Second:
		return t.Add(time.Duration(n) * time.Second)
	case Minute:
		return t.Add(time.Duration(n) * time.Minute)
	case Hour:
		return t.Add(time.Duration(n) * time.Hour)
	case Day:
		return t.AddDate(0, 0, n)
	case Week:
		return t.AddDate(0, 0, 7*n)
	case Month:
		return AddMonths(t, n)
	default:
		return AddMonths(t, 12*n)
	}
}

// AddMonths adds n calendar months, clamping the day to the target month's
// last day instead of overflowing into the next month.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + n
	ty := y + floorDiv(total, 12)
	tm := time.Month(floorMod(total, 12) + 1)
	if last := daysIn(ty, tm); d > last {
		d = last
	}
	return time.Date(ty, tm, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

// Approx returns the period's nominal length (months as 30 days, years as
// 365 days), for comparisons such as "at least 15 minutes".
func (p Period) Approx() time.Duration {
	return time.Duration(p.N) * unitLength[p.Unit]
}

// AddToChecked is AddTo for k periods that may leave the years dpl can
// represent (1 to 9999): an error instead of a wrapped or clamped time.
func (p Period) AddToChecked(t time.Time, k int) (time.Time, error) {
	n, ok := mulInt(p.N, k)
	if !ok || n > 12*10000 && p.Unit >= Month || p.Unit < Month && !durationFits(p, n) {
		return time.Time{}, fmt.Errorf("%d × %s from %s: %w: past the year 9999", k, p, t.Format(time.DateTime), ErrOutOfRange)
	}
	r := p.AddTo(t, k)
	if y := r.Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%d × %s from %s: %w: year %d", k, p, t.Format(time.DateTime), ErrOutOfRange, y)
	}
	return r, nil
}

// ErrOutOfRange is wrapped by errors about times outside years 1 to 9999.
var ErrOutOfRange = errors.New("out of range")

func mulInt(a, b int) (int, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt) || (b == -1 && a == math.MinInt) {
		return 0, false
	}
	return c, true
}

// durationFits reports whether n units of a sub-month period stay within
// 10,000 years (the span of representable dates).
func durationFits(p Period, n int) bool {
	const span = 10000 * 366 * 24 * float64(time.Hour)
	return math.Abs(float64(n)*float64(unitLength[p.Unit])) <= span
}
