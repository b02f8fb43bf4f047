package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
)

// testNow is the clock for backfill checks: after the fixtures' past
// start dates, before their future ones.
var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// expect is one diagnostic a broken fixture must produce. at is a snippet
// of the fixture; the diagnostic's line must be the line holding it.
type expect struct {
	sev   definition.Severity
	code  string
	id    string
	field string
	at    string
}

const (
	E = definition.SeverityError
	W = definition.SeverityWarning
)

// brokenFixtures maps each file under definition/testdata/invalid to what
// it must produce: one broken definition per check.
var brokenFixtures = map[string][]expect{
	"duplicate-id":                {{E, codeDuplicateID, "Greet", "id", `"id": "Greet",` + "\n      \"name\": \"Greet again\""}},
	"empty-name":                  {{E, codeMissingName, "Worker", "name", `"name": ""`}},
	"missing-type":                {{E, codeMissingType, "Orphan", "type", `"id": "Orphan"`}},
	"unknown-type":                {{E, codeUnknownType, "Greet", "type", `"ShellComandActivity"`}},
	"default-with-type":           {{W, codeDefaultType, "Default", "type", `"type": "ShellCommandActivity"` + "\n    },"}},
	"runtime-at-field":            {{E, codeReadOnly, "Greet", "@status", `"@status"`}},
	"runtime-bare-field":          {{W, "RUNTIME_FIELD", "Greet", "errorMessage", `"errorMessage"`}},
	"bad-user-field":              {{E, codeUnknownField, "Greet", "mycomment", `"mycomment"`}},
	"unknown-field":               {{E, codeUnknownField, "Greet", "comand", `"comand"`}},
	"default-unknown-field":       {{E, codeUnknownField, "Default", "maximumRetires", `"maximumRetires"`}},
	"empty-value":                 {{E, codeEmptyValue, "Worker", "keyPair", `"keyPair": ""`}},
	"missing-ref":                 {{E, codeMissingRef, "Greet", "runsOn", `"runsOn": {` + "\n        \"ref\": \"Wroker\""}},
	"ref-wrong-type":              {{E, codeRefType, "Greet", "runsOn", `"runsOn": {` + "\n        \"ref\": \"Landing\""}},
	"parent-cycle":                {{E, codeCycle, "TemplateA", "parent", `"parent": {` + "\n        \"ref\": \"TemplateB\""}, {E, codeMissingSchedule, "Greet", "schedule", `"id": "Greet"`}},
	"parent-multi":                {{E, codeRefExpected, "Greet", "parent", `"parent": [`}},
	"dependson-cycle":             {{E, codeCycle, "Second", "dependsOn", `"dependsOn": {` + "\n        \"ref\": \"Greet\""}},
	"producer-consumer-cycle":     {{E, codeCycle, "Tidy", "input", `"input": {` + "\n        \"ref\": \"Raw\""}},
	"exclusive-command-scripturi": {{E, "INVALID_FIELD_COMBINATION", "Greet", "scriptUri", `"scriptUri"`}},
	"one-of-missing":              {{E, codeMissingField, "Greet", "command", `"id": "Greet"`}},
	"required-missing":            {{E, codeMissingField, "Alarm", "topicArn", `"id": "Alarm"`}},
	"value-kind":                  {{E, codeInvalidValue, "Greet", "maximumRetries", `"maximumRetries": "three"`}},
	"inherited-value":             {{E, codeInvalidValue, "Default", "maximumRetries", `"maximumRetries": "lots"`}},
	"ondemand-not-default":        {{E, codeSchedule, "Greet", "scheduleType", `"scheduleType": "ondemand"`}},
	"ondemand-with-schedule":      {{E, codeSchedule, "Default", "schedule", `"schedule"`}, {E, codeSchedule, "Nightly", "type", `"id": "Nightly"`}},
	"missing-schedule":            {{E, codeMissingSchedule, "Greet", "schedule", `"id": "Greet"`}},
	"ondemand-max-active":         {{E, codeInvalidValue, "Default", "maxActiveInstances", `"maxActiveInstances"`}},
	"period-grammar":              {{E, codeInvalidValue, "Nightly", "period", `"1 fortnight"`}},
	"period-too-short":            {{E, codeInvalidValue, "Nightly", "period", `"5 minutes"`}},
	"period-too-long":             {{E, codeInvalidValue, "Nightly", "period", `"4 years"`}},
	"start-not-literal":           {{E, codeInvalidValue, "Nightly", "startDateTime", `"startDateTime"`}},
	"start-and-startat":           {{E, "INVALID_FIELD_COMBINATION", "Nightly", "startAt", `"startAt"`}, {W, "DEPRECATED_FIELD", "Nightly", "startAt", `"startAt"`}},
	"end-and-occurrences":         {{E, "INVALID_FIELD_COMBINATION", "Nightly", "endDateTime", `"endDateTime"`}},
	"end-before-start":            {{E, codeInvalidValue, "Nightly", "endDateTime", `"endDateTime"`}},
	"activity-without-runson":     {{E, codeOneOf, "Greet", "runsOn", `"id": "Greet"`}},
	"resource-with-workergroup":   {{E, codeNotAllowed, "Worker", "workerGroup", `"workerGroup"`}},
	"late-action-without-timeout": {{E, codeMissingField, "Greet", "onLateAction", `"onLateAction"`}},
	"param-prefix":                {{E, codeParameter, "greeting", "id", `"id": "greeting"`}},
	"param-type":                  {{E, codeParameter, "myGreeting", "type", `"type": "Text"`}},
	"param-type-case":             {{W, codeParameter, "myGreeting", "type", `"type": "string"`}},
	"param-allowed":               {{E, codeParamValue, "myGreeting", "values", `"myGreeting": "howdy"`}},
	"param-no-value":              {{W, codeMissingValue, "myGreeting", "values", `"id": "myGreeting"`}},
	"param-array":                 {{E, codeParamValue, "myGreeting", "values", `"myGreeting": [`}},
	"param-integer":               {{E, codeParamValue, "myRepeat", "values", `"myRepeat": "twice"`}},
	"param-undeclared-value":      {{E, codeUnknownParam, "myGreting", "values", `"myGreting"`}},
	"param-undeclared-use":        {{E, codeUnknownParam, "Greet", "command", `#{myGreting}`}},
	"expr-unclosed":               {{E, codeExpression, "Greet", "command", `"command": "echo #{format`}},
	"expr-unknown-function":       {{E, codeExpression, "Greet", "command", `fromat(`}},
	"deprecated-type":             {{W, "DEPRECATED_TYPE", "Orders", "type", `"MySqlDataNode"`}},
	"deprecated-field":            {{W, "DEPRECATED_FIELD", "Nightly", "startAt", `"startAt"`}},
	"cascade-backfill":            {{W, codeBackfill, "Default", "failureAndRerunMode", `"CASCADE"`}},
	"step-count":                  {{W, codeLimit, "Steps", "step", `"command-runner.jar,echo,255"`}},
	"nul-in-command":              {{E, codeInvalidValue, "Greet", "command", `"command": "echo a\u0000b"`}},
	"param-built-values": {{E, codeInvalidValue, "Worker", "terminateAfter", `"#{myHours} hours"`},
		{E, codeInvalidValue, "Worker", "actionOnTaskFailure", `"#{myAction}"`}, {E, codeInvalidValue, "Greet", "maximumRetries", `"#{myRetries}"`}},
	"param-suggest-tie":     {{E, codeUnknownParam, "Greet", "command", `#{myAa}`}},
	"limit-retries":         {{W, codeLimit, "Greet", "maximumRetries", `"maximumRetries": "9"`}},
	"syntax-trailing-comma": {{E, "SYNTAX_ERROR", "", "", `"ondemand",}`}},
}

