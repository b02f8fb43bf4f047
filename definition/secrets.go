package definition

import (
	"bytes"
	"sort"
	"strings"
)

// Mask is what every command shows instead of a secret value (the value
// of a `*` field or a `*` parameter).
const Mask = "********"

// MaskText replaces every occurrence of each secret in s with Mask,
// longest secret first so that a secret containing another is masked
// whole. Empty secrets are ignored.
func MaskText(s string, secrets []string) string {
	if s == "" || len(secrets) == 0 {
		return s
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			return strings.NewReplacer(replacerPairs(secrets)...).Replace(s)
		}
	}
	return s
}

func replacerPairs(secrets []string) []string {
	sorted := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			sorted = append(sorted, s)
		}
	}
	sort.Slice(sorted, func(i, j int) bool {
		if len(sorted[i]) != len(sorted[j]) {
			return len(sorted[i]) > len(sorted[j])
		}
		return sorted[i] < sorted[j]
	})
	pairs := make([]string, 0, 2*len(sorted))
	for _, s := range sorted {
		pairs = append(pairs, s, Mask)
	}
	return pairs
}

// Secrets returns the secret values r knows before anything runs: the
// values of `*` parameters and the literal values of `*` fields (values
// with expressions are evaluated in the object's own scope when they can
// be). Messages, events and logs pass text through MaskText with them.
func (r *Resolver) Secrets() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, p := range r.order {
		if p.Secret() {
			for _, v := range p.Values {
				add(v)
			}
		}
	}
	for _, o := range r.d.Objects {
		for _, f := range o.Fields {
			if !f.IsSecret() {
				continue
			}
			for _, v := range f.Values {
				if v.IsRef {
					continue
				}
				if !strings.Contains(v.Str, "#{") {
					add(v.Str)
					continue
				}
				if x, err := r.Eval(v.Str, r.Scope(o, nil)); err == nil {
					for _, s := range x.StringList() {
						add(s)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// maskSyntaxLine hides secret values in the source line a syntax error
// shows (its caret excerpt): a definition that does not parse still must
// not print its passwords. The secrets are found lexically in src, which
// need not be valid JSON: values of `*` keys, and the default/stringValue
// of parameters and parameter values whose id (or key) starts with `*`.
// Each secret character becomes '*', so the caret stays under its column.
func maskSyntaxLine(err error, src []byte) {
	se, ok := err.(*SyntaxError)
	if !ok || se.Line == "" || se.Pos.Line < 1 {
		return
	}
	start := lineStart(src, se.Pos.Line)
	if start < 0 {
		return
	}
	end := start + len(se.Line)
	if end > len(src) || string(src[start:end]) != se.Line {
		return
	}
	line := []byte(se.Line)
	masked := false
	for _, sp := range secretSpans(src) {
		lo, hi := max(sp[0], start), min(sp[1], end)
		for i := lo; i < hi; i++ {
			if line[i-start]&0xC0 != 0x80 { // one '*' per rune
				line[i-start] = '*'
			} else {
				line[i-start] = 0
			}
			masked = true
		}
	}
	if masked {
		se.Line = strings.ReplaceAll(string(line), "\x00", "")
	}
}

func lineStart(src []byte, line int) int {
	off := 0
	for n := 1; n < line; n++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	return off
}

// secretSpans returns the byte ranges of the contents of secret string
// values in src (JSON, tolerant of errors; YAML `*key: value` lines).
func secretSpans(src []byte) [][2]int {
	type str struct {
		lo, hi int // contents, without quotes
		key    string
	}
	type frame struct {
		array        bool
		key          string // the key whose value is being read
		secretKey    bool   // inside the value of a `*` key
		strs         []str  // string values by key, for the id rule
		secretHolder bool   // id/key of this object starts with *
	}
	var spans [][2]int
	stack := []*frame{{}}
	top := func() *frame { return stack[len(stack)-1] }
	closeObject := func(f *frame) {
		if !f.secretHolder {
			return
		}
		for _, s := range f.strs {
			switch s.key {
			case "default", "stringValue", "allowedValues", "value":
				spans = append(spans, [2]int{s.lo, s.hi})
			}
		}
	}
	var pendingKey string
	havePending := false
	flushValue := func(lo, hi int) {
		f := top()
		if f.secretKey || strings.HasPrefix(f.key, "*") {
			spans = append(spans, [2]int{lo, hi})
		}
		if !f.array {
			f.strs = append(f.strs, str{lo, hi, f.key})
			if (f.key == "id" || f.key == "key") && hi > lo && src[lo] == '*' {
				f.secretHolder = true
			}
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			j := i + 1
			for j < len(src) && src[j] != '"' && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			lo, hi := i+1, min(j, len(src))
			// A key when the next non-space byte is ':'.
			k := hi + 1
			for k < len(src) && (src[k] == ' ' || src[k] == '\t' || src[k] == '\r' || src[k] == '\n') {
				k++
			}
			if k < len(src) && src[k] == ':' && !top().array {
				pendingKey, havePending = string(src[lo:hi]), true
			} else {
				flushValue(lo, hi)
			}
			i = hi
		case ':':
			if havePending {
				top().key = pendingKey
				havePending = false
			}
		case '{':
			parent := top()
			stack = append(stack, &frame{secretKey: parent.secretKey || strings.HasPrefix(parent.key, "*")})
		case '[':
			parent := top()
			stack = append(stack, &frame{array: true, secretKey: parent.secretKey || strings.HasPrefix(parent.key, "*")})
		case '}', ']':
			if len(stack) > 1 {
				closeObject(top())
				stack = stack[:len(stack)-1]
			}
		case ',':
			if !top().array {
				top().key = ""
			}
		}
	}
	for len(stack) > 0 {
		closeObject(top())
		stack = stack[:len(stack)-1]
	}
	if t := strings.TrimLeft(string(src[:min(len(src), 512)]), " \t\r\n\ufeff"); !strings.HasPrefix(t, "{") {
		spans = append(spans, yamlSecretSpans(src)...)
	}
	return spans
}

// yamlSecretSpans finds `*key: value` scalars on one line (YAML templates
// writing a values section or a `*` field as a mapping).
func yamlSecretSpans(src []byte) [][2]int {
	var spans [][2]int
	off := 0
	for _, line := range strings.SplitAfter(string(src), "\n") {
		t := strings.TrimLeft(line, " \t-")
		lead := len(line) - len(t)
		t = strings.TrimLeft(t, `"'`)
		if strings.HasPrefix(t, "*") {
			if i := strings.Index(line[lead:], ":"); i >= 0 {
				v := lead + i + 1
				for v < len(line) && (line[v] == ' ' || line[v] == '\t') {
					v++
				}
				e := len(strings.TrimRight(line, "\r\n"))
				if v < e {
					spans = append(spans, [2]int{off + v, off + e})
				}
			}
		}
		off += len(line)
	}
	return spans
}
