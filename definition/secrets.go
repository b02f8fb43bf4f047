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
// shows (its caret excerpt) and in its message: a definition that does not
// parse still must not print its passwords. The secrets are found
// lexically in src, which need not parse (see secretValues); every
// occurrence of each in the line is masked, wherever the value appears
// (another field, an inline flow map, a value written on the line after
// its key). Each secret character becomes '*', so the caret stays under
// its column.
func maskSyntaxLine(err error, src []byte) {
	se, ok := err.(*SyntaxError)
	if !ok {
		return
	}
	secrets := secretValues(src)
	if len(secrets) == 0 {
		return
	}
	// Parser messages quote a token at most; a one- or two-letter "secret"
	// is more likely a fragment of broken text than a password, and
	// masking it would garble the message.
	var long []string
	for _, sec := range secrets {
		if len(sec) >= 3 {
			long = append(long, sec)
		}
	}
	se.Msg = MaskText(se.Msg, long)
	if se.Line == "" {
		return
	}
	line := []byte(se.Line)
	hide := make([]bool, len(line))
	for _, sec := range secrets {
		for off := 0; ; {
			i := bytes.Index(line[off:], []byte(sec))
			if i < 0 {
				break
			}
			for k := off + i; k < off+i+len(sec); k++ {
				hide[k] = true
			}
			off += i + 1
		}
	}
	var out []byte
	masked := false
	for k, c := range line {
		switch {
		case !hide[k]:
			out = append(out, c)
		case c&0xC0 != 0x80: // one '*' per rune
			out = append(out, '*')
			masked = true
		}
	}
	if masked {
		se.Line = string(out)
	}
}

