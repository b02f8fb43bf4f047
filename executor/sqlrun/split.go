package sqlrun

import (
	"fmt"
	"strconv"
	"strings"
)

// Statement is one statement cut from a script.
type Statement struct {
	Text string
	Line int // 1-based line of its first character in the script
}

// SplitStatements cuts a script at top-level semicolons. Quotes ('...', "...",
// `...` on MySQL), comments (--, /* */ nested on PostgreSQL, # on MySQL) and
// PostgreSQL dollar quoting ($$...$$, $tag$...$tag$) are honoured. Empty and
// comment-only statements are dropped.
func SplitStatements(script string, d Dialect) []Statement {
	var out []Statement
	start := 0
	emit := func(end int) {
		text := strings.TrimSpace(script[start:end])
		if text != "" && !onlyComments(text, d) {
			lead := len(script[start:end]) - len(strings.TrimLeft(script[start:end], " \t\r\n"))
			out = append(out, Statement{Text: text, Line: strings.Count(script[:start+lead], "\n") + 1})
		}
	}
	s := scanner{src: script, d: d}
	for s.i < len(script) {
		if script[s.i] == ';' {
			emit(s.i)
			s.i++
			start = s.i
			continue
		}
		if s.skipToken() {
			continue
		}
		s.i++
	}
	emit(len(script))
	return out
}

// scanner walks SQL text and skips over quoted strings and comments.
type scanner struct {
	src string
	i   int
	d   Dialect
}

// skipToken advances past a quoted string, comment or dollar-quoted body at
// the current position and reports whether it did.
func (s *scanner) skipToken() bool {
	src, i := s.src, s.i
	c := src[i]
	switch {
	case c == '\'' || c == '"' || (c == '`' && s.d == MySQL):
		s.i = skipQuoted(src, i, c, s.d == MySQL)
		return true
	case c == '-' && i+1 < len(src) && src[i+1] == '-', c == '#' && s.d == MySQL:
		if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
			s.i = i + j + 1
		} else {
			s.i = len(src)
		}
		return true
	case c == '/' && i+1 < len(src) && src[i+1] == '*':
		depth, j := 1, i+2
		for j < len(src) && depth > 0 {
			switch {
			case src[j] == '*' && j+1 < len(src) && src[j+1] == '/':
				depth--
				j += 2
			case s.d == Postgres && src[j] == '/' && j+1 < len(src) && src[j+1] == '*':
				depth++
				j += 2
			default:
				j++
			}
		}
		s.i = j
		return true
	case c == '$' && s.d == Postgres:
		tag, ok := dollarTag(src[i:])
		if !ok {
			return false
		}
		if j := strings.Index(src[i+len(tag):], tag); j >= 0 {
			s.i = i + len(tag) + j + len(tag)
		} else {
			s.i = len(src)
		}
		return true
	}
	return false
}

// skipQuoted returns the index just past the string starting at i. Doubled
// quotes escape; on MySQL a backslash escapes too.
func skipQuoted(src string, i int, q byte, backslash bool) int {
	j := i + 1
	for j < len(src) {
		switch src[j] {
		case '\\':
			if backslash {
				j += 2
				continue
			}
		case q:
			if j+1 < len(src) && src[j+1] == q {
				j += 2
				continue
			}
			return j + 1
		}
		j++
	}
	return len(src)
}

// dollarTag recognises $$ or $ident$ at the start of s. $1 is a parameter.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[:j+1], true
		}
		isLetter := c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= 0x80
		if !(isLetter || (j > 1 && c >= '0' && c <= '9')) {
			return "", false
		}
	}
	return "", false
}

func onlyComments(text string, d Dialect) bool {
	s := scanner{src: text, d: d}
	for s.i < len(text) {
		c := text[s.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			s.i++
		case c == '-' || c == '/' || c == '#':
			if !s.skipToken() {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// bindPlaceholders rewrites the ? and $n placeholders of one statement into
// the dialect's form and returns the argument list to pass. next is the index
// of the next argument a bare ? consumes (so ? placeholders walk the script's
// argument list in order across statements).
func bindPlaceholders(stmt string, d Dialect, args []string, next *int) (string, []any, error) {
	var b strings.Builder
	var out []any
	s := scanner{src: stmt, d: d}
	last := 0
	add := func(argIdx int) error {
		if argIdx < 0 || argIdx >= len(args) {
			return fmt.Errorf("placeholder %d has no scriptArgument (%d given)", argIdx+1, len(args))
		}
		out = append(out, args[argIdx])
		if d == Postgres {
			b.WriteString("$" + strconv.Itoa(len(out)))
		} else {
			b.WriteByte('?')
		}
		return nil
	}
	for s.i < len(stmt) {
		c := stmt[s.i]
		if s.skipToken() {
			continue
		}
		switch {
		case c == '?':
			// PostgreSQL's ?| and ?& operators are left alone.
			if d == Postgres && s.i+1 < len(stmt) && (stmt[s.i+1] == '|' || stmt[s.i+1] == '&') {
				s.i += 2
				continue
			}
			b.WriteString(stmt[last:s.i])
			if err := add(*next); err != nil {
				return "", nil, err
			}
			*next++
			s.i++
			last = s.i
		case c == '$' && s.i+1 < len(stmt) && stmt[s.i+1] >= '1' && stmt[s.i+1] <= '9' && (s.i == 0 || !isIdentByte(stmt[s.i-1])):
			j := s.i + 1
			for j < len(stmt) && stmt[j] >= '0' && stmt[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(stmt[s.i+1 : j])
			b.WriteString(stmt[last:s.i])
			if err := add(n - 1); err != nil {
				return "", nil, err
			}
			s.i = j
			last = j
		default:
			s.i++
		}
	}
	b.WriteString(stmt[last:])
	return b.String(), out, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= '0' && c <= '9' || c >= 0x80
}

// firstLine is a statement's first line, truncated, for messages.
func firstLine(s string) string {
	l, _, more := strings.Cut(s, "\n")
	l = strings.TrimSpace(l)
	const max = 80
	if len(l) > max {
		return l[:max] + "…"
	}
	if more {
		return l + " …"
	}
	return l
}
