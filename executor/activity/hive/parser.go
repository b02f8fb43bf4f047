package hive

import (
	"strings"
)

// parser walks the tokens of one statement.
type parser struct {
	toks []token
	pos  int
	err  error // first error of acceptThen
}

func (p *parser) peek() token        { return p.toks[p.pos] }
func (p *parser) peekAt(n int) token { return p.toks[min(p.pos+n, len(p.toks)-1)] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}

// accept consumes the keywords in order when they all come next.
func (p *parser) accept(words ...string) bool {
	for i, w := range words {
		if !p.peekAt(i).is(w) {
			return false
		}
	}
	p.pos += len(words)
	return true
}

// acceptThen consumes words[0] when it comes next and then requires the
// rest, so a broken clause is reported where it breaks. err is stored in
// p.err and makes acceptThen return true.
func (p *parser) acceptThen(words ...string) bool {
	if !p.peek().is(words[0]) {
		return false
	}
	p.next()
	if err := p.expect(words[1:]...); err != nil && p.err == nil {
		p.err = err
	}
	return true
}

func (p *parser) acceptOp(op string) bool {
	if p.peek().isOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(words ...string) error {
	for _, w := range words {
		t := p.peek()
		if !t.is(w) {
			return syntaxErr(t, "expected %s, found %s", strings.ToUpper(w), t)
		}
		p.next()
	}
	return nil
}

func (p *parser) expectOp(op string) error {
	t := p.peek()
	if !t.isOp(op) {
		return syntaxErr(t, "expected '%s', found %s", op, t)
	}
	p.next()
	return nil
}

// ident reads an identifier (bare or `quoted`).
func (p *parser) ident(what string) (string, token, error) {
	t := p.peek()
	if t.kind != tIdent && t.kind != tQIdent {
		return "", t, syntaxErr(t, "expected %s, found %s", what, t)
	}
	p.next()
	return t.text, t, nil
}

// tableName reads [db.]name; the default database's prefix is dropped.
func (p *parser) tableName() (string, token, error) {
	name, t, err := p.ident("a table name")
	if err != nil {
		return "", t, err
	}
	if p.peek().isOp(".") {
		p.next()
		tbl, _, err := p.ident("a table name")
		if err != nil {
			return "", t, err
		}
		name = qualify(name, tbl)
	}
	return strings.ToLower(name), t, nil
}

func qualify(db, tbl string) string {
	if strings.EqualFold(db, "default") {
		return tbl
	}
	return db + "__" + tbl
}

// str reads a string literal.
func (p *parser) str(what string) (string, error) {
	if p.err != nil {
		return "", p.err
	}
	t := p.peek()
	if t.kind != tString {
		return "", syntaxErr(t, "expected %s (a quoted string), found %s", what, t)
	}
	p.next()
	return t.text, nil
}

// properties reads ('k'='v', ...).
func (p *parser) properties() (map[string]string, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	props := map[string]string{}
	for !p.peek().isOp(")") {
		k, err := p.str("a property name")
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		v, err := p.str("a property value")
		if err != nil {
			return nil, err
		}
		props[k] = v
		if !p.acceptOp(",") {
			break
		}
	}
	return props, p.expectOp(")")
}

// columns reads (name type [COMMENT '...'], ...).
func (p *parser) columns() ([]column, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var cols []column
	seen := map[string]bool{}
	for {
		name, nt, err := p.ident("a column name")
		if err != nil {
			return nil, err
		}
		typ, err := p.typeName()
		if err != nil {
			return nil, err
		}
		if p.accept("comment") {
			if _, err := p.str("a comment"); err != nil {
				return nil, err
			}
		}
		low := strings.ToLower(name)
		if seen[low] {
			return nil, semanticErr(nt, "duplicate column name %q", name)
		}
		seen[low] = true
		cols = append(cols, column{name: low, typ: typ})
		if !p.acceptOp(",") {
			break
		}
	}
	return cols, p.expectOp(")")
}

// typeName reads a Hive type and returns it in lower case, normalised
// (array<string>, map<string,int>, decimal(10,2), ...).
func (p *parser) typeName() (string, error) {
	t := p.peek()
	if t.kind != tIdent {
		return "", syntaxErr(t, "expected a column type, found %s", t)
	}
	p.next()
	base := strings.ToLower(t.text)
	switch base {
	case "string", "int", "integer", "bigint", "smallint", "tinyint", "double", "float", "boolean",
		"timestamp", "date", "binary":
		if base == "integer" {
			base = "int"
		}
		if base == "double" && p.peek().is("precision") {
			p.next()
		}
		return base, nil
	case "decimal", "numeric", "varchar", "char":
		if base == "numeric" {
			base = "decimal"
		}
		if p.peek().isOp("(") {
			var b strings.Builder
			for !p.peek().isOp(")") && p.peek().kind != tEOF {
				b.WriteString(p.next().text)
			}
			b.WriteString(p.next().text)
			return base + b.String(), nil
		}
		return base, nil
	case "array", "map", "struct":
		if err := p.expectOp("<"); err != nil {
			return "", err
		}
		var parts []string
		for {
			if base == "struct" {
				f, _, err := p.ident("a struct field name")
				if err != nil {
					return "", err
				}
				if err := p.expectOp(":"); err != nil {
					return "", err
				}
				ft, err := p.typeName()
				if err != nil {
					return "", err
				}
				parts = append(parts, strings.ToLower(f)+":"+ft)
			} else {
				et, err := p.typeName()
				if err != nil {
					return "", err
				}
				parts = append(parts, et)
			}
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(">"); err != nil {
			return "", err
		}
		if base == "array" && len(parts) != 1 || base == "map" && len(parts) != 2 {
			return "", syntaxErr(t, "malformed %s type", base)
		}
		return base + "<" + strings.Join(parts, ",") + ">", nil
	case "uniontype":
		return "", unsupported(t, "the UNIONTYPE column type", "")
	}
	return "", syntaxErr(t, "unknown column type %q", t.text)
}

// separator reads a delimiter literal: a string ('\t', '\001', ',') or a
// number (Hive accepts FIELDS TERMINATED BY '9'? no: a decimal byte only in
// SERDEPROPERTIES); only the first character counts, as in Hive.
func (p *parser) separator(what string) (string, error) {
	t := p.peek()
	s, err := p.str(what)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", syntaxErr(t, "empty %s", what)
	}
	return s, nil
}

func (p *parser) expectEnd() error {
	if t := p.peek(); t.kind != tEOF {
		return syntaxErr(t, "unexpected %s", t)
	}
	return nil
}

func keywordsAt(toks []token, n int) string {
	var w []string
	for _, t := range toks {
		if t.kind != tIdent || len(w) == n {
			break
		}
		w = append(w, strings.ToUpper(t.text))
	}
	return strings.Join(w, " ")
}
