package schedule

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/validate"
)

const corpusDir = "/work/shared/corpus/files"

// TestCorpusPlans runs the `dpl plan` rendering (JSON, the default window)
// over every corpus definition that parses and validates, with a
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
		if diags := validate.Definition(d, validate.Options{Values: overrides, Now: now}); validate.Errored(diags) {
			invalid++
			// Out of scope for the pass/fail check (dpl plan refuses it), but
			// planning it anyway must not panic.
			_, err := Render(io.Discard, d, Request{Now: now, JSON: true, Params: overrides})
			t.Logf("%s: does not validate (%v); planning it anyway gave: %v", name, firstError(diags), err)
			continue
		}
		notes, err := Render(io.Discard, d, Request{Now: now, JSON: true, Params: overrides})
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
	t.Logf("planned %d of %d corpus files (%d do not validate)", planned, len(paths), invalid)
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

func firstError(diags []definition.Diagnostic) string {
	for _, d := range diags {
		if d.Severity == definition.SeverityError {
			return d.Error()
		}
	}
	return ""
}
