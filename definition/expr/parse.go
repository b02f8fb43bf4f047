package expr

import (
	"strconv"
	"strings"
)

// Node is a node of an expression's syntax tree. Pos is the byte offset of
// the node inside the expression text.
type Node interface{ Pos() int }

type (
	// Lit is a string, integer or double literal.
	Lit struct {
		P   int
		Val Value
	}
	// Ident is a bare name: a field, `@field`, parameter, or `node`/`input`.
	Ident struct {
		P    int
		Name string
	}
	// Member is X.Name: a field of the object X refers to.
	Member struct {
		P    int // offset of Name
		X    Node
		Name string
	}
	// Call is Name(Args...). Method-style `x.f(a)` is stored as f(x, a)
	// with Method set.
	Call struct {
		P      int // offset of Name
		Name   string
		Args   []Node
		Method bool
	}
	// Unary is -X.
	Unary struct {
		P  int
		Op byte
		X  Node
	}
	// Binary is L Op R for + - * / ^.
	Binary struct {
		P    int // offset of the operator
		Op   byte
		L, R Node
	}
)

func (n *Lit) Pos() int    { return n.P }
func (n *Ident) Pos() int  { return n.P }
func (n *Member) Pos() int { return n.P }
func (n *Call) Pos() int   { return n.P }
func (n *Unary) Pos() int  { return n.P }
func (n *Binary) Pos() int { return n.P }

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tInt
	tDouble
	tString
	tOp // + - * / ^
	tLParen
	tRParen
	tComma
	tDot
)

type token struct {
	kind tokKind
	pos  int
	text string // identifier name, string contents or number text
	op   byte
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lex splits an expression into tokens. Strings have no escapes (the
// service documents none): a string ends at the next matching quote, so a
// single quote is written inside double quotes and vice versa.
func lex(src string) ([]token, error) {
	toks := make([]token, 0, 8)
	operand := false // the previous token ends an operand
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isIdentStart(c) || c == '@' || (c == '*' && !operand && i+1 < len(src) && (isIdentStart(src[i+1]) || src[i+1] == '@')):
			// `@name` is a runtime field; `*myPassword` a secret parameter
			// (`*` cannot be multiplication where an operand is expected).
			j := i + 1
			if c == '*' && src[j] == '@' {
				j++
			}
			if c == '@' || src[j-1] == '@' {
				if j >= len(src) || !isIdentStart(src[j]) {
					return nil, errorf(i, "'@' must be followed by a field name")
				}
			}
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			toks = append(toks, token{kind: tIdent, pos: i, text: src[i:j]})
			i = j
			operand = true
			continue
		case isDigit(c) || (c == '.' && !operand && i+1 < len(src) && isDigit(src[i+1])):
			j := i
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			kind := tInt
			if j+1 < len(src) && src[j] == '.' && isDigit(src[j+1]) || (j < len(src) && src[j] == '.' && j == i) {
				kind = tDouble
				j++
				for j < len(src) && isDigit(src[j]) {
					j++
				}
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && isDigit(src[k]) {
					for k < len(src) && isDigit(src[k]) {
						k++
					}
					kind, j = tDouble, k
				}
			}
			if j < len(src) && isIdentStart(src[j]) {
				return nil, errorf(i, "malformed number %q", src[i:j+1])
			}
			toks = append(toks, token{kind: kind, pos: i, text: src[i:j]})
			i = j
			operand = true
			continue
		case c == '\'' || c == '"':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				return nil, errorf(i, "unterminated string (missing closing %c)", c)
			}
			toks = append(toks, token{kind: tString, pos: i, text: src[i+1 : i+1+end]})
			i += end + 2
			operand = true
			continue
		}
		t := token{pos: i}
		switch c {
		case '+', '-', '*', '/', '^':
			t.kind, t.op = tOp, c
		case '(':
			t.kind = tLParen
		case ')':
			t.kind = tRParen
		case ',':
			t.kind = tComma
		case '.':
			t.kind = tDot
		case '#':
			if i+1 < len(src) && src[i+1] == '{' {
				return nil, errorf(i, "nested #{ is not allowed inside an expression; refer to the name directly")
			}
			return nil, errorf(i, "unexpected character '#'")
		default:
			return nil, errorf(i, "unexpected character %q", rune(c))
		}
		operand = c == ')'
		toks = append(toks, t)
		i++
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

type parser struct {
	toks []token
	i    int
	src  string
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 200

// parseExpr parses a whole expression.
func parseExpr(src string) (Node, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errorf(0, "empty expression")
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, src: src}
	n, err := p.sum(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, errorf(t.pos, "unexpected %s after the end of the expression", describe(t))
	}
	return n, nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tIdent:
		return "name " + strconv.Quote(t.text)
	case tInt, tDouble:
		return "number " + t.text
	case tString:
		return "string " + strconv.Quote(t.text)
	case tOp:
		return "operator '" + string(t.op) + "'"
	case tLParen:
		return "'('"
	case tRParen:
		return "')'"
	case tComma:
		return "','"
	case tDot:
		return "'.'"
	}
	return "token"
}

