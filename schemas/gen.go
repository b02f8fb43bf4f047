package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// This file turns the Go catalogue into JSON Schema documents (draft-07,
// which every editor and santhosh-tekuri/jsonschema understand). Patterns
// avoid inline flags such as (?i) because editors evaluate them as
// ECMAScript regular expressions; case-insensitivity is spelled out.

const draft07 = "http://json-schema.org/draft-07/schema#"

// exprAlt lets any evaluated value be an expression instead of a literal.
const exprAlt = `|#\{`

// Scalar patterns per kind (a value that is not a ref). Kept as Go strings
// so that the messages in validate.go test the very same expressions.
var kindPatterns = map[Kind]string{
	KindInteger:         `^-?[0-9]+$` + exprAlt,
	KindDouble:          `^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$` + exprAlt,
	KindBoolean:         `^` + ciAlt("true", "false") + `$` + exprAlt,
	KindPeriod:          periodPattern + exprAlt,
	KindDateTime:        `^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$` + exprAlt,
	KindRegion:          `^[a-zA-Z]{2}(-[a-zA-Z]+)+-[0-9]+$` + exprAlt,
	KindBidPrice:        `^([0-9]+(\.[0-9]*)?|\.[0-9]+)$|^` + ci("OnDemandPrice") + `$` + exprAlt,
	KindPeriodOrInteger: periodPattern + `|^[0-9]+$` + exprAlt,
}

var periodPattern = `^\s*0*[1-9][0-9]*\s+` + ciAlt("minute", "hour", "day", "week", "month", "year") + `[sS]?\s*$`

