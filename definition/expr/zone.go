package expr

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA zones for inTimeZone even where the OS has none
)

var zoneCache sync.Map // id -> *time.Location

// LoadZone returns the zone for an IANA id ("America/New_York"), "UTC", or
// a fixed offset written like Joda's DateTimeZone.forID ("+05:30", "-08").
func LoadZone(id string) (*time.Location, error) {
	if id == "UTC" {
		return time.UTC, nil
	}
	if l, ok := zoneCache.Load(id); ok {
		return l.(*time.Location), nil
	}
	var loc *time.Location
	if id != "" && (id[0] == '+' || id[0] == '-') {
		off, ok := parseOffset(id)
		if !ok {
			return nil, fmt.Errorf("time zone %q: malformed offset (want +hh:mm)", id)
		}
		if off == 0 {
			return time.UTC, nil
		}
		loc = time.FixedZone(printOffset(off), off)
	} else {
		l, err := time.LoadLocation(id)
		if err != nil || id == "" || id == "Local" {
			return nil, fmt.Errorf("time zone %q is not a known IANA zone id (e.g. America/New_York)", id)
		}
		loc = l
	}
	zoneCache.Store(id, loc)
	return loc, nil
}

func parseOffset(s string) (int, bool) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	h, m, _ := strings.Cut(s[1:], ":")
	if len(h) == 4 && m == "" {
		h, m = h[:2], h[2:]
	}
	hh, err := strconv.Atoi(h)
	if err != nil || len(h) == 0 || len(h) > 2 || hh > 23 {
		return 0, false
	}
	mm := 0
	if m != "" {
		if mm, err = strconv.Atoi(m); err != nil || len(m) != 2 || mm > 59 {
			return 0, false
		}
	}
	return sign * (hh*3600 + mm*60), true
}

func offsetAt(loc *time.Location, unix int64) int {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return off
}

// fromLocal converts a wall-clock time in loc to an instant the way
// Joda-Time's DateTimeZone.getOffsetFromLocal does: a time inside a DST
// gap moves forward past the gap, and an ambiguous time in an overlap
// takes the earlier instant (the offset in force before the transition).
func fromLocal(loc *time.Location, y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	local := time.Date(y, mo, d, h, mi, s, 0, time.UTC).Unix()
	if loc == time.UTC {
		return time.Unix(local, int64(ns)).In(loc)
	}
	before := offsetAt(loc, local-86400)
	after := offsetAt(loc, local+86400)
	valid := func(o int) bool { return offsetAt(loc, local-int64(o)) == o }
	var off int
	switch vb, va := valid(before), valid(after); {
	case vb && va:
		off = max(before, after) // overlap: earlier instant
	case vb:
		off = before
	case va:
		off = after
	case before < after:
		off = before // gap: push forward past the transition
	default:
		off = offsetAt(loc, local-int64(before))
	}
	return time.Unix(local-int64(off), int64(ns)).In(loc)
}

// withLocal rebuilds t from new wall-clock fields in t's zone.
func withLocal(t time.Time, y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return fromLocal(t.Location(), y, mo, d, h, mi, s, ns)
}

// addDays adds calendar days on the local date (Joda plusDays/plusWeeks).
func addDays(t time.Time, n int) time.Time {
	if n == 0 {
		return t // Joda returns the same instant, even inside an overlap
	}
	y, mo, d := t.Date()
	return withLocal(t, y, mo, d+n, t.Hour(), t.Minute(), t.Second(), t.Nanosecond())
}

// addMonths adds calendar months with end-of-month clamping (Joda
// plusMonths/plusYears), resolving the new wall time like Joda.
func addMonths(t time.Time, n int) time.Time {
	if n == 0 {
		return t
	}
	y, mo, d := t.Date()
	total := int(mo) - 1 + n
	ty := y + floorDiv(total, 12)
	tm := time.Month(total - floorDiv(total, 12)*12 + 1)
	if last := daysIn(ty, tm); d > last {
		d = last
	}
	return withLocal(t, ty, tm, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond())
}

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
