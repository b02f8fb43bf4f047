package schemas

// The generated JSON Schemas are the oracle of the hand-written checks
// (fast.go): these helpers run them through santhosh-tekuri/jsonschema,
// which only the tests link, and explain the error tree with the same
// catalogue wording.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// baseURL is where the embedded files live for the compiler; nothing is
// ever fetched from it.
const baseURL = "file:///dpl/schemas/"

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

// compileAll compiles every type schema once; the common files are added
// as resources so that relative $refs resolve without touching any disk.
func compileAll() (map[string]*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft7
		c.LoadURL = func(s string) (io.ReadCloser, error) {
			return nil, fmt.Errorf("schemas: unexpected external reference %s", s)
		}
		err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Ext(p) != ".json" || p == "catalog.json" {
				return err
			}
			data, err := files.ReadFile(p)
			if err != nil {
				return err
			}
			return c.AddResource(baseURL+p, bytes.NewReader(data))
		})
		if err != nil {
			compileErr = fmt.Errorf("schemas: load embedded files: %w", err)
			return
		}
		out := make(map[string]*jsonschema.Schema, len(names))
		for _, n := range names {
			s, err := c.Compile(baseURL + "types/" + n + ".json")
			if err != nil {
				compileErr = fmt.Errorf("schemas: compile %s: %w", n, err)
				return
			}
			out[n] = s
		}
		compiled = out
	})
	return compiled, compileErr
}

// ValidateWithSchema is ValidateWith with the generated JSON Schema
// deciding every object (the pre-check is not consulted) and its error tree
// explained: what ValidateWith must agree with.
func ValidateWithSchema(typeName string, instance map[string]any, opts Options) ([]Violation, error) {
	t, ok := byName[typeName]
	if !ok {
		return nil, unknownType(typeName)
	}
	drop, out := dropList(t, instance, opts.Inherited)
	schemas, err := compileAll()
	if err != nil {
		return nil, err
	}
	inst := withoutKeys(instance, drop)
	if err := schemas[typeName].Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, fmt.Errorf("schemas: validate %s: %w", t.Name, err)
		}
		out = append(out, explain(t, inst, ve)...)
	}
	out = append(out, extraChecks(t, instance, drop, opts.Inherited, out)...)
	sortViolations(out)
	return out, nil
}

// validateHow runs ValidateWith, or ValidateWithSchema when schema is set.
func validateHow(schema bool, typeName string, instance map[string]any, opts Options) ([]Violation, error) {
	if schema {
		return ValidateWithSchema(typeName, instance, opts)
	}
	return ValidateWith(typeName, instance, opts)
}

// explain turns a jsonschema error tree into Violations. The tree says
// where the instance failed (instance location) and which keyword failed
// (keyword location); the catalogue says what the field or constraint
// means, so the messages are written from the catalogue rather than from
// jsonschema's generic wording.
func explain(t *Type, inst map[string]any, ve *jsonschema.ValidationError) []Violation {
	var leaves []*jsonschema.ValidationError
	collectLeaves(ve, &leaves)
	var out []Violation
	done := map[string]bool{}
	cons := constraintsOf(t)
	for _, l := range leaves {
		field, _ := fieldPath(l.InstanceLocation)
		if field != "" {
			if done["field:"+field] {
				continue
			}
			done["field:"+field] = true
			if v, known, explained := fieldViolation(t, field, inst[field]); known {
				if !explained {
					v = generic(field, l)
				}
				out = append(out, v)
			}
			continue
		}
		kw := l.KeywordLocation
		key := kw
		if rest, ok := strings.CutPrefix(kw, "/allOf/"); ok {
			n, _, _ := strings.Cut(rest, "/")
			key = "/allOf/" + n
		}
		if done[key] {
			continue
		}
		done[key] = true
		switch {
		case key == "/additionalProperties":
			out = append(out, unknownFields(t, inst)...)
		case key == "/required":
			out = append(out, missingFields(t, inst)...)
		case strings.HasPrefix(key, "/allOf/"):
			n, err := strconv.Atoi(strings.TrimPrefix(key, "/allOf/"))
			if err != nil || n >= len(cons) {
				out = append(out, generic("", l))
				continue
			}
			out = append(out, constraintViolations(t, cons[n], inst)...)
		default:
			out = append(out, generic("", l))
		}
	}
	return out
}

func collectLeaves(ve *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	if len(ve.Causes) == 0 {
		*out = append(*out, ve)
		return
	}
	for _, c := range ve.Causes {
		collectLeaves(c, out)
	}
}

// generic is the fallback for a failure the catalogue cannot explain; it
// should not happen, but must never lose the error.
func generic(field string, l *jsonschema.ValidationError) Violation {
	return violation(CodeInvalidValue, field, "%s", l.Message)
}

// fieldPath returns the first element of an instance location ("" for
// the root). The library percent-escapes it ("/%2Apassword" for
// "*password"), besides JSON pointer's ~0 and ~1.
func fieldPath(ptr string) (field string, rest string) {
	ptr = strings.TrimPrefix(ptr, "/")
	if ptr == "" {
		return "", ""
	}
	field, rest, _ = strings.Cut(ptr, "/")
	if u, err := url.PathUnescape(field); err == nil {
		field = u
	}
	field = strings.ReplaceAll(strings.ReplaceAll(field, "~1", "/"), "~0", "~")
	return field, rest
}
