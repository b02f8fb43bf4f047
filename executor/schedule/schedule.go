package schedule

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/period"
)

// Type is an effective scheduleType.
type Type string

const (
	Timeseries Type = "timeseries" // runnable at the interval end (the default)
	Cron       Type = "cron"       // runnable at the interval start
	OnDemand   Type = "ondemand"   // one instance per activation
)

// ParseType reads a scheduleType value case-insensitively; "" gives
// Timeseries, the default when the definition names none.
func ParseType(s string) (Type, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "timeseries":
		return Timeseries, nil
	case "cron":
		return Cron, nil
	case "ondemand":
		return OnDemand, nil
	}
	return "", fmt.Errorf("scheduleType %q: want cron, timeseries or ondemand", s)
}

// Special values of the on-demand Schedule object.
const (
	OnDemandPeriod         = "ONDEMAND_PERIOD"
	OnDemandActivationTime = "ONDEMAND_ACTIVATION_TIME"
	FirstActivation        = "FIRST_ACTIVATION_DATE_TIME"
)

// TimeLayout is how the service writes DateTimes (and instance ids).
const TimeLayout = "2006-01-02T15:04:05"

// Schedule is a resolved Schedule object. Times are UTC.
type Schedule struct {
	ID          string
	Period      period.Period // zero for on-demand
	Start       time.Time
	End         time.Time // zero when not bounded by endDateTime
	Occurrences int       // 0 when not bounded by occurrences
	OnDemand    bool      // the ONDEMAND_PERIOD / ONDEMAND_ACTIVATION_TIME schedule
	// FromActivation: startAt FIRST_ACTIVATION_DATE_TIME, the schedule
	// starts when the pipeline is activated, so nothing is ever backfill.
	FromActivation bool

	step   time.Duration // fixed length of a period, 0 for months/years
	length time.Duration // nominal length, cached (Period.Approx allocates)
	safeK  int           // intervals below this end before MaxTime (pastMax)
}

// Error is a schedule that cannot be read, located at the offending field.
type Error struct {
	ObjectID string
	Field    string
	Pos      definition.Pos
	Err      error
}

