package schemas

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed types/*.json common/*.json catalog.json
var files embed.FS

// ErrUnknownType is matched (errors.Is) by the error Validate returns for a
// type name that is not in the catalogue.
var ErrUnknownType = errors.New("unknown object type")

// UnknownTypeError reports a type name the catalogue does not know, with
// the closest known name when one is near.
type UnknownTypeError struct {
	Name       string
	Suggestion string // "" when nothing is close
}

func (e *UnknownTypeError) Error() string {
	if e.Suggestion != "" {
		return fmt.Sprintf("unknown object type %q (did you mean %q?)", e.Name, e.Suggestion)
	}
	return fmt.Sprintf("unknown object type %q", e.Name)
}

// Is makes errors.Is(err, ErrUnknownType) true.
func (e *UnknownTypeError) Is(target error) bool { return target == ErrUnknownType }

func unknownType(name string) error {
	return &UnknownTypeError{Name: name, Suggestion: Suggest(name, names)}
}

// Schema returns the JSON text of a type's schema file as embedded.
func Schema(typeName string) ([]byte, error) {
	if _, ok := byName[typeName]; !ok {
		return nil, unknownType(typeName)
	}
	return files.ReadFile("types/" + typeName + ".json")
}

// File returns an embedded file by its path under schemas/ (e.g.
// "common/kinds.json", "catalog.json").
func File(name string) ([]byte, error) { return files.ReadFile(name) }

// FileNames lists the embedded schema files (types/, common/, catalog.json).
func FileNames() []string {
	var out []string
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// Violation codes. Messages follow the service's "CODE: 'field' text" style;
// INVALID_FIELD_VALUE is the one code the service is known to use.
const (
	CodeInvalidValue       = "INVALID_FIELD_VALUE"
	CodeMissingRequired    = "MISSING_REQUIRED_FIELD"
	CodeUnknownField       = "UNKNOWN_FIELD"
	CodeReadOnlyField      = "READ_ONLY_FIELD"
	CodeInvalidCombination = "INVALID_FIELD_COMBINATION"
	CodeDeprecatedField    = "DEPRECATED_FIELD"
	CodeDeprecatedType     = "DEPRECATED_TYPE"
	CodeRuntimeField       = "RUNTIME_FIELD"
)

// Violation is one problem found in an object.
type Violation struct {
	// Field is the field concerned (the first element of the instance
	// location); "" when the problem concerns the object as a whole.
	Field string
	// Index is the element of a list value at fault, or -1.
	Index   int
	Code    string
	Message string // "CODE: 'field' explanation", without the hint
	Hint    string // e.g. `did you mean "scriptUri"?`; may be ""
	Warning bool   // true for warnings (deprecations, runtime fields, sample-tolerated combinations)
}

func (v Violation) String() string {
	if v.Hint != "" {
		return v.Message + " (" + v.Hint + ")"
	}
	return v.Message
}

// Options adjust Validate.
type Options struct {
	// Inherited reports whether a field of the instance came from another
	// object (Default or a parent). Such a field that the type does not
	// know is skipped instead of reported: Default lends role and
	// resourceRole to activities too, and the service applies a field only
	// where it fits. Warnings about inherited fields are skipped as well
	// (they belong to the object that writes the field).
	Inherited func(field string) bool
}

// Validate checks an object's effective fields against its type's schema.
//
// The instance maps field names to values as decoded from JSON: a string,
// a map {"ref": id}, or a []any of those; "type", "id", "name" and
// "parent" may be present. It returns the violations (errors and
// warnings, see Violation.Warning), errors first. The error is non-nil only
// when the type is unknown (errors.Is(err, ErrUnknownType)), a value is not
// a JSON-decoded Go value (e.g. []string), or the schemas do not compile.
func Validate(typeName string, instance map[string]any) ([]Violation, error) {
	return ValidateWith(typeName, instance, Options{})
}

// ValidateWith is Validate with options.
func ValidateWith(typeName string, instance map[string]any, opts Options) ([]Violation, error) {
	t, ok := byName[typeName]
	if !ok {
		return nil, unknownType(typeName)
	}
	drop, out := dropList(t, instance, opts.Inherited)
	if !fastValid(t, instance, drop) {
		inst := withoutKeys(instance, drop)
		if err := checkJSONValues(t, inst); err != nil {
			return nil, err
		}
		out = append(out, violationsOf(t, inst)...)
	}
	out = append(out, extraChecks(t, instance, drop, opts.Inherited, out)...)
	sortViolations(out)
	return out, nil
}

// dropList returns the fields Validate ignores: inherited fields the type
// does not know, and empty lists, which the AWS CLI drops on upload (an
// empty list becomes no field at all) and which therefore count as absent,
// with a warning.
func dropList(t *Type, instance map[string]any, inherited func(string) bool) ([]string, []Violation) {
	var drop []string
	var notes []Violation
	for k, v := range instance {
		if l, ok := v.([]any); ok && len(l) == 0 {
			drop = append(drop, k)
			if inherited == nil || !inherited(k) {
				notes = append(notes, warn(CodeInvalidValue, k, "is an empty list; it is dropped on upload, as if absent"))
			}
			continue
		}
		if inherited != nil && !t.Knows(k) && inherited(k) {
			drop = append(drop, k)
		}
	}
	return drop, notes
}

// withoutKeys returns instance minus the dropped keys, copying only if needed.
func withoutKeys(instance map[string]any, drop []string) map[string]any {
	if len(drop) == 0 {
		return instance
	}
	out := make(map[string]any, len(instance))
	for k, v := range instance {
		out[k] = v
	}
	for _, k := range drop {
		delete(out, k)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func sortViolations(vs []Violation) {
	sort.SliceStable(vs, func(i, j int) bool {
		if vs[i].Warning != vs[j].Warning {
			return !vs[i].Warning
		}
		if vs[i].Field != vs[j].Field {
			return vs[i].Field < vs[j].Field
		}
		return vs[i].Code < vs[j].Code
	})
}
