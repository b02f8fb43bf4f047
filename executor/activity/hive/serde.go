package hive

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dpl-dev/dpl/executor/awsx"
)

// decoder turns one line of a table file into engine values, one per
// (non-partition) column.
type decoder func(line []byte) ([]any, error)

// encoder appends one row (values coerced to the column types) as a line.
type encoder func(b *bytes.Buffer, vals []any) error

func newDecoder(f *rowFormat, cols []column) decoder {
	switch f.kind {
	case serdeCSV:
		parse := fieldParsers(cols)
		return func(line []byte) ([]any, error) {
			fields := splitCSV(string(line), f.sep, f.quote, f.esc)
			out := make([]any, len(cols))
			for i, c := range cols {
				if i < len(fields) {
					if parse[i] != nil {
						out[i] = parse[i](fields[i])
					} else {
						out[i] = parseText(c.typ, fields[i])
					}
				}
			}
			return out, nil
		}
	case serdeRegex:
		return func(line []byte) ([]any, error) {
			out := make([]any, len(cols))
			m := f.regex.FindSubmatch(line)
			if m == nil {
				return out, nil // Hive's RegexSerDe yields a row of NULLs
			}
			for i, c := range cols {
				if i+1 < len(m) && m[i+1] != nil {
					out[i] = parseText(c.typ, string(m[i+1]))
				}
			}
			return out, nil
		}
	case serdeJSON:
		return func(line []byte) ([]any, error) {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(line, &obj); err != nil {
				if f.ignoreMalformed {
					return nil, nil
				}
				return nil, fmt.Errorf("malformed JSON row: %v", err)
			}
			lower := make(map[string]json.RawMessage, len(obj))
			for k, v := range obj {
				lower[strings.ToLower(k)] = v
			}
			out := make([]any, len(cols))
			for i, c := range cols {
				out[i] = jsonValue(c.typ, lower[c.name])
			}
			return out, nil
		}
	case serdeDDBExport:
		return func(line []byte) ([]any, error) {
			item, err := awsx.UnmarshalItem(line)
			if err != nil {
				return nil, err
			}
			out := make([]any, len(cols))
			for i, c := range cols {
				out[i] = fromAttribute(c.typ, item[f.attr(c.name)])
			}
			return out, nil
		}
	}
	parse := fieldParsers(cols)
	var buf []string // the field slice is reused line after line
	return func(line []byte) ([]any, error) {
		buf = splitDelimitedInto(buf[:0], string(line), f.field, f.escape)
		fields := buf
		out := make([]any, len(cols))
		for i, c := range cols {
			if i >= len(fields) || fields[i] == f.null {
				continue
			}
			if parse[i] == nil {
				out[i] = parseCollection(c.typ, fields[i], f)
			} else {
				out[i] = parse[i](fields[i])
			}
		}
		return out, nil
	}
}

// attr is the DynamoDB attribute a column maps to (the column's own name
// when the mapping does not list it).
func (f *rowFormat) attr(col string) string {
	if a, ok := f.mapping[col]; ok {
		return a
	}
	return col
}

func newEncoder(f *rowFormat, cols []column) (encoder, error) {
	switch f.kind {
	case serdeRegex:
		return nil, fmt.Errorf("tables with RegexSerDe cannot be written (Hive's RegexSerDe only deserializes)")
	case serdeCSV:
		return func(b *bytes.Buffer, vals []any) error {
			for i, v := range vals {
				if i > 0 {
					b.WriteRune(f.sep)
				}
				if v == nil {
					continue
				}
				b.WriteRune(f.quote)
				for _, r := range formatTyped(cols[i].typ, v) {
					if r == f.quote || (r == f.esc && f.esc != f.quote) {
						b.WriteRune(f.esc)
					}
					b.WriteRune(r)
				}
				b.WriteRune(f.quote)
			}
			b.WriteByte('\n')
			return nil
		}, nil
	case serdeJSON:
		return func(b *bytes.Buffer, vals []any) error {
			b.WriteByte('{')
			for i, v := range vals {
				if i > 0 {
					b.WriteByte(',')
				}
				k, _ := json.Marshal(cols[i].name)
				b.Write(k)
				b.WriteByte(':')
				b.Write(jsonOf(cols[i].typ, v))
			}
			b.WriteString("}\n")
			return nil
		}, nil
	case serdeDDBExport:
		return func(b *bytes.Buffer, vals []any) error {
			item, err := toItem(cols, vals, f.attr)
			if err != nil {
				return err
			}
			line, err := awsx.MarshalItem(item)
			if err != nil {
				return err
			}
			b.Write(line)
			b.WriteByte('\n')
			return nil
		}, nil
	}
	return func(b *bytes.Buffer, vals []any) error {
		for i, v := range vals {
			if i > 0 {
				b.WriteString(f.field)
			}
			if v == nil {
				b.WriteString(f.null)
				continue
			}
			var s string
			if isComplex(cols[i].typ) {
				s = formatCollection(cols[i].typ, v, f)
			} else {
				s = formatTyped(cols[i].typ, v)
			}
			if f.escape != "" {
				s = escapeField(s, f)
			}
			b.WriteString(s)
		}
		b.WriteByte('\n')
		return nil
	}, nil
}

