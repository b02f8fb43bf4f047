// Package definition models AWS Data Pipeline definitions: objects, fields,
// parameters and values, each remembering where it was written.
package definition

import (
	"fmt"
	"math"
	"strings"
)

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// runes. A zero Pos means "unknown". Line and Col are int32 because every
// value, field and edge carries a Pos: 24 bytes instead of 32 is ~15 MB
// less for 120,000 objects (definitions are capped far below 2^31 bytes).
type Pos struct {
	File string
	Line int32
	Col  int32
}

// MakePos returns the position of line and col in file; numbers beyond
// int32 (a file of more than 2 GiB) saturate instead of wrapping.
func MakePos(file string, line, col int) Pos {
	return Pos{File: file, Line: clamp32(line), Col: clamp32(col)}
}

func clamp32(n int) int32 {
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(n)
}

// IsValid reports whether the position points into a file.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) String() string {
	switch {
	case p.File == "" && p.Line == 0:
		return "-"
	case p.Line == 0:
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Value is one value of a field: a string literal (which may hold #{...}
// expressions) or a reference to another object's id.
type Value struct {
	Str   string // the literal, when !IsRef
	Ref   string // the target id, when IsRef
	IsRef bool
	Pos   Pos
}

// String renders the value for messages: refs as {"ref":"X"}.
func (v Value) String() string {
	if v.IsRef {
		return `{"ref":"` + v.Ref + `"}`
	}
	return v.Str
}

// Field is one key of an object with its values in the order written.
// A JSON array gives several values; List records that the file used an
// array so that tools can write it back the same way.
type Field struct {
	Key    string
	Values []Value
	List   bool
	Pos    Pos    // position of the key
	Owner  string // id of the object (or parameter) that wrote the field
}

// IsSecret reports whether the field is encrypted/masked (`*password`).
func (f *Field) IsSecret() bool { return IsSecretKey(f.Key) }

// IsSecretKey reports whether a field or parameter name marks a secret.
func IsSecretKey(key string) bool { return strings.HasPrefix(key, "*") }

// IsUserKey reports whether key names a user-defined field (`my` followed
// by an upper-case letter or underscore).
func IsUserKey(key string) bool {
	return len(key) > 2 && key[0] == 'm' && key[1] == 'y' && (key[2] == '_' || (key[2] >= 'A' && key[2] <= 'Z'))
}

// First returns the first value, or a zero Value when there is none.
func (f *Field) First() Value {
	if f == nil || len(f.Values) == 0 {
		return Value{}
	}
	return f.Values[0]
}

// Object is one pipeline component as written: everything except id and
// name is a Field (type and parent included), in file order.
type Object struct {
	ID      string
	Name    string // defaults to ID when the file omits it
	HasName bool   // the source wrote a name
	Fields  []*Field
	Pos     Pos // position of the object's opening brace
	IDPos   Pos
	NamePos Pos

	eff *Effective // filled by Definition.Resolve
}

// Field returns the object's own field with the given key, or nil.
func (o *Object) Field(key string) *Field {
	for _, f := range o.Fields {
		if f.Key == key {
			return f
		}
	}
	return nil
}

// OwnType returns the object's own `type` value ("" when absent).
func (o *Object) OwnType() string {
	if f := o.Field("type"); f != nil && !f.First().IsRef {
		return f.First().Str
	}
	return ""
}

// Parameter is one entry of the `parameters` section. Attributes keep their
// values as written (arrays for allowedValues, for example).
type Parameter struct {
	ID    string
	Attrs []*Field
	Pos   Pos
	IDPos Pos
}

// Attr returns the first value of an attribute and whether it was present.
func (p *Parameter) Attr(key string) (string, bool) {
	for _, a := range p.Attrs {
		if a.Key == key && len(a.Values) > 0 {
			return a.Values[0].Str, true
		}
	}
	return "", false
}

// AttrField returns the attribute field itself, or nil.
func (p *Parameter) AttrField(key string) *Field {
	for _, a := range p.Attrs {
		if a.Key == key {
			return a
		}
	}
	return nil
}

// ParamValue is one entry of the `values` section (or an API
// parameterValue); an array value for isArray parameters holds several.
type ParamValue struct {
	ID     string
	Values []Value
	List   bool
	Pos    Pos
}

// Format names the shape a definition was read from.
type Format string

const (
	FormatFile           Format = "file"           // {"objects": [...], "parameters": [...], "values": {...}}
	FormatAPI            Format = "api"            // {"pipelineObjects": [{id,name,fields:[...]}], ...}
	FormatCloudFormation Format = "cloudformation" // AWS::DataPipeline::Pipeline resource
)

// Definition is a whole pipeline definition.
type Definition struct {
	File       string
	Format     Format
	Objects    []*Object
	Parameters []*Parameter
	Values     []*ParamValue
	// Warnings found while reading (duplicate JSON keys, ignored top-level keys, ...).
	Diagnostics []Diagnostic

	byID     map[string]*Object
	resolved bool
}

// Object returns the object with the given id (the first one when ids
// repeat), or nil.
func (d *Definition) Object(id string) *Object {
	if d.byID == nil {
		d.index()
	}
	return d.byID[id]
}

// Parameter returns the parameter with the given id, or nil.
func (d *Definition) Parameter(id string) *Parameter {
	for _, p := range d.Parameters {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (d *Definition) index() {
	d.byID = make(map[string]*Object, len(d.Objects))
	for _, o := range d.Objects {
		if _, dup := d.byID[o.ID]; !dup {
			d.byID[o.ID] = o
		}
	}
}