// secretValues returns the secret values written in src, found lexically
// so that it works on text that does not parse: values of `*` keys (also
// nested lists and maps under one), the default/stringValue/value of
// parameters and parameter values whose id starts with `*`, the
// StringValue of a CloudFormation field {Key: "*password", StringValue}
// and of a `*` parameter's {Key: default, StringValue} attribute. JSON and
// YAML (block and flow style) are read; keys match in any case.
func secretValues(src []byte) []string {
	c := &secretCollector{src: src, stack: []*secretFrame{{}}}
	if t := strings.TrimLeft(string(src[:min(len(src), 512)]), " \t\r\n\ufeff"); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		c.flow(0, len(src))
	} else {
		c.yamlBlocks()
	}
	for len(c.stack) > 1 {
		c.close()
	}
	c.close()
	seen := map[string]bool{}
	var out []string
	for _, sp := range c.spans {
		v := strings.TrimSpace(string(src[sp[0]:sp[1]]))
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// secretFrame is one open map or list while scanning.
type secretFrame struct {
	array     bool
	key       string // the key whose value is being read (maps)
	secretKey bool   // inside the value of a `*` key
	strs      []secretStr
	holder    bool     // its id or key starts with '*'
	ided      bool     // it has an id (a parameter or object: candidates stop here)
	cands     [][2]int // {Key: default, StringValue} values met below, for a `*` holder above
}

type secretStr struct {
	lo, hi int
	key    string
}

type secretCollector struct {
	src   []byte
	stack []*secretFrame
	spans [][2]int
}

func (c *secretCollector) top() *secretFrame { return c.stack[len(c.stack)-1] }

func (c *secretCollector) open(array bool) {
	p := c.top()
	c.stack = append(c.stack, &secretFrame{array: array, secretKey: p.secretKey || strings.HasPrefix(p.key, "*")})
}

func (c *secretCollector) key(k string) { c.top().key = k }

func (c *secretCollector) scalar(lo, hi int) {
	if lo >= hi {
		return
	}
	f := c.top()
	if f.secretKey || strings.HasPrefix(f.key, "*") {
		c.spans = append(c.spans, [2]int{lo, hi})
	}
	if f.array {
		return
	}
	f.strs = append(f.strs, secretStr{lo, hi, strings.ToLower(f.key)})
	switch strings.ToLower(f.key) {
	case "id":
		f.ided = true
		fallthrough
	case "key":
		if c.src[lo] == '*' {
			f.holder = true
		}
	}
}

func (c *secretCollector) close() {
	f := c.top()
	if len(c.stack) > 1 {
		c.stack = c.stack[:len(c.stack)-1]
	}
	var own [][2]int
	isDefaultAttr := false
	for _, s := range f.strs {
		if s.key == "key" && strings.EqualFold(string(c.src[s.lo:s.hi]), "default") {
			isDefaultAttr = true
		}
	}
	for _, s := range f.strs {
		switch s.key {
		case "default", "stringvalue", "allowedvalues", "value":
			if f.holder {
				c.spans = append(c.spans, [2]int{s.lo, s.hi})
			} else if isDefaultAttr && s.key == "stringvalue" {
				own = append(own, [2]int{s.lo, s.hi})
			}
		}
	}
	if f.holder {
		c.spans = append(c.spans, f.cands...)
		return
	}
	if !f.ided && len(c.stack) > 0 && c.top() != f {
		p := c.top()
		p.cands = append(append(p.cands, f.cands...), own...)
	}
}

// flow scans JSON or a YAML flow collection in src[lo:hi]: quoted and
// plain scalars, keys before ':'. Unbalanced input is tolerated.
func (c *secretCollector) flow(lo, hi int) {
	src := c.src
	depth := 0
	for i := lo; i < hi; i++ {
		ch := src[i]
		switch ch {
		case '"', '\'':
			j := i + 1
			for j < hi && src[j] != ch && src[j] != '\n' {
				if src[j] == '\\' && ch == '"' {
					j++
				}
				j++
			}
			vlo, vhi := i+1, min(j, hi)
			c.token(vlo, vhi, hi)
			i = vhi
		case '{', '[':
			depth++
			c.open(ch == '[')
		case '}', ']':
			if depth > 0 {
				depth--
				c.close()
			}
		case ',':
			if !c.top().array {
				c.top().key = ""
			}
		case ' ', '\t', '\r', '\n', ':':
		default:
			// A plain scalar (YAML flow, JSON numbers and literals).
			j := i
			for j < hi && !strings.ContainsRune(",]}\n", rune(src[j])) && !(src[j] == ':' && (j+1 >= hi || src[j+1] == ' ' || src[j+1] == '\n')) {
				if src[j] == ' ' && j+1 < hi && src[j+1] == '#' {
					break
				}
				j++
			}
			end := j
			for end > i && (src[end-1] == ' ' || src[end-1] == '\t' || src[end-1] == '\r') {
				end--
			}
			c.token(i, end, hi)
			i = j - 1
		}
	}
	for ; depth > 0; depth-- {
		c.close()
	}
}

// token is a scalar at src[lo:vhi] (quotes excluded) in a flow scan
// ending at hi: a key when ':' follows, else a value.
func (c *secretCollector) token(lo, vhi, hi int) {
	k := vhi
	if k < hi && (c.src[k] == '"' || c.src[k] == '\'') {
		k++
	}
	for k < hi && (c.src[k] == ' ' || c.src[k] == '\t' || c.src[k] == '\r' || c.src[k] == '\n') {
		k++
	}
	if k < hi && c.src[k] == ':' && !c.top().array {
		c.key(string(c.src[lo:vhi]))
		return
	}
	c.scalar(lo, vhi)
}

// yamlBlocks scans block-style YAML line by line: indentation opens and
// closes maps and lists, "- " starts a list item, "key: value" sets a
// key, flow values ({…}, […]) go to flow, block scalars (| >) are values
// of their key line by line.
func (c *secretCollector) yamlBlocks() {
	type block struct {
		col   int
		array bool
	}
	blocks := []block{{col: -1}}
	// popTo closes the blocks deeper than col; a key line also closes a
	// list at its own column (YAML lets a list sit at its key's indent).
	popTo := func(col int, keyLine bool) {
		for len(blocks) > 1 {
			b := blocks[len(blocks)-1]
			if b.col > col || (b.col == col && keyLine && b.array) {
				blocks = blocks[:len(blocks)-1]
				c.close()
				continue
			}
			break
		}
	}
	src := c.src
	literalCol := -1 // inside a block scalar deeper than this column
	for off := 0; off < len(src); {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += off
		}
		lineLo, lineHi := off, end
		off = end + 1
		i := lineLo
		for i < lineHi && (src[i] == ' ' || src[i] == '\t') {
			i++
		}
		if i >= lineHi || src[i] == '#' || src[i] == '\r' {
			continue
		}
		col := i - lineLo
		hi := lineHi
		for hi > i && (src[hi-1] == '\r' || src[hi-1] == ' ') {
			hi--
		}
		if literalCol >= 0 {
			if col > literalCol {
				c.scalar(i, hi)
				continue
			}
			literalCol = -1
		}
		if bytes.HasPrefix(src[i:hi], []byte("---")) || bytes.HasPrefix(src[i:hi], []byte("...")) {
			continue
		}
		// List items: "- " (possibly several on one line).
		for i < hi && src[i] == '-' && (i+1 == hi || src[i+1] == ' ') {
			dash := i - lineLo
			popTo(dash, false)
			if top := blocks[len(blocks)-1]; !(top.col == dash && top.array) {
				c.open(true)
				blocks = append(blocks, block{col: dash, array: true})
			}
			i++
			for i < hi && src[i] == ' ' {
				i++
			}
		}
		if i >= hi {
			continue
		}
		col = i - lineLo
		if src[i] == '{' || src[i] == '[' {
			c.flow(i, hi)
			continue
		}
		// key: value?
		k, klo, khi := i, i, 0
		if src[i] == '"' || src[i] == '\'' {
			q := src[i]
			k++
			for k < hi && src[k] != q {
				k++
			}
			klo, khi = i+1, k
			k++
		} else {
			for k < hi && !(src[k] == ':' && (k+1 == hi || src[k+1] == ' ' || src[k+1] == '\t')) {
				k++
			}
			khi = k
		}
		for k < hi && src[k] == ' ' {
			k++
		}
		if k >= hi || src[k] != ':' {
			// A scalar list item (or a continuation line).
			v, vhi := i, hi
			if src[i] == '"' || src[i] == '\'' {
				v, vhi = klo, khi
			}
			c.scalar(v, vhi)
			continue
		}
		popTo(col, true)
		if top := blocks[len(blocks)-1]; !(top.col == col && !top.array) {
			c.open(false)
			blocks = append(blocks, block{col: col})
		}
		c.key(strings.TrimSpace(string(src[klo:khi])))
		v := k + 1
		for v < hi && (src[v] == ' ' || src[v] == '\t') {
			v++
		}
		if v >= hi {
			continue
		}
		switch src[v] {
		case '{', '[':
			c.flow(v, hi)
		case '|', '>':
			literalCol = col
		case '"', '\'':
			q := src[v]
			e := v + 1
			for e < hi && src[e] != q {
				if src[e] == '\\' && q == '"' {
					e++
				}
				e++
			}
			c.scalar(v+1, min(e, hi))
		case '&', '*', '!':
			// An anchor, alias or tag (!Ref x): the rest is the value.
			c.scalar(v, trimComment(src, v, hi))
		default:
			c.scalar(v, trimComment(src, v, hi))
		}
	}
	popTo(-2, false)
}

// trimComment is the end of a plain scalar at src[lo:hi] before a " #"
// comment.
func trimComment(src []byte, lo, hi int) int {
	for j := lo; j+1 < hi; j++ {
		if src[j] == ' ' && src[j+1] == '#' {
			hi = j
			break
		}
	}
	for hi > lo && (src[hi-1] == ' ' || src[hi-1] == '\t') {
		hi--
	}
	return hi
}
