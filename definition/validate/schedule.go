package validate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/period"
)

const (
	minSchedulePeriod = 15 * time.Minute
	maxSchedulePeriod = 3 * 365 * 24 * time.Hour
	// maxActive is the service's per-object active-instance limit; for
	// on-demand pipelines it is a hard maximum.
	maxActive = 5
)

// isParamRef reports whether s is exactly one #{myParam} reference.
func isParamRef(s string) bool {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "#{") || !strings.HasSuffix(s, "}") || strings.Count(s, "#{") != 1 {
		return false
	}
	name := strings.TrimSpace(s[2 : len(s)-1])
	return strings.HasPrefix(strings.TrimPrefix(name, "*"), "my") && !strings.ContainsAny(name, "(). ")
}

// dateTimeLayout is the only literal form the service accepts (UTC).
const dateTimeLayout = "2006-01-02T15:04:05"

// checkScheduleMode applies the pipeline-wide on-demand rules (§3.9):
// ondemand only on Default and then everywhere; no Schedule objects or
// schedule refs in an on-demand pipeline.
func (c *checker) checkScheduleMode() {
	if def := c.ids[definition.DefaultID]; def != nil {
		if f := def.Field("scheduleType"); f != nil && strings.EqualFold(f.First().Str, "ondemand") {
			c.ondemand = true
		}
	}
	for _, o := range c.d.Objects {
		if c.ids[o.ID] != o {
			continue
		}
		if f := o.Field("scheduleType"); f != nil && o.ID != definition.DefaultID && !f.First().IsRef {
			v := f.First().Str
			w := at{pos: f.Pos, id: o.ID, field: "scheduleType"}
			switch {
			case strings.EqualFold(v, "ondemand") && !c.ondemand:
				c.errorf(w, codeSchedule, "ondemand must be set on the Default object, and then applies to the whole pipeline")
			case c.ondemand && !strings.EqualFold(v, "ondemand") && !hasExpr(v):
				c.errorf(w, codeSchedule, "%q conflicts with the on-demand pipeline (Default scheduleType ondemand); no object may use another scheduleType", v)
			}
		}
		if !c.ondemand {
			continue
		}
		if o.OwnType() == "Schedule" {
			c.errorf(objAt(o, "type"), codeSchedule, "an on-demand pipeline (Default scheduleType ondemand) must not contain Schedule objects")
		}
		if f := o.Field("schedule"); f != nil {
			c.errorf(at{pos: f.Pos, id: o.ID, field: "schedule"}, codeSchedule, "an on-demand pipeline (Default scheduleType ondemand) must not use schedules")
		}
	}
	for _, o := range c.d.Objects {
		f := o.Field("maxActiveInstances")
		if f == nil || c.ids[o.ID] != o {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(f.First().Str))
		if err != nil || n <= maxActive {
			continue // the schema layer reports non-integers
		}
		w := at{pos: f.Pos, id: o.ID, field: "maxActiveInstances"}
		if c.ondemand {
			c.errorf(w, codeInvalidValue, "is %d; on-demand pipelines allow at most %d active instances", n, maxActive)
		} else {
			c.limit(w, "is %d; the service allows %d active instances per object unless the limit was raised", n, maxActive)
		}
	}
}

// checkObjectSchedule: outside on-demand pipelines every activity, data
// node and resource needs a schedule, its own or inherited.
func (c *checker) checkObjectSchedule(o *definition.Object, e *definition.Effective) {
	if c.ondemand {
		return
	}
	sf := e.Get("schedule")
	if sf == nil {
		c.errorf(objAt(o, "schedule"), codeMissingSchedule,
			"is missing: set it on the object or on Default, or make the pipeline on-demand (Default scheduleType ondemand)")
		return
	}
	if mode := e.Get("failureAndRerunMode"); mode != nil && strings.EqualFold(mode.First().Str, "cascade") {
		for _, id := range e.Refs("schedule") {
			s := c.ids[id]
			if s == nil {
				continue
			}
			start := c.d.Effective(s).Str("startDateTime")
			t, err := time.Parse(dateTimeLayout, strings.TrimSpace(start))
			if err != nil || !t.Before(c.opts.Now) {
				continue
			}
			c.warnf(c.fieldAt(o, e, "failureAndRerunMode"), codeBackfill,
				"is cascade and a backfill starting at %s is about to be created (schedule %q starts in the past); on failures this may create pipeline objects rapidly",
				t.Format(dateTimeLayout), id)
		}
	}
}

// checkScheduleObject checks a Schedule's period, start and end (§3.8).
func (c *checker) checkScheduleObject(o *definition.Object, e *definition.Effective) {
	if f := e.Get("period"); f != nil && !f.First().IsRef {
		c.checkPeriod(c.fieldAt(o, e, "period"), f.First().Str)
	}
	start, okStart := c.literalDateTime(o, e, "startDateTime")
	end, okEnd := c.literalDateTime(o, e, "endDateTime")
	if okStart && okEnd && !end.After(start) {
		c.errorf(c.fieldAt(o, e, "endDateTime"), codeInvalidValue, "value must be later than 'startDateTime' (%s)", start.Format(dateTimeLayout))
	}
	if f := e.Get("occurrences"); f != nil {
		if s, ok := c.substitute(f.First().Str); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err != nil || n < 1 {
				c.errorf(c.fieldAt(o, e, "occurrences"), codeInvalidValue, "%s is not a positive whole number", fromParam(f.First().Str, s))
			} else if okStart {
				c.checkScheduleEnd(o, e, start, n)
			}
		}
	}
}