func TestBrokenFixtures(t *testing.T) {
	files, err := filepath.Glob("../testdata/invalid/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures under ../testdata/invalid: %v", err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := brokenFixtures[name]
			if !ok {
				t.Fatalf("fixture %s has no expectation in brokenFixtures", name)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Bytes(path, data, Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Diagnostics) != len(want) {
				t.Errorf("got %d diagnostics, want %d:\n%s", len(r.Diagnostics), len(want), dump(r.Diagnostics))
			}
			for _, w := range want {
				line := lineOf(t, string(data), w.at)
				if !hasDiag(r.Diagnostics, w, line) {
					t.Errorf("missing %s %s id=%q field=%q line=%d; got:\n%s", w.sev, w.code, w.id, w.field, line, dump(r.Diagnostics))
				}
			}
			if (r.Errored()) != hasError(want) {
				t.Errorf("Errored() = %v", r.Errored())
			}
		})
	}
	for name := range brokenFixtures {
		if !seen[name] {
			t.Errorf("expectation %s has no fixture file", name)
		}
	}
}

func hasError(ws []expect) bool {
	for _, w := range ws {
		if w.sev == E {
			return true
		}
	}
	return false
}

// lineOf returns the 1-based line where snippet starts; the snippet must
// occur exactly once so the expectation is unambiguous.
func lineOf(t *testing.T, src, snippet string) int {
	t.Helper()
	i := strings.Index(src, snippet)
	if i < 0 || strings.Count(src, snippet) != 1 {
		t.Fatalf("snippet %q occurs %d times in the fixture; make it unique", snippet, strings.Count(src, snippet))
	}
	return strings.Count(src[:i], "\n") + 1
}

func hasDiag(ds []definition.Diagnostic, w expect, line int) bool {
	for _, d := range ds {
		if d.Severity == w.sev && d.Code == w.code && d.ObjectID == w.id && d.Field == w.field && int(d.Pos.Line) == line && d.Pos.Col > 0 {
			return true
		}
	}
	return false
}

func dump(ds []definition.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString("  " + d.Error() + "\n")
	}
	return b.String()
}