// splitDelimited cuts a line at sep; with an escape character, an escaped
// separator belongs to the field (and the escape is dropped).

// splitDelimitedInto appends the fields of a delimited line to out.
func splitDelimitedInto(out []string, line, sep, esc string) []string {
	if esc == "" || !strings.Contains(line, esc) {
		if sep == "" {
			return append(out, line)
		}
		for {
			i := strings.Index(line, sep)
			if i < 0 {
				return append(out, line)
			}
			out = append(out, line[:i])
			line = line[i+len(sep):]
		}
	}
	var cur strings.Builder
	for i := 0; i < len(line); {
		switch {
		case strings.HasPrefix(line[i:], esc) && i+len(esc) < len(line):
			i += len(esc)
			c := line[i]
			if c == 'n' {
				cur.WriteByte('\n') // Hive writes escaped newlines as \n
			} else {
				cur.WriteByte(c)
			}
			i++
		case strings.HasPrefix(line[i:], sep):
			out = append(out, cur.String())
			cur.Reset()
			i += len(sep)
		default:
			cur.WriteByte(line[i])
			i++
		}
	}
	return append(out, cur.String())
}

func escapeField(s string, f *rowFormat) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			b.WriteString(f.escape + "n")
		case strings.HasPrefix(s[i:], f.escape) || strings.HasPrefix(s[i:], f.field) ||
			strings.HasPrefix(s[i:], f.collection) || strings.HasPrefix(s[i:], f.mapKey):
			b.WriteString(f.escape)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitCSV parses one line the way opencsv's CSVParser does with the
// given separator, quote and escape characters.
func splitCSV(line string, sep, quote, esc rune) []string {
	var out []string
	var cur strings.Builder
	inQuotes := false
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == esc && esc != quote && i+1 < len(rs) && (rs[i+1] == quote || rs[i+1] == esc):
			cur.WriteRune(rs[i+1])
			i++
		case c == quote:
			if inQuotes && i+1 < len(rs) && rs[i+1] == quote {
				cur.WriteRune(quote) // doubled quote inside quotes
				i++
			} else {
				inQuotes = !inQuotes
			}
		case c == sep && !inQuotes:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(c)
		}
	}
	return append(out, cur.String())
}

// jsonValue converts a JSON member to the engine value of typ.
func jsonValue(typ string, raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if isComplex(typ) {
		return string(raw)
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil
		}
	} else {
		s = string(raw)
	}
	return parseText(typ, s)
}

// jsonOf renders a coerced value as a JSON member value.
func jsonOf(typ string, v any) []byte {
	if v == nil {
		return []byte("null")
	}
	switch baseType(typ) {
	case "tinyint", "smallint", "int", "bigint", "float", "double", "decimal":
		return []byte(formatTyped(typ, v))
	case "boolean":
		return []byte(formatTyped(typ, v))
	case "array", "map", "struct":
		s := textOf(v)
		if json.Valid([]byte(s)) {
			return []byte(s)
		}
	}
	b, _ := json.Marshal(formatTyped(typ, v))
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lineScanner reads newline-terminated lines of any length up to 256 MiB.
func lineScanner(r *bufio.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 256<<20)
	return sc
}