// checkScheduleEnd reports a schedule whose occurrences run past the last
// representable time, 9999-12-31T23:59:59.
func (c *checker) checkScheduleEnd(o *definition.Object, e *definition.Effective, start time.Time, occurrences int) {
	f := e.Get("period")
	if f == nil || f.First().IsRef {
		return
	}
	s, ok := c.substitute(f.First().Str)
	if !ok {
		return
	}
	p, err := period.Parse(s)
	if err != nil {
		return // reported by checkPeriod
	}
	if _, err := p.AddToChecked(start, occurrences); err != nil {
		c.errorf(c.fieldAt(o, e, "occurrences"), codeInvalidValue, "%d occurrences of %s from %s run past 9999-12-31T23:59:59, the last time dpl and the service can represent", occurrences, p, start.Format(dateTimeLayout))
	}
}

// checkPeriod checks a Schedule period: the grammar and the 15 minutes to
// 3 years range. Parameters are substituted first; other expressions are
// left to run time.
func (c *checker) checkPeriod(w at, raw string) {
	s, ok := c.substitute(raw)
	if !ok {
		return
	}
	p, err := period.Parse(s)
	shown := fromParam(raw, s)
	switch {
	case errors.Is(err, period.ErrTooLarge):
		c.errorf(w, codeInvalidValue, "%v", err)
	case err != nil:
		w.hint = joinHint(w.hint, `e.g. "15 minutes", "1 day", "1 month"`)
		c.errorf(w, codeInvalidValue, "%s is not a period (\"N unit\" with unit minutes, hours, days, weeks, months or years)", shown)
	case p.Unit == period.Second:
		c.errorf(w, codeInvalidValue, "%s: seconds are not a schedule unit; the minimum period is 15 minutes", shown)
	case p.Approx() < minSchedulePeriod:
		c.errorf(w, codeInvalidValue, "%s is shorter than the minimum schedule period of 15 minutes", shown)
	case p.Approx() > maxSchedulePeriod:
		c.errorf(w, codeInvalidValue, "%s is longer than the maximum schedule period of 3 years", shown)
	}
}

// fromParam quotes a value for messages, noting the raw text when a
// parameter was substituted into it.
func fromParam(raw, s string) string {
	if raw == s {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q (from %s)", s, raw)
}

// literalDateTime parses a Schedule datetime field, which the service
// requires to be a literal (no expressions): `YYYY-MM-DDTHH:MM:SS`.
func (c *checker) literalDateTime(o *definition.Object, e *definition.Effective, key string) (time.Time, bool) {
	f := e.Get(key)
	if f == nil {
		return time.Time{}, false
	}
	v := f.First()
	s := v.Str
	if !v.IsRef && isParamRef(s) {
		// A parameter is substituted when the definition is put, so the
		// value is literal by then: check the parameter's value if known.
		var ok bool
		if s, ok = c.substitute(s); !ok {
			return time.Time{}, false
		}
	}
	t, err := time.Parse(dateTimeLayout, strings.TrimSpace(s))
	if y, out := yearOutOfRange(s, t, err); out {
		c.errorf(c.fieldAt(o, e, key), codeInvalidValue, "year %s is out of range: dates run from 0001-01-01T00:00:00 to 9999-12-31T23:59:59", y)
		return time.Time{}, false
	}
	if v.IsRef || err != nil {
		w := c.fieldAt(o, e, key)
		if !v.IsRef && !hasExpr(s) {
			w.hint = joinHint(w.hint, "write it as YYYY-MM-DDTHH:MM:SS in UTC, e.g. 2024-01-15T00:00:00")
			if s != v.Str {
				w.hint = joinHint(w.hint, "value "+fromParam(v.Str, s))
			}
		}
		c.errorf(w, codeInvalidValue, "value must be a literal datetime value.")
		return time.Time{}, false
	}
	return t, true
}

// yearOutOfRange finds a datetime whose year is 0 or has five digits or
// more, which no Data Pipeline date can hold.
func yearOutOfRange(s string, t time.Time, err error) (string, bool) {
	if err == nil {
		return fmt.Sprintf("%04d", t.Year()), t.Year() < 1
	}
	s = strings.TrimSpace(s)
	i := strings.IndexByte(s, '-')
	if i < 5 || strings.Trim(s[:i], "0123456789") != "" || !strings.HasPrefix(s[i:], "-") {
		return "", false
	}
	_, rest := time.Parse(dateTimeLayout, "2000"+s[i:])
	return s[:i], rest == nil
}