// sum := product (('+'|'-') product)*
func (p *parser) sum(depth int) (Node, error) {
	if depth > maxDepth {
		return nil, errorf(p.peek().pos, "expression nested too deeply")
	}
	l, err := p.product(depth)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp || (t.op != '+' && t.op != '-') {
			return l, nil
		}
		p.next()
		r, err := p.product(depth)
		if err != nil {
			return nil, err
		}
		l = &Binary{P: t.pos, Op: t.op, L: l, R: r}
	}
}

// product := unary (('*'|'/') unary)*
func (p *parser) product(depth int) (Node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp || (t.op != '*' && t.op != '/') {
			return l, nil
		}
		p.next()
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = &Binary{P: t.pos, Op: t.op, L: l, R: r}
	}
}

// unary := '-' unary | power. Unary minus binds looser than '^', so
// -2^2 is -(2^2) as in mathematics.
func (p *parser) unary(depth int) (Node, error) {
	if t := p.peek(); t.kind == tOp && t.op == '-' {
		if depth > maxDepth {
			return nil, errorf(t.pos, "expression nested too deeply")
		}
		p.next()
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Unary{P: t.pos, Op: '-', X: x}, nil
	}
	return p.power(depth)
}

// power := postfix ('^' unary)?   (right-associative)
func (p *parser) power(depth int) (Node, error) {
	l, err := p.postfix(depth)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tOp && t.op == '^' {
		p.next()
		r, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Binary{P: t.pos, Op: '^', L: l, R: r}, nil
	}
	return l, nil
}

// postfix := primary ('.' name ['(' args ')'])*
func (p *parser) postfix(depth int) (Node, error) {
	x, err := p.primary(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tDot {
		p.next()
		name := p.next()
		if name.kind != tIdent || name.text[0] == '*' {
			return nil, errorf(name.pos, "expected a field or function name after '.', found %s", describe(name))
		}
		if p.peek().kind == tLParen {
			args, err := p.args(depth)
			if err != nil {
				return nil, err
			}
			c, err := p.call(name, append([]Node{x}, args...), true)
			if err != nil {
				return nil, err
			}
			x = c
			continue
		}
		x = &Member{P: name.pos, X: x, Name: name.text}
	}
	return x, nil
}

func (p *parser) primary(depth int) (Node, error) {
	t := p.next()
	switch t.kind {
	case tInt:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, errorf(t.pos, "integer %s out of range", t.text)
		}
		return &Lit{P: t.pos, Val: Int(n)}, nil
	case tDouble:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, errorf(t.pos, "number %s out of range", t.text)
		}
		return &Lit{P: t.pos, Val: Double(f)}, nil
	case tString:
		return &Lit{P: t.pos, Val: String(t.text)}, nil
	case tIdent:
		if p.peek().kind == tLParen {
			args, err := p.args(depth)
			if err != nil {
				return nil, err
			}
			return p.call(t, args, false)
		}
		return &Ident{P: t.pos, Name: t.text}, nil
	case tLParen:
		x, err := p.sum(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, errorf(c.pos, "expected ')' to close '(' at offset %d, found %s", t.pos, describe(c))
		}
		return x, nil
	}
	return nil, errorf(t.pos, "expected a value, found %s", describe(t))
}

// args parses '(' [sum (',' sum)*] ')'.
func (p *parser) args(depth int) ([]Node, error) {
	open := p.next()
	var args []Node
	if p.peek().kind == tRParen {
		p.next()
		return args, nil
	}
	for {
		a, err := p.sum(depth + 1)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		switch t := p.next(); t.kind {
		case tComma:
			continue
		case tRParen:
			return args, nil
		default:
			return nil, errorf(t.pos, "expected ',' or ')' in the arguments opened at offset %d, found %s", open.pos, describe(t))
		}
	}
}

// call checks the function name and arity at parse time so that Scan (and
// the validator) report them without evaluating.
func (p *parser) call(name token, args []Node, method bool) (Node, error) {
	f, ok := funcs[name.text]
	if !ok {
		msg := "unknown function " + strconv.Quote(name.text)
		if s := suggestFunc(name.text); s != "" {
			msg += " (did you mean " + s + "?)"
		}
		return nil, errorf(name.pos, "%s", msg)
	}
	if len(args) != len(f.params) {
		return nil, errorf(name.pos, "%s takes %d argument(s), got %d", name.text, len(f.params), len(args))
	}
	return &Call{P: name.pos, Name: name.text, Args: args, Method: method}, nil
}

// suggestFunc returns the known function closest to name (same letters
// ignoring case, or at most two edits away), or "".
func suggestFunc(name string) string {
	best, bestD := "", 3
	for _, n := range funcNames {
		if strings.EqualFold(n, name) {
			return n
		}
		if d := editDistance(strings.ToLower(n), strings.ToLower(name), bestD); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// SuggestFunction returns the built-in function a misspelt name most
// likely meant, or "" (for validator hints).
func SuggestFunction(name string) string { return suggestFunc(name) }

// editDistance is the Levenshtein distance, giving up (returning limit)
// once it cannot be below limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
