// Package validate checks AWS Data Pipeline definitions offline: the
// semantic rules of the service (format.md §3.9, §4.4) on top of the
// per-type schemas, with every finding located at file, line and column.
package validate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
)

// Options tune a validation run.
type Options struct {
	// Strict turns the service's (adjustable) limits into errors.
	Strict bool
	// Values override the definition's `values` section: parameter id ->
	// values (several for isArray parameters), as given by --param.
	Values map[string][]string
	// Now is the time backfills are measured against (default time.Now).
	Now time.Time
}

// Codes used by the checks. The service publishes only INVALID_FIELD_VALUE;
// the others follow its CODE: 'field' style.
const (
	codeInvalidValue    = "INVALID_FIELD_VALUE"
	codeDuplicateID     = "DUPLICATE_ID"
	codeMissingName     = "MISSING_NAME"
	codeMissingType     = "MISSING_TYPE"
	codeUnknownType     = "UNKNOWN_TYPE"
	codeDefaultType     = "DEFAULT_HAS_TYPE"
	codeReadOnly        = "READ_ONLY_FIELD"
	codeRuntimeField    = "RUNTIME_FIELD"
	codeUnknownField    = "UNKNOWN_FIELD"
	codeEmptyValue      = "EMPTY_VALUE"
	codeMissingRef      = "MISSING_REF"
	codeRefType         = "INVALID_REF_TYPE"
	codeRefExpected     = "REF_EXPECTED"
	codeCycle           = "CYCLE"
	codeMissingField    = "MISSING_REQUIRED_FIELD"
	codeOneOf           = "ONE_OF_REQUIRED"
	codeExclusive       = "EXCLUSIVE_FIELDS"
	codeNotAllowed      = "FIELD_NOT_ALLOWED"
	codeSchedule        = "INVALID_SCHEDULE"
	codeMissingSchedule = "MISSING_SCHEDULE"
	codeDeprecated      = "DEPRECATED"
	codeLimit           = "LIMIT_EXCEEDED"
	codeBackfill        = "CASCADE_BACKFILL"
	codeParameter       = "INVALID_PARAMETER"
	codeParamValue      = "INVALID_PARAMETER_VALUE"
	codeMissingValue    = "MISSING_PARAMETER_VALUE"
	codeUnknownParam    = "UNKNOWN_PARAMETER"
	codeUnstarredSecret = "UNSTARRED_SECRET_PARAMETER"
	codeExpression      = "INVALID_EXPRESSION"
	codeSamples         = "SAMPLES_DIFFER"
)

type checker struct {
	d     *definition.Definition
	opts  Options
	g     *definition.Graph
	diags []definition.Diagnostic
	// seen drops a finding reported twice (same field, position, code,
	// message and object); inherited suppresses the same finding about an
	// inherited field once per inheriting object: it is reported once,
	// under the first object. Struct keys share the diagnostic's strings
	// (a formatted key per finding was a copy of every message).
	seen      map[diagKey]struct{}
	inherited map[inheritedKey]struct{}
	// ids holds the first object of each id.
	ids      map[string]*definition.Object
	ondemand bool
	params   map[string]*definition.Parameter
	userKeys map[string]bool
	// values holds each parameter's single effective value (--param, then
	// values, then default) for substitution into literal-only fields.
	values map[string]string
	// res evaluates expressions (definition.Resolver, the one scope);
	// uses lists the fields reading each parameter.
	res  *definition.Resolver
	uses map[string][]string
	// run is the serial schema scratch space; pre holds results computed
	// in parallel for large definitions.
	run schemaRun
	pre map[*definition.Object]schemaResult
	// idsSorted, idsLower and idBudget serve suggestID.
	idsSorted []string
	idsLower  map[string]string
	idBudget  int
	// scans caches expression scans (schema substitution and the
	// expression checks read the same values).
	scans exprScans
}

// Definition runs every check on d (inheritance is resolved here) and
// returns the reader's diagnostics followed by the validator's, sorted by
// position. It never panics on bad input.
func Definition(d *definition.Definition, opts Options) []definition.Diagnostic {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	d.Resolve()
	c := &checker{d: d, opts: opts, g: definition.NewGraph(d), seen: map[diagKey]struct{}{}, inherited: map[inheritedKey]struct{}{},
		ids: make(map[string]*definition.Object, len(d.Objects)), params: map[string]*definition.Parameter{}, values: map[string]string{}}
	c.res = definition.NewResolver(d, opts.Values)
	c.run.static = c.staticValue
	c.diags = append(c.diags, d.Diagnostics...)
	c.checkIDs()
	c.checkParameters()
	c.checkScheduleMode()
	c.precomputeSchemas()
	for _, o := range d.Objects {
		if c.ids[o.ID] != o {
			continue // a duplicate id: reported once, not checked twice
		}
		c.checkObject(o)
	}
	c.pre = nil // every object has read its schema results
	c.checkCycles()
	c.checkLimits()
	c.runRegistered()
	sortDiagnostics(c.diags)
	return c.diags
}