// ci spells a case-insensitive literal as character classes: "ab" -> [aA][bB].
func ci(s string) string {
	var b strings.Builder
	for _, r := range s {
		lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
		switch {
		case lo != up:
			b.WriteString("[" + lo + up + "]")
		case strings.ContainsRune(`\.+*?()|[]{}^$-`, r):
			b.WriteString(`\` + string(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func ciAlt(values ...string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = ci(v)
	}
	return "(" + strings.Join(parts, "|") + ")"
}

// enumPattern is the scalar pattern of an enum field.
func enumPattern(values []string) string { return `^` + ciAlt(values...) + `$` + exprAlt }

// scalarPattern returns the pattern a literal of the field must match ("" for free strings and refs).
func scalarPattern(f *FieldInfo) string {
	if f.Kind == KindEnum {
		return enumPattern(f.Enum)
	}
	return kindPatterns[f.Kind]
}

type obj = map[string]any

// refStyle decides where $refs point: to sibling files or inside one bundle.
type refStyle struct {
	bundle bool
	from   string // "types" or "common": the directory of the referring file
}

func (r refStyle) kind(name string) string {
	if r.bundle {
		return "#/definitions/kinds." + name
	}
	if r.from == "common" {
		return "kinds.json#/definitions/" + name
	}
	return "../common/kinds.json#/definitions/" + name
}

func (r refStyle) field(f *FieldInfo) string {
	if r.bundle {
		return "#/definitions/" + f.def + "." + f.key()
	}
	if r.from == "common" {
		return f.def + ".json#/definitions/" + f.key()
	}
	return "../common/" + f.def + ".json#/definitions/" + f.key()
}

func (f *FieldInfo) key() string {
	if f.defKey != "" {
		return f.defKey
	}
	return f.Name
}

// kindDefs returns the value-kind definitions (common/kinds.json).
//
// A field value is a scalar or an array of scalars. Instead of anyOf
// branches, one schema lists the JSON types it accepts and relies on
// keywords applying only to their own type (pattern to strings, items to
// arrays, required to objects): same meaning, far fewer sub-validations.
func kindDefs() obj {
	refProps := obj{"ref": obj{"type": "string", "minLength": 1}}
	defs := obj{
		"stringValue": obj{"type": "string", "minLength": 1, "description": "A non-empty string; may contain #{expressions}."},
		"refValue": obj{"type": "object", "description": `A reference to another object: {"ref": "<id>"}.`,
			"required": []string{"ref"}, "additionalProperties": false, "properties": refProps},
		"anyValue": obj{"type": []string{"string", "object"}, "description": `A string or a reference {"ref": "<id>"}.`,
			"minLength": 1, "required": []string{"ref"}, "additionalProperties": false, "properties": refProps},
	}
	for _, k := range []Kind{KindInteger, KindDouble, KindBoolean, KindPeriod, KindDateTime, KindRegion, KindBidPrice, KindPeriodOrInteger} {
		defs[string(k)+"Value"] = obj{"type": "string", "pattern": kindPatterns[k], "description": kindHelp[k]}
	}
	for _, k := range []Kind{KindString, KindRef, KindAny, KindInteger, KindDouble, KindBoolean, KindPeriod, KindDateTime, KindRegion, KindBidPrice, KindPeriodOrInteger} {
		scalar := defs[string(k)+"Value"].(obj)
		items := obj{"$ref": "#/definitions/" + string(k) + "Value"}
		defs[string(k)] = valueForm(scalar, items, false)
		defs[string(k)+"List"] = valueForm(scalar, items, true)
	}
	return defs
}

// valueForm accepts the scalar itself or an array of such scalars (one
// element at most unless multi).
func valueForm(scalar, items obj, multi bool) obj {
	out := obj{}
	for k, v := range scalar {
		out[k] = v
	}
	types := []string{}
	switch t := scalar["type"].(type) {
	case string:
		types = append(types, t)
	case []string:
		types = append(types, t...)
	}
	out["type"] = append(types, "array")
	out["items"] = items
	out["minItems"] = 1
	if !multi {
		out["maxItems"] = 1
	}
	desc, _ := scalar["description"].(string)
	if multi {
		out["description"] = desc + " A list of them is allowed."
	} else {
		out["description"] = desc + " Single-valued (a one-element list is accepted)."
	}
	return out
}

var kindHelp = map[Kind]string{
	KindInteger:         `A whole number written as a string, e.g. "3", or an expression.`,
	KindDouble:          `A decimal number written as a string, e.g. "0.5", or an expression.`,
	KindBoolean:         `"true" or "false" (any case), or an expression.`,
	KindPeriod:          `A period "N unit": minutes, hours, days, weeks, months or years, e.g. "15 minutes", "1 day".`,
	KindDateTime:        `A UTC date and time YYYY-MM-DDTHH:MM:SS, e.g. "2024-01-15T00:00:00", or an expression.`,
	KindRegion:          `An AWS region code such as "us-east-1".`,
	KindBidPrice:        `A bid price in dollars (0 to 20.00) or "OnDemandPrice".`,
	KindPeriodOrInteger: `A period such as "2 hours", or a number of hours.`,
}

// meta is the x-dpl annotation of a field.
func fieldMeta(f *FieldInfo) obj {
	m := obj{"kind": f.Kind, "multi": f.Multi, "evaluated": f.Evaluated}
	if len(f.Enum) > 0 {
		m["enum"] = f.Enum
	}
	if f.Kind == KindRef {
		m["refTypes"] = nonNil(f.RefTypes)
	}
	if f.Deprecated != "" {
		m["deprecated"] = f.Deprecated
	}
	if f.Runtime {
		m["runtime"] = true
	}
	if f.Secret {
		m["secret"] = true
	}
	if f.Undocumented {
		m["undocumented"] = true
	}
	if f.Min != nil {
		m["min"], m["max"], m["exclusiveBounds"] = *f.Min, *f.Max, f.Exclusive
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// fieldDef is the full definition of a field: description, metadata and value schema.
func fieldDef(f *FieldInfo, rs refStyle) obj {
	desc := f.Description
	if f.Deprecated != "" {
		desc += " Deprecated: " + f.Deprecated + "."
	}
	if f.Runtime {
		desc += " Read-only: set by the service."
	}
	if f.Kind == KindRef && len(f.RefTypes) > 0 {
		desc += " Refers to: " + strings.Join(f.RefTypes, ", ") + "."
	}
	d := obj{"description": desc, "x-dpl": fieldMeta(f)}
	if f.Deprecated != "" {
		d["deprecated"] = true                                  // draft 2019-09 annotation
		d["deprecationMessage"] = "Deprecated: " + f.Deprecated // shown by VS Code
	}
	if f.Kind == KindEnum {
		scalar := obj{"type": "string", "pattern": enumPattern(f.Enum)}
		for k, v := range valueForm(scalar, scalar, f.Multi) {
			d[k] = v
		}
		d["description"] = desc
		d["examples"] = f.Enum
		return d
	}
	name := string(f.Kind)
	if f.Multi {
		name += "List"
	}
	d["allOf"] = []any{obj{"$ref": rs.kind(name)}}
	return d
}

// propertySchema is what a type's "properties" entry holds for f.
func propertySchema(f *FieldInfo, rs refStyle) obj {
	if f.def != "" {
		return obj{"$ref": rs.field(f)}
	}
	return fieldDef(f, rs)
}

// userFieldPattern matches user-defined fields, optionally secret.
const userFieldPattern = `^\*?my[A-Z_]`

// constraints lists a type's allOf entries in order: one-of groups, then
// error-level exclusive pairs. validate.go maps /allOf/N back through it.
type constraint struct {
	group *Group
	pair  *Pair
}

func constraintsOf(t *Type) []constraint {
	var cs []constraint
	for i := range t.OneOf {
		cs = append(cs, constraint{group: &t.OneOf[i]})
	}
	for i := range t.Exclusive {
		if !t.Exclusive[i].Warning {
			cs = append(cs, constraint{pair: &t.Exclusive[i]})
		}
	}
	return cs
}

func typeMeta(t *Type) obj {
	m := obj{"family": t.Family, "required": nonNil(t.Required), "runtime": nonNil(t.Runtime)}
	groups := []any{}
	for _, g := range t.OneOf {
		groups = append(groups, g)
	}
	m["oneOf"] = groups
	pairs := []any{}
	for _, p := range t.Exclusive {
		pairs = append(pairs, p)
	}
	m["exclusive"] = pairs
	if t.Deprecated != "" {
		m["deprecated"] = t.Deprecated
	}
	return m
}

// typeSchema builds the schema of one type. With effective set it checks a
// whole effective object (required fields, one-of groups, exclusive pairs);
// without, only the fields an object writes itself (the editor bundle, where
// required fields may come from Default or a parent).
func typeSchema(t *Type, rs refStyle, effective bool) obj {
	props := obj{}
	for _, f := range t.Fields {
		props[f.Name] = propertySchema(f, rs)
	}
	props["type"] = obj{"const": t.Name, "description": t.Description}
	desc := t.Description
	if t.Deprecated != "" {
		desc += " Deprecated: " + t.Deprecated + "."
	}
	s := obj{
		"title":                t.Name,
		"description":          desc,
		"type":                 "object",
		"properties":           props,
		"patternProperties":    obj{userFieldPattern: obj{"$ref": rs.kind("anyList"), "description": "User-defined field."}},
		"additionalProperties": false,
		"x-dpl":                typeMeta(t),
	}
	if !effective {
		return s
	}
	if len(t.Required) > 0 {
		s["required"] = t.Required
	}
	var all []any
	for _, c := range constraintsOf(t) {
		switch {
		case c.group != nil:
			var alts []any
			for _, f := range c.group.Fields {
				alts = append(alts, obj{"required": []string{f}})
			}
			if c.group.Exclusive {
				all = append(all, obj{"oneOf": alts})
			} else {
				all = append(all, obj{"anyOf": alts})
			}
		default:
			all = append(all, obj{"not": obj{"required": []string{c.pair.A, c.pair.B}}})
		}
	}
	if len(all) > 0 {
		s["allOf"] = all
	}
	return s
}

// commonFiles returns the shared definition files by name (without .json).
func commonFiles(rs refStyle) map[string]obj {
	files := map[string]obj{}
	seen := map[string]*FieldInfo{}
	for _, t := range catalog.Types {
		for _, f := range t.Fields {
			if f.def == "" {
				continue
			}
			id := f.def + "." + f.key()
			if prev, ok := seen[id]; ok {
				if prev != f {
					panic(fmt.Sprintf("schemas: two different definitions of %s", id))
				}
				continue
			}
			seen[id] = f
			doc, ok := files[f.def]
			if !ok {
				doc = obj{"$schema": draft07, "title": commonTitles[f.def], "definitions": obj{}}
				files[f.def] = doc
			}
			doc["definitions"].(obj)[f.key()] = fieldDef(f, rs)
		}
	}
	files["kinds"] = obj{"$schema": draft07, "title": "Value kinds of AWS Data Pipeline fields", "definitions": kindDefs()}
	return files
}

var commonTitles = map[string]string{
	defB:      "Block B: base fields of every object type",
	defR:      "Block R: fields of schedulable runnables (activities, data nodes, resources)",
	defP:      "Block P: fields common to preconditions",
	defShared: "Fields shared by several object types",
	defRT:     "Runtime fields set by the service (read-only)",
}

// generatedFiles renders every schema file, keyed by its path relative to
// the schemas directory: types/<Type>.json, common/<name>.json, catalog.json.
func generatedFiles() map[string][]byte {
	out := map[string][]byte{}
	for name, doc := range commonFiles(refStyle{from: "common"}) {
		out["common/"+name+".json"] = render(doc)
	}
	for _, t := range catalog.Types {
		s := typeSchema(t, refStyle{from: "types"}, true)
		s["$schema"] = draft07
		out["types/"+t.Name+".json"] = render(s)
	}
	out["catalog.json"] = render(catalog)
	return out
}

// Bundle returns one self-contained JSON Schema for whole definition files
// in the file format, for editors: objects switch on "type", and fields are
// checked as written (required fields may be inherited, so they are not
// enforced here; `dpl validate` does that).
func Bundle() []byte {
	rs := refStyle{bundle: true}
	defs := obj{}
	for name, doc := range commonFiles(rs) {
		for k, v := range doc["definitions"].(obj) {
			if name == "kinds" {
				defs["kinds."+k] = rebaseKinds(v)
			} else {
				defs[name+"."+k] = v
			}
		}
	}
	var branches []any
	for _, t := range catalog.Types {
		ts := typeSchema(t, rs, false)
		delete(ts, "x-dpl")
		defs["type."+t.Name] = ts
		branches = append(branches, obj{
			"if":   obj{"required": []string{"type"}, "properties": obj{"type": obj{"const": t.Name}}},
			"then": obj{"$ref": "#/definitions/type." + t.Name},
		})
	}
	branches = append(branches, obj{
		"if":   obj{"not": obj{"required": []string{"type"}}},
		"then": obj{"$ref": "#/definitions/untyped"},
	})
	defs["untyped"] = untypedSchema(rs)
	defs["object"] = obj{
		"type":        "object",
		"description": "A pipeline object: id, name, type and its fields.",
		"required":    []string{"id"},
		"properties": obj{
			"id":   obj{"type": "string", "minLength": 1, "description": "Unique identifier of the object."},
			"name": obj{"type": "string", "minLength": 1, "description": "Display name; defaults to id."},
			"type": obj{"enum": TypeNames(), "description": "Object type. Default and templates have none (they inherit or lend fields)."},
		},
		"allOf": branches,
	}
	defs["parameter"] = parameterSchema()
	root := obj{
		"$schema":     draft07,
		"$id":         "https://github.com/dpl-dev/dpl/schemas/definition.schema.json",
		"title":       "AWS Data Pipeline definition",
		"description": "A pipeline definition in the file format read by `aws datapipeline put-pipeline-definition` and `dpl`.",
		"type":        "object",
		"required":    []string{"objects"},
		"properties": obj{
			"objects":    obj{"type": "array", "description": "Pipeline objects.", "items": obj{"$ref": "#/definitions/object"}},
			"parameters": obj{"type": "array", "description": "Declared #{myParameter} template variables.", "items": obj{"$ref": "#/definitions/parameter"}},
			"values": obj{"type": "object", "description": "Values of the parameters: id -> value (a list for isArray parameters).",
				"propertyNames":        obj{"pattern": userFieldPattern},
				"additionalProperties": obj{"anyOf": []any{obj{"type": "string"}, obj{"type": "array", "items": obj{"type": "string"}}}}},
		},
		"definitions": defs,
	}
	return render(root)
}

// rebaseKinds rewrites kinds.json-internal refs for the bundle.
func rebaseKinds(v any) any {
	switch x := v.(type) {
	case obj:
		out := obj{}
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				out[k] = strings.Replace(s, "#/definitions/", "#/definitions/kinds.", 1)
				continue
			}
			out[k] = rebaseKinds(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = rebaseKinds(e)
		}
		return out
	}
	return v
}

// untypedSchema accepts any field some type knows: Default and templates
// lend fields to objects of several types.
func untypedSchema(rs refStyle) obj {
	byField := map[string][]*FieldInfo{}
	var order []string
	for _, t := range catalog.Types {
		for _, f := range t.Fields {
			prev := byField[f.Name]
			dup := false
			for _, p := range prev {
				dup = dup || p == f
			}
			if !dup {
				if len(prev) == 0 {
					order = append(order, f.Name)
				}
				byField[f.Name] = append(prev, f)
			}
		}
	}
	sort.Strings(order)
	props := obj{}
	for _, name := range order {
		fs := byField[name]
		if len(fs) == 1 {
			props[name] = propertySchema(fs[0], rs)
			continue
		}
		var alts []any
		for _, f := range fs {
			alts = append(alts, propertySchema(f, rs))
		}
		props[name] = obj{"description": fs[0].Description, "anyOf": alts}
	}
	return obj{
		"description":          "An object without a type (Default or a template): any field of any type.",
		"properties":           props,
		"patternProperties":    obj{userFieldPattern: obj{"$ref": rs.kind("anyList")}},
		"additionalProperties": false,
	}
}

var paramTypes = []string{"String", "Integer", "Double", "AWS::S3::ObjectKey"}

func parameterSchema() obj {
	boolStr := obj{"type": "string", "pattern": "^" + ciAlt("true", "false") + "$"}
	return obj{
		"type":        "object",
		"description": "A template parameter.",
		"required":    []string{"id"},
		"properties": obj{
			"id": obj{"type": "string", "pattern": userFieldPattern, "description": "Parameter id: my... (or *my... to mask and encrypt the value)."},
			"type": obj{"description": "How values are checked (default String).", "anyOf": []any{
				obj{"enum": paramTypes},
				obj{"type": "string", "pattern": "^" + ciAlt(paramTypes...) + "$"}, // real definitions write "string"
			}},
			"description":   obj{"type": "string", "description": "Free text shown in the console."},
			"optional":      boolStrWith(boolStr, "Whether a value may be omitted (default false)."),
			"allowedValues": obj{"description": "The only values accepted.", "anyOf": []any{obj{"type": "string"}, obj{"type": "array", "items": obj{"type": "string"}}}},
			"default":       obj{"description": "Value used when none is supplied (a list for isArray parameters).", "anyOf": []any{obj{"type": "string"}, obj{"type": "array", "items": obj{"type": "string"}}}},
			"isArray":       boolStrWith(boolStr, "Whether the parameter takes several values."),
			"watermark":     obj{"type": "string", "description": "Placeholder hint shown in the console."},
			"helpText":      obj{"type": "string", "description": "Help text shown in the console."},
		},
		"additionalProperties": obj{"anyOf": []any{obj{"type": "string"}, obj{"type": "array", "items": obj{"type": "string"}}}},
	}
}

func boolStrWith(base obj, desc string) obj {
	out := obj{"description": desc}
	for k, v := range base {
		out[k] = v
	}
	return out
}

// render marshals with sorted keys, 2-space indent and no HTML escaping.
func render(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("schemas: render: %v", err))
	}
	return buf.Bytes()
}
