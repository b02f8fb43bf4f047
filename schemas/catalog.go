// Package schemas holds one JSON Schema per AWS Data Pipeline object type,
// the machine-readable catalogue behind them (field kinds, ref targets,
// required fields, one-of groups, exclusive pairs, runtime fields) and a
// validator that applies the schemas to an object's effective fields.
//
// The Go catalogue in spec.go is the single source: the JSON files under
// types/ and common/ (and catalog.json) are generated from it and kept in
// sync by TestGeneratedFiles (`go test ./schemas -run Generated -update`).
package schemas

import (
	"regexp"
	"sort"
	"strings"
)

// Kind is the value kind of a field (format.md §3.0).
type Kind string

const (
	KindString   Kind = "string"
	KindInteger  Kind = "integer"
	KindDouble   Kind = "double"
	KindBoolean  Kind = "boolean"
	KindPeriod   Kind = "period"
	KindDateTime Kind = "datetime"
	KindEnum     Kind = "enum"
	KindRef      Kind = "ref"
	// KindRegion is an AWS region code such as us-east-1; the docs point
	// to an external list, so only the shape is checked.
	KindRegion Kind = "region"
	// KindBidPrice is a decimal or the word OnDemandPrice (EMR bid prices).
	KindBidPrice Kind = "bidPrice"
	// KindPeriodOrInteger accepts a period or a bare integer (hours):
	// EmrCluster.terminateAfter is documented both ways.
	KindPeriodOrInteger Kind = "periodOrInteger"
	// KindAny is a string or a ref: user-defined my… fields.
	KindAny Kind = "any"
)

// Family groups object types.
type Family string

const (
	FamilyActivity     Family = "activity"
	FamilyDataNode     Family = "datanode"
	FamilyResource     Family = "resource"
	FamilyPrecondition Family = "precondition"
	FamilyDatabase     Family = "database"
	FamilyDataFormat   Family = "dataformat"
	FamilyAction       Family = "action"
	FamilySchedule     Family = "schedule"
	FamilyUtility      Family = "utility"
)

// FieldInfo describes one field of a type.
type FieldInfo struct {
	Name         string   `json:"name"`
	Kind         Kind     `json:"kind"`
	Multi        bool     `json:"multi,omitempty"`    // several values (a JSON array) allowed
	Enum         []string `json:"enum,omitempty"`     // KindEnum: allowed values, compared case-insensitively
	RefTypes     []string `json:"refTypes,omitempty"` // KindRef: allowed target types; empty means any type
	Deprecated   string   `json:"deprecated,omitempty"`
	Evaluated    bool     `json:"evaluated"` // #{...} expressions in the value are evaluated by the service
	Runtime      bool     `json:"runtime,omitempty"`
	Secret       bool     `json:"secret,omitempty"`
	Undocumented bool     `json:"undocumented,omitempty"` // used by published AWS samples but absent from the guide
	// Min and Max bound numeric values (inclusive unless Exclusive); for
	// periods they are minutes. Nil means unbounded.
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Exclusive   bool     `json:"exclusiveBounds,omitempty"`
	Description string   `json:"description"`

	def    string // common schema file holding the definition ("" = inline in the type)
	defKey string // name of the definition in that file (default: Name)
	// pattern is the compiled scalar pattern (nil for free strings and refs).
	pattern *regexp.Regexp
}

// IsDeprecated reports whether the field is deprecated.
func (f *FieldInfo) IsDeprecated() bool { return f.Deprecated != "" }

// Group is a one-of group ("Required Group" in the guide): at least one of
// Fields must be set; with Exclusive, exactly one.
type Group struct {
	Fields    []string `json:"fields"`
	Exclusive bool     `json:"exclusive"`
}

// Pair is two fields that must not be used together. Warning pairs are
// documented as exclusive but used together by the published samples.
type Pair struct {
	A       string `json:"a"`
	B       string `json:"b"`
	Warning bool   `json:"warning,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Type describes one object type.
type Type struct {
	Name        string       `json:"name"`
	Family      Family       `json:"family"`
	Description string       `json:"description"`
	Deprecated  string       `json:"deprecated,omitempty"`
	Fields      []*FieldInfo `json:"fields"` // writable fields and bare-named runtime fields, in display order
	Required    []string     `json:"required,omitempty"`
	OneOf       []Group      `json:"oneOf,omitempty"`
	Exclusive   []Pair       `json:"exclusive,omitempty"`
	// Runtime lists the read-only fields the service sets on this type
	// (@-prefixed ones and the bare names marked Runtime in Fields).
	Runtime []string `json:"runtime"`

	byName map[string]*FieldInfo
	names  []string // writable (non-runtime) field names, for suggestions
}

// Field returns the named field of the type.
func (t *Type) Field(name string) (*FieldInfo, bool) {
	f, ok := t.byName[name]
	return f, ok
}

// Knows reports whether name is a field the type accepts: one of its
// fields, a user field (my…) or a user secret (*my…).
func (t *Type) Knows(name string) bool {
	if _, ok := t.byName[name]; ok {
		return true
	}
	return IsUserField(name)
}

// FieldNames returns the writable field names of the type (runtime ones excluded).
func (t *Type) FieldNames() []string { return append([]string(nil), t.names...) }

// IsUserField reports whether name is a user-defined field: `my` followed by
// an upper-case letter or `_`, optionally behind the secret marker `*`.
func IsUserField(name string) bool {
	name = strings.TrimPrefix(name, "*")
	return len(name) > 2 && name[0] == 'm' && name[1] == 'y' && (name[2] == '_' || (name[2] >= 'A' && name[2] <= 'Z'))
}

// CatalogData is the whole catalogue, as exported to catalog.json.
type CatalogData struct {
	Types []*Type `json:"types"`
}

var (
	catalog *CatalogData
	byName  map[string]*Type
	names   []string
)

func init() {
	types := buildSpec()
	catalog = &CatalogData{Types: types}
	byName = make(map[string]*Type, len(types))
	for _, t := range types {
		t.byName = make(map[string]*FieldInfo, len(t.Fields))
		for _, f := range t.Fields {
			t.byName[f.Name] = f
			if p := scalarPattern(f); p != "" {
				f.pattern = patternFor(p)
			}
			if !f.Runtime {
				t.names = append(t.names, f.Name)
			}
		}
		byName[t.Name] = t
		names = append(names, t.Name)
	}
	sort.Strings(names)
}

// Catalog returns the catalogue of every object type. Callers must not modify it.
func Catalog() *CatalogData { return catalog }

// TypeInfo returns the description of the named type (case-sensitive, as
// the service compares type names).
func TypeInfo(name string) (*Type, bool) {
	t, ok := byName[name]
	return t, ok
}

// TypeNames returns every known type name, sorted.
func TypeNames() []string { return append([]string(nil), names...) }