// Errored reports whether any diagnostic is an error.
func Errored(diags []definition.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == definition.SeverityError {
			return true
		}
	}
	return false
}

func sortDiagnostics(ds []definition.Diagnostic) {
	slices.SortStableFunc(ds, func(a, b definition.Diagnostic) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
}

// at locates a finding: the position, the object (or parameter) id it is
// filed under and the field.
type at struct {
	pos   definition.Pos
	id    string
	field string
	hint  string
}

func (c *checker) add(sev definition.Severity, w at, code, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	key := diagKey{field: w.field, line: w.pos.Line, col: w.pos.Col, code: code, msg: msg, id: w.id}
	if _, dup := c.seen[key]; dup {
		return
	}
	c.seen[key] = struct{}{}
	c.diags = append(c.diags, definition.Diagnostic{Severity: sev, Code: code, ObjectID: w.id, Field: w.field,
		Message: msg, Hint: w.hint, Pos: w.pos})
}

func (c *checker) errorf(w at, code, format string, args ...any) {
	c.add(definition.SeverityError, w, code, format, args...)
}

func (c *checker) warnf(w at, code, format string, args ...any) {
	c.add(definition.SeverityWarning, w, code, format, args...)
}

// inheritedOnce reports a finding about an inherited field only for the
// first object that inherits it: the same Default field would otherwise be
// reported for every object.
func (c *checker) inheritedOnce(f *definition.Field, code string) bool {
	key := inheritedKey{f, code}
	if _, dup := c.inherited[key]; dup {
		return false
	}
	c.inherited[key] = struct{}{}
	return true
}

// diagKey identifies a finding for deduplication (the file is not part of
// it: one checker sees one definition).
type diagKey struct {
	field, code, msg, id string
	line, col            int32
}

type inheritedKey struct {
	f    *definition.Field
	code string
}

// fieldAt locates an effective field of o: at the field itself. A finding
// about an inherited field is filed under the object that writes it (the
// hint names the heir it was found on), so that fixing it is one edit and
// the finding is not repeated for every heir.
func (c *checker) fieldAt(o *definition.Object, e *definition.Effective, key string) at {
	f := e.Get(key)
	w := at{id: o.ID, field: key, pos: o.IDPos}
	if f != nil {
		w.pos = f.Pos
		if from := e.Origin(key); from != o.ID && from != "" {
			w.id = from
			w.hint = "inherited by " + o.ID
		}
	}
	if !w.pos.IsValid() {
		w.pos = o.Pos
	}
	return w
}

// objAt locates a finding about o as a whole (a missing field, say).
func objAt(o *definition.Object, field string) at {
	p := o.IDPos
	if !p.IsValid() {
		p = o.Pos
	}
	return at{pos: p, id: o.ID, field: field}
}

// show renders a value for a message, masking secrets.
func show(key, v string) string {
	if definition.IsSecretKey(key) {
		return "********"
	}
	if r := []rune(v); len(r) > 80 {
		v = string(r[:77]) + "..."
	}
	return fmt.Sprintf("%q", v)
}

// hasExpr reports whether s holds a #{...} expression, whose value is only
// known at run time.
func hasExpr(s string) bool { return strings.Contains(s, "#{") }

func (c *checker) checkIDs() {
	for _, o := range c.d.Objects {
		if o.ID == "" {
			continue // reported by the reader
		}
		if first, dup := c.ids[o.ID]; dup {
			c.errorf(at{pos: o.IDPos, id: o.ID, field: "id"}, codeDuplicateID,
				"id %q is already used by the object at line %d; ids must be unique", o.ID, first.IDPos.Line)
			continue
		}
		c.ids[o.ID] = o
		if o.HasName && strings.TrimSpace(o.Name) == "" {
			c.errorf(at{pos: o.NamePos, id: o.ID, field: "name"}, codeMissingName, "is empty; the service refuses objects without a name")
		}
	}
}
