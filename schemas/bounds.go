package schemas

import (
	"errors"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/definition/period"
)

// boundsProblem reports literal values that match a field's pattern but
// cannot be represented: periods past the arithmetic's range (about 292
// years), a bare number of hours as large, and datetimes in year 0.
func boundsProblem(fi *FieldInfo, val any) (Violation, bool) {
	vals, ok := val.([]any)
	if !ok {
		vals = []any{val}
	}
	for _, e := range vals {
		s, ok := e.(string)
		if !ok || strings.Contains(s, "#{") {
			continue
		}
		s = strings.TrimSpace(s)
		switch fi.Kind {
		case KindPeriod, KindPeriodOrInteger:
			if _, err := period.Parse(s); errors.Is(err, period.ErrTooLarge) {
				return violation(CodeInvalidValue, fi.Name, "%v", err), true
			}
			if fi.Kind == KindPeriodOrInteger && s != "" && strings.Trim(s, "0123456789") == "" {
				if n, err := strconv.Atoi(s); err != nil || n > period.Max(period.Hour) {
					return violation(CodeInvalidValue, fi.Name, "value %q is too large: at most %d hours", s, period.Max(period.Hour)), true
				}
			}
		case KindDateTime:
			if strings.HasPrefix(s, "0000-") {
				return violation(CodeInvalidValue, fi.Name, "year 0000 of %q is out of range: dates run from 0001-01-01T00:00:00 to 9999-12-31T23:59:59", s), true
			}
		}
	}
	return Violation{}, false
}
