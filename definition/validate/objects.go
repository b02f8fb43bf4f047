package validate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dpl-dev/dpl/definition"
)

// bareRuntime are runtime fields without the @ marker (format.md §5): the
// service or the task runner sets them, so a definition should not.
var bareRuntime = map[string]bool{
	"cancellationReason": true, "emrStepLog": true, "errorId": true, "errorMessage": true,
	"errorStackTrace": true, "hadoopJobLog": true, "hostname": true, "reportProgressTime": true,
	"currentRetryCount": true, "lastRetryTime": true, "node": true,
}

func (c *checker) checkObject(o *definition.Object) {
	e := c.d.Effective(o)
	typ, fam := c.checkType(o, e)
	for _, f := range o.Fields {
		c.checkFieldName(o, typ, f)
		c.checkValues(o, f)
		c.checkExpressions(o, f)
	}
	c.checkSchema(o, e, typ)
	switch fam {
	case famActivity:
		if e.Get("runsOn") == nil && e.Get("workerGroup") == nil {
			c.errorf(objAt(o, "runsOn"), codeOneOf, "an activity needs 'runsOn' (a resource) or 'workerGroup' (a task runner) to run on")
		}
	case famResource:
		for _, k := range []string{"runsOn", "workerGroup"} {
			if f := o.Field(k); f != nil {
				c.errorf(at{pos: f.Pos, id: o.ID, field: k}, codeNotAllowed, "is not allowed on a resource (%s)", typ)
			}
		}
	case famSchedule:
		c.checkScheduleObject(o, e)
	}
	if e.Get("onLateAction") != nil && e.Get("lateAfterTimeout") == nil {
		c.errorf(c.fieldAt(o, e, "onLateAction"), codeMissingField, "needs 'lateAfterTimeout': the late action fires when the object has not started within that time")
	}
	if schedulable(fam) {
		c.checkObjectSchedule(o, e)
	}
}

// checkType returns the effective type and its family, reporting a missing
// or unknown type. Typeless objects that others name as parent are
// templates and are fine, like Default.
func (c *checker) checkType(o *definition.Object, e *definition.Effective) (string, string) {
	tf := o.Field("type")
	if tf != nil && (len(tf.Values) != 1 || tf.Values[0].IsRef) {
		c.errorf(at{pos: tf.Pos, id: o.ID, field: "type"}, codeInvalidValue, "must be a single string naming the object's type")
		return "", ""
	}
	if o.ID == definition.DefaultID {
		// `type: Default` is what the CloudFormation docs' own example
		// writes; any other type on Default is a mistake.
		if tf != nil && tf.First().Str != definition.DefaultID {
			c.warnf(at{pos: tf.Pos, id: o.ID, field: "type"}, codeDefaultType,
				"Default carries no type by convention; its fields are inherited by every object without a parent, whatever their type")
		}
		return "", ""
	}
	typ := e.Type
	if typ == "" {
		if len(c.g.Sources(o.ID, "parent")) == 0 {
			c.errorf(objAt(o, "type"), codeMissingType, "is missing: every object except Default needs a type")
		}
		return "", ""
	}
	fam := familyOf(typ)
	if fam == "" {
		w := c.fieldAt(o, e, "type")
		if s := suggest(typ, typeNames); s != "" {
			w.hint = joinHint(w.hint, didYouMean(s))
		}
		if c.inheritedOnce(e.Get("type"), codeUnknownType) {
			c.errorf(w, codeUnknownType, "%q is not an object type", typ)
		}
		return typ, ""
	}
	return typ, fam
}

func didYouMean(s string) string { return fmt.Sprintf("did you mean %q?", s) }

