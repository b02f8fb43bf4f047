package hive

import (
	"fmt"
	"strings"
	"unicode"
)

// tokKind classifies HiveQL tokens.
type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // bare word: keyword or identifier
	tQIdent         // `quoted identifier` (text without the backticks)
	tString         // 'string' or "string" (text decoded)
	tNumber
	tOp // punctuation and operators
)

// token is one lexeme with its position in the script (1-based).
type token struct {
	kind      tokKind
	text      string
	line, col int
}

func (t token) is(words ...string) bool {
	if t.kind != tIdent {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return true
		}
	}
	return false
}

func (t token) isOp(op string) bool { return t.kind == tOp && t.text == op }

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of statement"
	case tString:
		return fmt.Sprintf("'%s'", t.text)
	case tQIdent:
		return "`" + t.text + "`"
	}
	return "'" + t.text + "'"
}

// lex splits one statement into tokens; line and col are where text starts
// in the script.
func lex(text string, line, col int) ([]token, error) {
	var toks []token
	rs := []rune(text)
	i := 0
	advance := func(n int) {
		for k := 0; k < n && i < len(rs); k++ {
			if rs[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(rs) {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
			advance(1)
		case c == '-' && i+1 < len(rs) && rs[i+1] == '-':
			for i < len(rs) && rs[i] != '\n' {
				advance(1)
			}
		case c == '\'' || c == '"':
			l, cl := line, col
			s, n, ok := decodeString(rs[i:])
			if !ok {
				return nil, &Error{Line: l, Col: cl, Msg: "unterminated string literal"}
			}
			toks = append(toks, token{tString, s, l, cl})
			advance(n)
		case c == '`':
			l, cl := line, col
			j := i + 1
			for j < len(rs) && rs[j] != '`' {
				j++
			}
			if j >= len(rs) {
				return nil, &Error{Line: l, Col: cl, Msg: "unterminated `quoted identifier`"}
			}
			toks = append(toks, token{tQIdent, string(rs[i+1 : j]), l, cl})
			advance(j + 1 - i)
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_' || rs[j] == '$') {
				j++
			}
			toks = append(toks, token{tIdent, string(rs[i:j]), line, col})
			advance(j - i)
		case unicode.IsDigit(c) || (c == '.' && i+1 < len(rs) && unicode.IsDigit(rs[i+1])):
			j := i
			for j < len(rs) && (unicode.IsDigit(rs[j]) || rs[j] == '.') {
				j++
			}
			if j < len(rs) && (rs[j] == 'e' || rs[j] == 'E') {
				k := j + 1
				if k < len(rs) && (rs[k] == '+' || rs[k] == '-') {
					k++
				}
				if k < len(rs) && unicode.IsDigit(rs[k]) {
					j = k
					for j < len(rs) && unicode.IsDigit(rs[j]) {
						j++
					}
				}
			}
			num := string(rs[i:j])
			// Hive's typed literal suffixes: 10L, 10S, 10Y, 1.5BD, 1.5D.
			if j < len(rs) && strings.ContainsRune("LSYDlsyd", rs[j]) && (j+1 >= len(rs) || !unicode.IsLetter(rs[j+1])) {
				j++
			} else if j+1 < len(rs) && (rs[j] == 'B' || rs[j] == 'b') && (rs[j+1] == 'D' || rs[j+1] == 'd') {
				j += 2
			}
			if j < len(rs) && (unicode.IsLetter(rs[j]) || rs[j] == '_') {
				return nil, &Error{Line: line, Col: col, Msg: fmt.Sprintf("malformed number %q", string(rs[i:j+1]))}
			}
			toks = append(toks, token{tNumber, num, line, col})
			advance(j - i)
		default:
			op := string(c)
			if i+2 < len(rs) && string(rs[i:i+3]) == "<=>" {
				op = "<=>"
			} else if i+1 < len(rs) {
				two := string(rs[i : i+2])
				switch two {
				case "<=", ">=", "<>", "!=", "==", "||", "&&", "->":
					op = two
				}
			}
			if !strings.Contains("()[],.;=<>!+-*/%|&^~:{}?", string(c)) {
				return nil, &Error{Line: line, Col: col, Msg: fmt.Sprintf("unexpected character %q", c)}
			}
			toks = append(toks, token{tOp, op, line, col})
			advance(len([]rune(op)))
		}
	}
	toks = append(toks, token{tEOF, "", line, col})
	return toks, nil
}

// decodeString reads a Hive string literal at the start of rs (quote
// included) and returns its value and length in runes. Hive strings take
// backslash escapes (\n, \t, \001 octal, \u0001, ...).
func decodeString(rs []rune) (string, int, bool) {
	q := rs[0]
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		c := rs[i]
		if c == q {
			// Hive also accepts adjacent literals ('a' 'b'); not needed here.
			return b.String(), i + 1, true
		}
		if c != '\\' || i+1 >= len(rs) {
			b.WriteRune(c)
			continue
		}
		i++
		switch e := rs[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0', '1', '2', '3':
			// Octal escape \ooo (\001 is ^A, Hive's default separator).
			if i+2 < len(rs) && isOctal(rs[i+1]) && isOctal(rs[i+2]) {
				b.WriteRune((e-'0')*64 + (rs[i+1]-'0')*8 + (rs[i+2] - '0'))
				i += 2
			} else if e == '0' {
				b.WriteByte(0)
			} else {
				b.WriteRune(e)
			}
		case 'u':
			if i+4 < len(rs) {
				var v rune
				ok := true
				for _, h := range rs[i+1 : i+5] {
					d := strings.IndexRune("0123456789abcdef", unicode.ToLower(h))
					if d < 0 {
						ok = false
						break
					}
					v = v*16 + rune(d)
				}
				if ok {
					b.WriteRune(v)
					i += 4
					continue
				}
			}
			b.WriteRune(e)
		case '%', '_':
			// Kept escaped: they matter to LIKE patterns.
			b.WriteRune('\\')
			b.WriteRune(e)
		default:
			b.WriteRune(e)
		}
	}
	return "", 0, false
}

func isOctal(r rune) bool { return r >= '0' && r <= '7' }

// statement is one ;-terminated statement of a script.
type statement struct {
	text      string
	line, col int // where it starts
}

// splitScript cuts a script into statements at semicolons outside quotes
// and comments, keeping each statement's position.
func splitScript(script string) []statement {
	var out []statement
	rs := []rune(script)
	line, col := 1, 1
	start, sLine, sCol := 0, 1, 1
	started := false
	var quote rune
	flush := func(end int) {
		text := string(rs[start:end])
		if strings.TrimSpace(stripComments(text)) != "" {
			out = append(out, statement{text, sLine, sCol})
		}
		started = false
	}
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		if !started && !unicode.IsSpace(c) && !(quote == 0 && c == '-' && i+1 < len(rs) && rs[i+1] == '-') && c != ';' {
			start, sLine, sCol, started = i, line, col, true
		}
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' && i+1 < len(rs) {
				i++
				col++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '-' && i+1 < len(rs) && rs[i+1] == '-':
			for i+1 < len(rs) && rs[i+1] != '\n' {
				i++
				col++
			}
		case c == ';':
			if started {
				flush(i)
			}
		}
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	if started {
		flush(len(rs))
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); !strings.HasPrefix(t, "--") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
