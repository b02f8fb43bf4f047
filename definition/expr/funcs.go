package expr

import (
	"fmt"
	"sort"
	"time"

	"github.com/dpl-dev/dpl/definition/period"
)

// fn is a built-in function: its parameter types and implementation. The
// evaluator coerces arguments to the parameter types before calling impl.
type fn struct {
	params []Kind
	impl   func(a []Value) (Value, error)
}

var (
	pT   = []Kind{KindDateTime}
	pTI  = []Kind{KindDateTime, KindInt}
	pTS  = []Kind{KindDateTime, KindString}
	pIII = []Kind{KindInt, KindInt, KindInt}
)

func timeFn(f func(time.Time) time.Time) fn {
	return fn{pT, func(a []Value) (Value, error) { return DateTime(f(a[0].t)), nil }}
}

func partFn(f func(time.Time) int) fn {
	return fn{pT, func(a []Value) (Value, error) { return Int(int64(f(a[0].t))), nil }}
}

// shiftFn builds plusX/minusX; sign is +1 or -1.
func shiftFn(sign int, f func(time.Time, int) time.Time) fn {
	return fn{pTI, func(a []Value) (Value, error) {
		n := a[1].i * int64(sign)
		if n > 1<<31-1 || n < -(1<<31) {
			return Value{}, fmt.Errorf("amount %d out of range", a[1].i)
		}
		return DateTime(f(a[0].t, int(n))), nil
	}}
}

func addMinutes(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Minute) }
func addHours(t time.Time, n int) time.Time   { return t.Add(time.Duration(n) * time.Hour) }
func addWeeks(t time.Time, n int) time.Time   { return addDays(t, 7*n) }
func addYears(t time.Time, n int) time.Time   { return addMonths(t, 12*n) }

// addPeriod applies a period k times with the same Joda semantics as the
// plusX functions (period.Parse does the parsing).
func addPeriod(t time.Time, p period.Period, k int) time.Time {
	n := p.N * k
	switch p.Unit {
	case period.Second:
		return t.Add(time.Duration(n) * time.Second)
	case period.Minute:
		return addMinutes(t, n)
	case period.Hour:
		return addHours(t, n)
	case period.Day:
		return addDays(t, n)
	case period.Week:
		return addWeeks(t, n)
	case period.Month:
		return addMonths(t, n)
	}
	return addYears(t, n)
}

func periodFn(sign int) fn {
	return fn{pTS, func(a []Value) (Value, error) {
		p, err := period.Parse(a[1].s)
		if err != nil {
			return Value{}, err
		}
		return DateTime(addPeriod(a[0].t, p, sign)), nil
	}}
}

func checkDate(y, m, d int64) error {
	if m < 1 || m > 12 {
		return fmt.Errorf("month %d out of range 1-12", m)
	}
	if y < -292000000 || y > 292000000 {
		return fmt.Errorf("year %d out of range", y)
	}
	if d < 1 || d > int64(daysIn(int(y), time.Month(m))) {
		return fmt.Errorf("day %d out of range for %04d-%02d", d, y, m)
	}
	return nil
}

var funcs = map[string]fn{
	"year":      partFn(func(t time.Time) int { return t.Year() }),
	"month":     partFn(func(t time.Time) int { return int(t.Month()) }),
	"day":       partFn(func(t time.Time) int { return t.Day() }),
	"dayOfYear": partFn(func(t time.Time) int { return t.YearDay() }),
	"hour":      partFn(func(t time.Time) int { return t.Hour() }),
	"minute":    partFn(func(t time.Time) int { return t.Minute() }),
	"makeDate": {pIII, func(a []Value) (Value, error) {
		if err := checkDate(a[0].i, a[1].i, a[2].i); err != nil {
			return Value{}, err
		}
		return DateTime(time.Date(int(a[0].i), time.Month(a[1].i), int(a[2].i), 0, 0, 0, 0, time.UTC)), nil
	}},
	"makeDateTime": {[]Kind{KindInt, KindInt, KindInt, KindInt, KindInt}, func(a []Value) (Value, error) {
		if err := checkDate(a[0].i, a[1].i, a[2].i); err != nil {
			return Value{}, err
		}
		if a[3].i < 0 || a[3].i > 23 || a[4].i < 0 || a[4].i > 59 {
			return Value{}, fmt.Errorf("time %d:%d out of range", a[3].i, a[4].i)
		}
		return DateTime(time.Date(int(a[0].i), time.Month(a[1].i), int(a[2].i), int(a[3].i), int(a[4].i), 0, 0, time.UTC)), nil
	}},
	// firstOfMonth keeps the time of day (documented result 2011-05-01T17:10:00).
	"firstOfMonth": timeFn(func(t time.Time) time.Time {
		if t.Day() == 1 {
			return t
		}
		return withLocal(t, t.Year(), t.Month(), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond())
	}),
	"midnight": timeFn(func(t time.Time) time.Time {
		return withLocal(t, t.Year(), t.Month(), t.Day(), 0, 0, 0, 0)
	}),
	// sunday returns the previous Sunday (the day itself when it is one), time kept.
	"sunday":    timeFn(func(t time.Time) time.Time { return addDays(t, -int(t.Weekday())) }),
	"yesterday": timeFn(func(t time.Time) time.Time { return addDays(t, -1) }),

	"plusMinutes":  shiftFn(1, addMinutes),
	"plusHours":    shiftFn(1, addHours),
	"plusDays":     shiftFn(1, addDays),
	"plusWeeks":    shiftFn(1, addWeeks),
	"plusMonths":   shiftFn(1, addMonths),
	"plusYears":    shiftFn(1, addYears),
	"minusMinutes": shiftFn(-1, addMinutes),
	"minusHours":   shiftFn(-1, addHours),
	"minusDays":    shiftFn(-1, addDays),
	"minusWeeks":   shiftFn(-1, addWeeks),
	"minusMonths":  shiftFn(-1, addMonths),
	"minusYears":   shiftFn(-1, addYears),
	"plusPeriod":   periodFn(1),
	"minusPeriod":  periodFn(-1),

	"format": {pTS, func(a []Value) (Value, error) {
		s, err := FormatJoda(a[0].t, a[1].s)
		if err != nil {
			return Value{}, err
		}
		return String(s), nil
	}},
	"inTimeZone": {pTS, func(a []Value) (Value, error) {
		loc, err := LoadZone(a[1].s)
		if err != nil {
			return Value{}, err
		}
		return DateTime(a[0].t.In(loc)), nil
	}},
}

var funcNames = func() []string {
	names := make([]string, 0, len(funcs))
	for n := range funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}()

// Functions returns the names of every built-in function, sorted.
func Functions() []string { return append([]string(nil), funcNames...) }

// IsFunction reports whether name is a built-in function.
func IsFunction(name string) bool { _, ok := funcs[name]; return ok }