func joinHint(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// checkFieldName reports read-only, runtime and malformed user fields.
// Unknown type fields are the schema layer's business (checkSchema).
func (c *checker) checkFieldName(o *definition.Object, typ string, f *definition.Field) {
	w := at{pos: f.Pos, id: o.ID, field: f.Key}
	switch {
	case strings.HasPrefix(f.Key, "@"):
		c.errorf(w, codeReadOnly, "is a runtime field set by the service; a definition cannot write it")
	case bareRuntime[f.Key] && familyOf(typ) == "":
		// Typed objects get this from the schema layer, per type.
		c.warnf(w, codeRuntimeField, "is a runtime field normally set by the service or the task runner")
	case f.Key == "parent":
		if len(f.Values) != 1 || !f.Values[0].IsRef {
			c.errorf(w, codeRefExpected, "must be a single reference {\"ref\": \"<id>\"}")
		}
	case familyOf(typ) != "":
		// Typed objects get unknown fields from the schema layer.
	case looksLikeUserKey(f.Key) && !definition.IsUserKey(strings.TrimPrefix(f.Key, "*")):
		w.hint = "user-defined fields start with \"my\" followed by an upper-case letter or \"_\", e.g. myComment"
		c.errorf(w, codeUnknownField, "is not a valid user-defined field name")
	case f.Key != "type" && !definition.IsUserKey(strings.TrimPrefix(f.Key, "*")) && !knownAnywhere(f.Key):
		// Default and typeless templates lend their fields to other
		// objects: a field no type knows is a typo.
		if s := suggest(f.Key, allFieldNames); s != "" {
			w.hint = didYouMean(s)
		}
		c.errorf(w, codeUnknownField, "is not a field of any object type")
	}
}

func looksLikeUserKey(k string) bool {
	k = strings.TrimPrefix(k, "*")
	return len(k) > 2 && strings.EqualFold(k[:2], "my")
}

// checkValues reports empty values (the service refuses to save them) and
// refs to ids that do not exist.
func (c *checker) checkValues(o *definition.Object, f *definition.Field) {
	for _, v := range f.Values {
		w := at{pos: v.Pos, id: o.ID, field: f.Key}
		switch {
		case v.IsRef && v.Ref == "":
			c.errorf(w, codeEmptyValue, "refers to an empty id")
		case v.IsRef:
			if c.ids[v.Ref] == nil {
				if s := c.suggestID(v.Ref); s != "" {
					w.hint = didYouMean(s)
				}
				c.errorf(w, codeMissingRef, "refers to %q, which is not an object of this definition", v.Ref)
			}
		case v.Str == "" && f.Key != "type":
			c.errorf(w, codeEmptyValue, "is empty; the service refuses to save empty values (remove the field instead)")
		case strings.IndexByte(v.Str, 0) >= 0:
			// No command line, path or name can hold one: a command with it
			// could never be started (fork/exec refuses it).
			c.errorf(w, codeInvalidValue, "contains a NUL character (\\u0000), which no command, path or name can hold")
		}
	}
}

// suggestBudget bounds the ids compared for did-you-mean hints on missing
// refs over a whole validation: every missing ref of a large definition
// compared with every id was quadratic (24,000 missing refs among 120,000
// ids ran for more than ten minutes). Past it, a hint is given only for
// an id that differs in case.
const suggestBudget = 500_000

// suggestID is suggest over the definition's ids, within suggestBudget.
func (c *checker) suggestID(name string) string {
	if c.idsSorted == nil {
		c.idsSorted = c.idList()
		c.idBudget = suggestBudget
	}
	if len(c.idsSorted) <= c.idBudget {
		c.idBudget -= len(c.idsSorted)
		return suggest(name, c.idsSorted)
	}
	if c.idsLower == nil {
		c.idsLower = make(map[string]string, len(c.idsSorted))
		for _, id := range c.idsSorted {
			if _, ok := c.idsLower[strings.ToLower(id)]; !ok {
				c.idsLower[strings.ToLower(id)] = id
			}
		}
	}
	return c.idsLower[strings.ToLower(name)]
}

func (c *checker) idList() []string {
	ids := make([]string, 0, len(c.ids))
	for id := range c.ids {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// checkCycles reports parent cycles and dependency cycles (dependsOn and
// producer/consumer chains through data nodes).
func (c *checker) checkCycles() {
	reported := map[string]bool{}
	for _, o := range c.d.Objects {
		if c.ids[o.ID] != o {
			continue
		}
		cyc := c.d.ParentCycle(o)
		if cyc == nil {
			continue
		}
		members := append([]string(nil), cyc[:len(cyc)-1]...)
		sort.Strings(members)
		key := strings.Join(members, "\x00")
		if reported[key] {
			continue
		}
		reported[key] = true
		f := o.Field("parent")
		c.errorf(at{pos: f.Pos, id: o.ID, field: "parent"}, codeCycle, "parent chain is a cycle: %s", strings.Join(cyc, " -> "))
	}
	cyc := c.g.Cycle()
	if cyc == nil {
		return
	}
	// Report at the edge that closes the cycle: the first object must run
	// after the last one, which the first object's field (or the last
	// object's output) says.
	first, last := cyc[0], cyc[len(cyc)-2]
	o := c.ids[first]
	field := "dependsOn"
	pos := o.IDPos
	for _, ed := range c.g.EdgesFrom(first) {
		if ed.To == last && (ed.Field == "dependsOn" || ed.Field == "input") {
			field, pos = ed.Field, ed.Pos
		}
	}
	if field == "dependsOn" && pos == o.IDPos {
		for _, ed := range c.g.EdgesFrom(last) {
			if ed.To == first && ed.Field == "output" {
				o, field, pos = c.ids[last], "output", ed.Pos
			}
		}
	}
	c.errorf(at{pos: pos, id: o.ID, field: field}, codeCycle,
		"dependency cycle (dependsOn and input/output data nodes): %s; none of these can ever start", strings.Join(cyc, " -> "))
}
