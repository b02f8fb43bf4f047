package schedule

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
)

const corpusDir = "/work/shared/corpus/files"

// TestCorpusPlans runs the `dpl plan` rendering (JSON, the default window)
// over every corpus definition that parses without errors, with a
// placeholder for each required parameter that has no value or default.
func TestCorpusPlans(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("SKIPPED: corpus folder %s absent (%v): no real definitions planned", corpusDir, err)
	}
	paths, err := definition.ExpandPaths([]string{corpusDir})
	if err != nil {
		t.Fatal(err)
	}
	now := mustTime(t, "2024-03-02T00:00:00")
	planned, invalid := 0, 0
	for _, path := range paths {
		name, _ := filepath.Rel(corpusDir, path)
		d, err := definition.ParseFile(path)
		if err != nil {
			t.Logf("%s: not a definition dpl reads, skipped: %v", name, firstLine(err))
			continue
		}
		d.Resolve()
		_, missing := ResolveParams(d, nil)
		overrides := Params{}
		for _, id := range missing {
			overrides[id] = []string{placeholder(d, id)}
		}
		notes, err := Render(io.Discard, d, Request{Now: now, JSON: true, Params: overrides})
		var se *Error
		if errors.As(err, &se) {
			// An unreadable Schedule is a validation error (the validator
			// rejects it too); such definitions are out of scope.
			t.Logf("%s: invalid definition, skipped: %v", name, err)
			invalid++
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		planned++
		for _, n := range notes {
			if testing.Verbose() {
				t.Logf("%s: %s", name, n)
			}
		}
	}
	if planned == 0 {
		t.Fatal("no corpus definition could be planned")
	}
	t.Logf("planned %d of %d corpus files (%d with invalid schedules)", planned, len(paths), invalid)
}

// placeholder returns a value that fits where the parameter is used
// (a period, a DateTime, a count) or else its declared type.
func placeholder(d *definition.Definition, id string) string {
	for _, o := range d.Objects {
		for _, f := range o.Fields {
			for _, v := range f.Values {
				if v.IsRef || !strings.Contains(v.Str, id) {
					continue
				}
				switch f.Key {
				case "period", "terminateAfter", "attemptTimeout", "retryDelay", "lateAfterTimeout", "reportProgressTimeout":
					return "1 day"
				case "startDateTime", "endDateTime":
					return "2024-03-01T00:00:00"
				case "occurrences", "maximumRetries":
					return "1"
				}
			}
		}
	}
	typ := ""
	if p := d.Parameter(id); p != nil {
		typ, _ = p.Attr("type")
	}
	switch strings.ToLower(typ) {
	case "integer":
		return "1"
	case "double":
		return "1.0"
	case "aws::s3::objectkey":
		return "s3://placeholder-bucket/" + id
	}
	if strings.Contains(strings.ToLower(id), "date") || strings.Contains(strings.ToLower(id), "time") {
		return "2024-03-01T00:00:00"
	}
	return "placeholder-" + id
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
