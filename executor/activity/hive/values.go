package hive

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/definition/expr"
)

// parseText converts a field's text to the engine value of a Hive type the
// way LazySimpleSerDe does: text that does not parse as the type is NULL.
func parseText(typ, s string) any { return parseBase(baseType(typ), s) }

// fieldParsers resolves each column's parser once per table read, not once
// per field: nil for a complex column (collections are parsed with the
// row format's delimiters).
func fieldParsers(cols []column) []func(string) any {
	out := make([]func(string) any, len(cols))
	for i, c := range cols {
		if isComplex(c.typ) {
			continue
		}
		base := baseType(c.typ)
		switch base {
		case "string", "varchar", "char", "timestamp", "date":
			out[i] = func(s string) any { return s }
		default:
			out[i] = func(s string) any { return parseBase(base, s) }
		}
	}
	return out
}

func parseBase(base, s string) any {
	switch base {
	case "string", "varchar", "char", "timestamp", "date":
		return s
	case "tinyint", "smallint", "int", "bigint":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil
		}
		return n
	case "float", "double", "decimal":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil
		}
		return f
	case "boolean":
		switch strings.ToLower(s) {
		case "true":
			return int64(1)
		case "false":
			return int64(0)
		}
		return nil
	case "binary":
		return []byte(s)
	}
	return s
}

// coerce converts an engine value to what a column of typ holds, with
// Hive's implicit casts on insert (string -> number parses, double -> int
// truncates); nil when it cannot be converted.
func coerce(typ string, v any) any {
	if v == nil {
		return nil
	}
	switch baseType(typ) {
	case "tinyint", "smallint", "int", "bigint":
		switch x := v.(type) {
		case int64:
			return x
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil
			}
			return int64(x)
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n
			}
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return int64(f)
			}
			return nil
		case []byte:
			return coerce(typ, string(x))
		}
	case "float", "double", "decimal":
		switch x := v.(type) {
		case int64:
			return float64(x)
		case float64:
			return x
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil
			}
			return f
		case []byte:
			return coerce(typ, string(x))
		}
	case "boolean":
		switch x := v.(type) {
		case int64:
			return b2i(x != 0)
		case float64:
			return b2i(x != 0)
		case string:
			switch strings.ToLower(x) {
			case "true":
				return int64(1)
			case "false":
				return int64(0)
			}
			return nil
		}
	case "binary":
		switch x := v.(type) {
		case []byte:
			return x
		default:
			return []byte(textOf(x))
		}
	default: // string types, dates, complex types kept as JSON text
		return textOf(v)
	}
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// textOf renders an engine value as Hive prints it: doubles like Java's
// Double.toString, integers in decimal.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return expr.FormatDouble(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ""
}

// formatTyped renders a value already coerced to typ.
func formatTyped(typ string, v any) string {
	switch baseType(typ) {
	case "boolean":
		if n, ok := v.(int64); ok {
			if n != 0 {
				return "true"
			}
			return "false"
		}
	case "float":
		if f, ok := v.(float64); ok {
			return expr.FormatFloat(float32(f))
		}
	case "decimal":
		if f, ok := v.(float64); ok {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return textOf(v)
}

// Complex values (array, map, struct) live in the engine as JSON text so
// SQLite's JSON functions and the registered helpers can work on them.

// parseCollection splits delimited text into a JSON array or object.
func parseCollection(typ, s string, f *rowFormat) any {
	el := elemTypes(typ)
	switch baseType(typ) {
	case "array":
		var items []any
		if s != "" {
			for _, part := range strings.Split(s, f.collection) {
				items = append(items, jsonScalar(el[0], part, f))
			}
		}
		b, _ := json.Marshal(nonNil(items))
		return string(b)
	case "map":
		m := map[string]any{}
		if s != "" {
			for _, part := range strings.Split(s, f.collection) {
				k, v, _ := strings.Cut(part, f.mapKey)
				m[k] = jsonScalar(el[1], v, f)
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	case "struct":
		m := map[string]any{}
		parts := strings.Split(s, f.collection)
		for i, fld := range el {
			name, ft, _ := strings.Cut(fld, ":")
			if i < len(parts) {
				m[name] = jsonScalar(ft, parts[i], f)
			} else {
				m[name] = nil
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	return s
}

func nonNil(items []any) []any {
	if items == nil {
		return []any{}
	}
	return items
}

func jsonScalar(typ, s string, f *rowFormat) any {
	if s == f.null {
		return nil
	}
	v := parseText(typ, s)
	if baseType(typ) == "boolean" && v != nil {
		return v.(int64) == 1
	}
	return v
}

// formatCollection renders JSON text of a complex value with the table's
// collection and map-key delimiters.
func formatCollection(typ string, v any, f *rowFormat) string {
	text := textOf(v)
	var decoded any
	if err := json.Unmarshal([]byte(text), &decoded); err != nil {
		return text
	}
	switch x := decoded.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = jsonText(e, f)
		}
		return strings.Join(parts, f.collection)
	case map[string]any:
		if baseType(typ) == "struct" {
			var parts []string
			for _, fld := range elemTypes(typ) {
				name, _, _ := strings.Cut(fld, ":")
				parts = append(parts, jsonText(x[name], f))
			}
			return strings.Join(parts, f.collection)
		}
		keys := sortedKeys(x)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + f.mapKey + jsonText(x[k], f)
		}
		return strings.Join(parts, f.collection)
	}
	return text
}

func jsonText(e any, f *rowFormat) string {
	switch y := e.(type) {
	case nil:
		return f.null
	case string:
		return y
	case float64:
		if y == math.Trunc(y) && math.Abs(y) < 1e15 {
			return strconv.FormatInt(int64(y), 10)
		}
		return expr.FormatDouble(y)
	case bool:
		if y {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(e)
	return string(b)
}

func isComplex(typ string) bool {
	switch baseType(typ) {
	case "array", "map", "struct":
		return true
	}
	return false
}