func (e *Error) Error() string {
	loc := ""
	if e.Pos.IsValid() {
		loc = e.Pos.String() + ": "
	}
	return fmt.Sprintf("%sobject %q field %q: %v", loc, e.ObjectID, e.Field, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// FromObject reads a Schedule object's effective fields. activation is the
// pipeline's (first) activation time, used by startAt
// FIRST_ACTIVATION_DATE_TIME and the on-demand schedule.
func FromObject(d *definition.Definition, o *definition.Object, activation time.Time) (*Schedule, error) {
	e := d.Effective(o)
	s := &Schedule{ID: o.ID}
	fail := func(field string, err error) (*Schedule, error) {
		pos := o.Pos
		if f := e.Get(field); f != nil && f.Pos.IsValid() {
			pos = f.Pos
		}
		return nil, &Error{ObjectID: o.ID, Field: field, Pos: pos, Err: err}
	}
	per := strings.TrimSpace(e.Str("period"))
	startAt := strings.TrimSpace(e.Str("startAt"))
	if strings.EqualFold(per, OnDemandPeriod) || strings.EqualFold(startAt, OnDemandActivationTime) {
		s.OnDemand = true
		s.Start = activation.UTC()
		s.End = s.Start
		s.Occurrences = 1
		return s, nil
	}
	if per == "" {
		return fail("period", errors.New("missing (a Schedule needs a period such as \"1 day\")"))
	}
	p, err := period.Parse(per)
	if err != nil {
		return fail("period", err)
	}
	s.Period = p
	start := strings.TrimSpace(e.Str("startDateTime"))
	switch {
	case start != "":
		if s.Start, err = ParseTime(start); err != nil {
			return fail("startDateTime", err)
		}
	case strings.EqualFold(startAt, FirstActivation):
		s.Start = activation.UTC().Truncate(time.Second)
		s.FromActivation = true
	case startAt != "":
		return fail("startAt", fmt.Errorf("%q: want %s", startAt, FirstActivation))
	default:
		return fail("startDateTime", errors.New("missing: a Schedule needs startDateTime or startAt"))
	}
	if end := strings.TrimSpace(e.Str("endDateTime")); end != "" {
		if s.End, err = ParseTime(end); err != nil {
			return fail("endDateTime", err)
		}
		if !s.End.After(s.Start) {
			return fail("endDateTime", fmt.Errorf("%s is not after the start %s", end, s.Start.Format(TimeLayout)))
		}
	}
	if occ := strings.TrimSpace(e.Str("occurrences")); occ != "" {
		n, err := strconv.Atoi(occ)
		if err != nil || n <= 0 {
			return fail("occurrences", fmt.Errorf("%q is not a positive whole number", occ))
		}
		s.Occurrences = n
	}
	s.init()
	return s, nil
}

// NewSchedule builds a schedule from its parts (tests, engine); end may be zero and
// occurrences 0 for an unbounded schedule.
func NewSchedule(id string, p period.Period, start, end time.Time, occurrences int) *Schedule {
	s := &Schedule{ID: id, Period: p, Start: start.UTC(), Occurrences: occurrences}
	if !end.IsZero() {
		s.End = end.UTC()
	}
	s.init()
	return s
}

func (s *Schedule) init() {
	s.length = s.Period.Approx()
	defer s.setSafeK()
	switch s.Period.Unit {
	case period.Second, period.Minute, period.Hour, period.Day, period.Week:
		// In UTC days and weeks have a fixed length too.
		s.step = s.Period.AddTo(time.Time{}, 1).Sub(time.Time{})
	}
}

// ParseTime reads a DateTime as written in definitions
// (yyyy-MM-ddTHH:mm:ss, optionally with a zone or fraction, or a date) and
// returns it in UTC.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{TimeLayout, time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t = t.UTC(); t.Before(MinTime) || t.After(MaxTime) {
				return time.Time{}, fmt.Errorf("%q is out of range: dates run from %s to %s", s, MinTime.Format(TimeLayout), MaxTime.Format(TimeLayout))
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a DateTime (want yyyy-MM-ddTHH:mm:ss)", s)
}

// MinTime and MaxTime bound every date of a definition (years 1 to 9999);
// a schedule ends at MaxTime however it is written.
var (
	MinTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// Bounded reports whether the schedule has a finite number of intervals.
func (s *Schedule) Bounded() bool { return s.OnDemand || s.Occurrences > 0 || !s.End.IsZero() }

// Interval returns the bounds of interval k (k ≥ 0), ignoring the end bound.
func (s *Schedule) Interval(k int) (start, end time.Time) {
	if s.OnDemand {
		return s.Start, s.Start
	}
	if s.step > 0 {
		// k * step would overflow a Duration after about 292 years: add
		// in chunks that cannot.
		whole := int(math.MaxInt64 / int64(s.step))
		start = s.Start
		for k > whole {
			start = start.Add(time.Duration(whole) * s.step)
			k -= whole
		}
		start = start.Add(time.Duration(k) * s.step)
		return start, start.Add(s.step)
	}
	return s.Period.AddTo(s.Start, k), s.Period.AddTo(s.Start, k+1)
}

// Has reports whether interval k exists under the schedule's bounds.
func (s *Schedule) Has(k int) bool {
	switch {
	case k < 0:
		return false
	case s.OnDemand:
		return k == 0
	case s.pastMax(k):
		return false // no date after 9999-12-31T23:59:59
	case s.Occurrences > 0:
		return k < s.Occurrences
	case !s.End.IsZero():
		start, _ := s.Interval(k)
		return start.Before(s.End)
	}
	return true
}

// Count returns the number of intervals, or -1 when unbounded.
func (s *Schedule) Count() int {
	switch {
	case s.OnDemand:
		return 1
	case s.Occurrences > 0:
		return s.Occurrences
	case !s.End.IsZero():
		k := s.IndexAt(s.End)
		if st, _ := s.Interval(k); st.Before(s.End) {
			k++ // End falls inside interval k: the partial interval counts
		}
		return k
	}
	return -1
}

// IndexAt returns the index of the interval containing t (ignoring the
// end bound); it is negative when t is before the start.
func (s *Schedule) IndexAt(t time.Time) int {
	if s.OnDemand {
		return 0
	}
	if s.step > 0 {
		d := t.Sub(s.Start)
		k := int(d / s.step)
		if d < 0 && d%s.step != 0 {
			k--
		}
		return k
	}
	// Months and years: estimate from the calendar, then correct.
	months := (t.Year()-s.Start.Year())*12 + int(t.Month()) - int(s.Start.Month())
	per := s.Period.N
	if s.Period.Unit == period.Year {
		per *= 12
	}
	k := months / per
	if months < 0 && months%per != 0 {
		k--
	}
	for st, _ := s.Interval(k); st.After(t); st, _ = s.Interval(k) {
		k--
	}
	for _, en := s.Interval(k); !en.After(t); _, en = s.Interval(k) {
		k++
	}
	return k
}

// Length is the nominal length used to compare periods (months 30 days).
func (s *Schedule) Length() time.Duration {
	if s.OnDemand {
		return 0
	}
	if s.length == 0 {
		return s.Period.Approx() // a Schedule built without init
	}
	return s.length
}

// pastMax reports whether interval k would end after MaxTime. Intervals
// below safeK end well before it; only the last ones are computed.
func (s *Schedule) pastMax(k int) bool {
	if k < s.safeK {
		return false
	}
	_, end := s.Interval(k)
	return end.After(MaxTime) || end.Before(s.Start)
}

// setSafeK computes how many intervals surely end before MaxTime, using the
// longest a period can be (31-day months, 366-day years).
func (s *Schedule) setSafeK() {
	longest := float64(s.length)
	switch s.Period.Unit {
	case period.Month:
		longest = longest / 30 * 31
	case period.Year:
		longest = longest / 365 * 366
	}
	if longest <= 0 {
		return
	}
	span := float64(MaxTime.Unix()-s.Start.Unix()) * float64(time.Second)
	s.safeK = int(math.Min(span/longest-2, 1<<60))
}
