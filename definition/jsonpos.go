package definition

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jnode is a JSON value with the position it starts at. The definition
// reader needs positions for every key and value, which encoding/json does
// not keep, so this small scanner builds its own tree.
type jnode struct {
	kind  jkind
	pos   srcOff    // byte offset of the value; the builder turns it into line:col
	str   string    // string contents, or the literal text of numbers/true/false/null
	keys  []jmember // object members in source order
	elems []*jnode  // array elements
}

type jmember struct {
	key    string
	keyPos srcOff
	val    *jnode
}

// srcOff is a byte offset into the parsed data. Nodes keep offsets rather
// than line:col positions (4 bytes instead of 32), which halves the tree a
// large definition builds; lineIndex resolves the ones the model keeps.
type srcOff int32

// maxParseSize is the most the reader takes: offsets are 32-bit.
const maxParseSize = 1<<31 - 1

// lineIndex turns offsets into positions with a cursor: the builder asks in
// nearly increasing order, so each answer costs the bytes since the last.
type lineIndex struct {
	file      string
	data      []byte
	off       int // the cursor's offset, line, column and line start
	line, col int
	lineStart int
}

func newLineIndex(file string, data []byte) *lineIndex {
	return &lineIndex{file: file, data: data, line: 1, col: 1}
}

func (li *lineIndex) pos(o srcOff) Pos {
	off := min(int(o), len(li.data))
	switch {
	case off >= li.off:
		seg := li.data[li.off:off]
		if nl := bytes.LastIndexByte(seg, '\n'); nl >= 0 {
			li.line += bytes.Count(seg, []byte{'\n'})
			li.lineStart = li.off + nl + 1
			li.col = 1 + utf8.RuneCount(li.data[li.lineStart:off])
		} else {
			li.col += utf8.RuneCount(seg)
		}
	case off >= li.lineStart: // back on the same line
		li.col -= utf8.RuneCount(li.data[off:li.off])
	default:
		li.line -= bytes.Count(li.data[off:li.off], []byte{'\n'})
		li.lineStart = bytes.LastIndexByte(li.data[:off], '\n') + 1
		li.col = 1 + utf8.RuneCount(li.data[li.lineStart:off])
	}
	li.off = off
	return MakePos(li.file, li.line, li.col)
}

type jkind uint8

const (
	jString jkind = iota
	jNumber
	jBool
	jNull
	jObject
	jArray
)

func (k jkind) String() string {
	return [...]string{"string", "number", "boolean", "null", "object", "array"}[k]
}

// get returns the member value for key, or nil. When a key repeats the
// last one wins, as with Python's json module that the AWS CLI uses.
func (n *jnode) get(key string) *jnode {
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i].key == key {
			return n.keys[i].val
		}
	}
	return nil
}

// SyntaxError is input that is not JSON. It points at the offending
// character and carries the source line for a caret excerpt.
type SyntaxError struct {
	Pos  Pos
	Msg  string
	Line string // the source line, tabs kept
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s: error: %s", e.Pos, e.Msg) }

// Excerpt renders the offending line with a caret under the column; long
// lines are cut to a window around it.
func (e *SyntaxError) Excerpt() string {
	runes := []rune(strings.TrimRight(e.Line, "\r"))
	col := int(e.Pos.Col) - 1
	if col < 0 || len(runes) == 0 && col == 0 {
		return ""
	}
	const before, after = 60, 40
	start, prefix := 0, ""
	if col > before {
		start, prefix = col-before, "…"
	}
	end := min(len(runes), col+after)
	if start > len(runes) {
		start = len(runes)
	}
	shown := prefix + string(runes[start:end])
	pad := []rune(prefix)
	for i := range pad {
		pad[i] = ' '
	}
	for _, r := range runes[start:min(col, len(runes))] {
		if r == '\t' {
			pad = append(pad, '\t')
		} else {
			pad = append(pad, ' ')
		}
	}
	return "    " + shown + "\n    " + string(pad) + "^"
}

type scanner struct {
	file      string
	data      []byte
	off       int
	line      int
	lineStart int
	depth     int
	// Column cache: colAt is a byte offset on the current line whose
	// column is col, so positions cost the runes since the last one, not
	// since the line start (minified files are one long line).
	colAt, col int
	slab       []jnode // nodes are carved from blocks: one allocation per 256
	// Members and elements collect on these stacks while an object or array
	// is read, then move to an exact-size window of a shared block.
	keyStack  []jmember
	elemStack []*jnode
	keySlab   []jmember
	elemSlab  []*jnode
	// stream, when set, receives each element of the top-level "objects"
	// array as soon as it is read; an element it takes (true) is not kept,
	// and the blocks it used are reused for the next one, so a large
	// definition never holds its whole JSON tree. Returning false stops
	// streaming: that element and the rest are kept in the tree.
	stream func(*jnode) bool
	// streamed counts the arrays handed to stream (a repeated "objects"
	// key streams twice).
	streamed int
}

// keysOf moves the members above base on the stack into an exact-size
// window (its capacity capped, so an append never overwrites a neighbour).
func (s *scanner) keysOf(base int) []jmember {
	n := len(s.keyStack) - base
	if n == 0 {
		return nil
	}
	if len(s.keySlab)+n > cap(s.keySlab) {
		s.keySlab = make([]jmember, 0, max(1024, n))
	}
	at := len(s.keySlab)
	s.keySlab = append(s.keySlab, s.keyStack[base:]...)
	s.keyStack = s.keyStack[:base]
	return s.keySlab[at : at+n : at+n]
}

func (s *scanner) elemsOf(base int) []*jnode {
	n := len(s.elemStack) - base
	if n == 0 {
		return nil
	}
	if len(s.elemSlab)+n > cap(s.elemSlab) {
		s.elemSlab = make([]*jnode, 0, max(1024, n))
	}
	at := len(s.elemSlab)
	s.elemSlab = append(s.elemSlab, s.elemStack[base:]...)
	s.elemStack = s.elemStack[:base]
	return s.elemSlab[at : at+n : at+n]
}

// node returns a pointer to a copy of n carved from the current block.
func (s *scanner) node(n jnode) *jnode {
	if len(s.slab) == cap(s.slab) {
		s.slab = make([]jnode, 0, 256)
	}
	s.slab = append(s.slab, n)
	return &s.slab[len(s.slab)-1]
}

const maxDepth = 512

func parseJSON(file string, data []byte) (*jnode, error) {
	return (&scanner{file: file, data: data, line: 1}).parse()
}

func (s *scanner) parse() (*jnode, error) {
	file, data := s.file, s.data
	if len(data) > maxParseSize {
		return nil, &SyntaxError{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "larger than 2 GiB, the most the reader takes"}
	}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		s.off = 3
		s.lineStart = 3
	}
	s.skipSpace()
	if s.off >= len(s.data) {
		return nil, s.errf("empty input: expected a JSON object")
	}
	n, err := s.value()
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.off < len(s.data) {
		return nil, s.errf("unexpected %s after the end of the top-level value", s.describe())
	}
	return n, nil
}

func (s *scanner) pos() Pos {
	off := min(s.off, len(s.data))
	if s.colAt < s.lineStart || s.colAt > off {
		s.colAt, s.col = s.lineStart, 1
	}
	s.col += utf8.RuneCount(s.data[s.colAt:off])
	s.colAt = off
	return MakePos(s.file, s.line, s.col)
}

func (s *scanner) here() Pos { return s.pos() }

// errAt reports an error at an earlier position on the current or a previous line.
func (s *scanner) errAt(p Pos, msg string) *SyntaxError {
	// Find the start of line p.Line by walking back from the cursor.
	ls, line := s.lineStart, s.line
	for line > int(p.Line) && ls > 0 {
		ls--
		for ls > 0 && s.data[ls-1] != '\n' {
			ls--
		}
		line--
	}
	end := ls
	for end < len(s.data) && s.data[end] != '\n' {
		end++
	}
	return &SyntaxError{Pos: p, Msg: msg, Line: string(s.data[ls:end])}
}

func (s *scanner) errf(format string, args ...any) *SyntaxError {
	end := s.lineStart
	for end < len(s.data) && s.data[end] != '\n' {
		end++
	}
	return &SyntaxError{Pos: s.pos(), Msg: fmt.Sprintf(format, args...), Line: string(s.data[s.lineStart:end])}
}

// describe names the byte at the cursor for error messages.
func (s *scanner) describe() string {
	if s.off >= len(s.data) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(s.data[s.off:])
	if r < 0x20 || r == utf8.RuneError {
		return fmt.Sprintf("character U+%04X", r)
	}
	return fmt.Sprintf("character %q", r)
}

func (s *scanner) skipSpace() {
	for s.off < len(s.data) {
		switch s.data[s.off] {
		case '\n':
			s.off++
			s.line++
			s.lineStart = s.off
		case ' ', '\t', '\r':
			s.off++
		default:
			return
		}
	}
}

func (s *scanner) value() (*jnode, error) {
	if s.off >= len(s.data) {
		return nil, s.errf("unexpected end of input: the file looks truncated")
	}
	switch c := s.data[s.off]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		p := srcOff(s.off)
		str, err := s.string()
		if err != nil {
			return nil, err
		}
		return s.node(jnode{kind: jString, pos: p, str: str}), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true", jBool)
	case c == 'f':
		return s.literal("false", jBool)
	case c == 'n':
		return s.literal("null", jNull)
	case c == '\'':
		return nil, s.errf("single-quoted string: JSON strings use double quotes")
	default:
		return nil, s.errf("unexpected %s: expected a value (string, object, array, number, true, false or null)", s.describe())
	}
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return s.errf("nesting deeper than %d levels", maxDepth)
	}
	return nil
}

func (s *scanner) object() (*jnode, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer func() { s.depth-- }()
	open := s.pos()
	n := s.node(jnode{kind: jObject, pos: srcOff(s.off)})
	base := len(s.keyStack)
	defer func() { n.keys = s.keysOf(base) }()
	s.off++ // {
	s.skipSpace()
	if s.off < len(s.data) && s.data[s.off] == '}' {
		s.off++
		return n, nil
	}
	var comma Pos
	for {
		s.skipSpace()
		if s.off >= len(s.data) {
			return nil, s.errf("unexpected end of input inside an object opened at line %d, column %d: the file looks truncated", open.Line, open.Col)
		}
		if s.data[s.off] != '"' {
			if s.data[s.off] == '}' {
				return nil, s.errAt(comma, "trailing comma before '}': remove this comma after the last member")
			}
			return nil, s.errf("unexpected %s: expected a member name in double quotes", s.describe())
		}
		kp := srcOff(s.off)
		key, err := s.string()
		if err != nil {
			return nil, err
		}
		s.skipSpace()
		if s.off >= len(s.data) {
			return nil, s.errf("unexpected end of input after member name %q: the file looks truncated", key)
		}
		if s.data[s.off] != ':' {
			return nil, s.errf("unexpected %s after member name %q: expected ':'", s.describe(), key)
		}
		s.off++
		s.skipSpace()
		var v *jnode
		if s.stream != nil && s.depth == 1 && key == "objects" && s.off < len(s.data) && s.data[s.off] == '[' {
			v, err = s.streamArray()
		} else {
			v, err = s.value()
		}
		if err != nil {
			return nil, err
		}
		s.keyStack = append(s.keyStack, jmember{key: key, keyPos: kp, val: v})
		s.skipSpace()
		if s.off >= len(s.data) {
			return nil, s.errf("unexpected end of input inside an object opened at line %d, column %d: the file looks truncated", open.Line, open.Col)
		}
		switch s.data[s.off] {
		case ',':
			comma = s.here()
			s.off++
		case '}':
			s.off++
			return n, nil
		case '"':
			return nil, s.errf("missing ',' between object members")
		default:
			return nil, s.errf("unexpected %s: expected ',' or '}' after the value of %q", s.describe(), key)
		}
	}
}

func (s *scanner) array() (*jnode, error) { return s.arrayOf(false) }

// streamArray reads the top-level "objects" array like array, handing
// each element to s.stream (see scanner.stream).
func (s *scanner) streamArray() (*jnode, error) {
	s.streamed++
	return s.arrayOf(true)
}

func (s *scanner) arrayOf(streaming bool) (*jnode, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer func() { s.depth-- }()
	open := s.pos()
	n := s.node(jnode{kind: jArray, pos: srcOff(s.off)})
	base := len(s.elemStack)
	defer func() { n.elems = s.elemsOf(base) }()
	s.off++ // [
	s.skipSpace()
	if s.off < len(s.data) && s.data[s.off] == ']' {
		s.off++
		return n, nil
	}
	var comma Pos
	for {
		s.skipSpace()
		if s.off < len(s.data) && s.data[s.off] == ']' && comma.IsValid() {
			return nil, s.errAt(comma, "trailing comma before ']': remove this comma after the last element")
		}
		nodes, keys, elems := s.slab, s.keySlab, s.elemSlab
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		if streaming && s.stream != nil && s.stream(v) {
			// The element was taken: its blocks are reused.
			s.slab = rewind(s.slab, nodes)
			s.keySlab = rewind(s.keySlab, keys)
			s.elemSlab = rewind(s.elemSlab, elems)
		} else {
			if streaming {
				s.stream = nil
			}
			s.elemStack = append(s.elemStack, v)
		}
		s.skipSpace()
		if s.off >= len(s.data) {
			return nil, s.errf("unexpected end of input inside an array opened at line %d, column %d: the file looks truncated", open.Line, open.Col)
		}
		switch s.data[s.off] {
		case ',':
			comma = s.here()
			s.off++
		case ']':
			s.off++
			return n, nil
		default:
			return nil, s.errf("unexpected %s: expected ',' or ']' after an array element", s.describe())
		}
	}
}

// rewind gives back the part of a block used since mark was taken: the
// block is reused from mark on, or from its start when it was begun since.
func rewind[T any](cur, mark []T) []T {
	if cap(cur) > 0 && cap(mark) > 0 && &cur[:cap(cur)][cap(cur)-1] == &mark[:cap(mark)][cap(mark)-1] {
		return cur[:len(mark)]
	}
	return cur[:0]
}

func (s *scanner) literal(word string, kind jkind) (*jnode, error) {
	p := srcOff(s.off)
	if !strings.HasPrefix(string(s.data[s.off:min(s.off+len(word), len(s.data))]), word) {
		return nil, s.errf("unexpected %s: expected a value (did you forget the quotes around a string?)", s.describe())
	}
	s.off += len(word)
	return s.node(jnode{kind: kind, pos: p, str: word}), nil
}

func (s *scanner) number() (*jnode, error) {
	p := srcOff(s.off)
	start := s.off
	if s.data[s.off] == '-' {
		s.off++
	}
	digits := func() int {
		n := 0
		for s.off < len(s.data) && s.data[s.off] >= '0' && s.data[s.off] <= '9' {
			s.off++
			n++
		}
		return n
	}
	if digits() == 0 {
		return nil, s.errf("invalid number: expected a digit")
	}
	if s.off < len(s.data) && s.data[s.off] == '.' {
		s.off++
		if digits() == 0 {
			return nil, s.errf("invalid number: expected a digit after '.'")
		}
	}
	if s.off < len(s.data) && (s.data[s.off] == 'e' || s.data[s.off] == 'E') {
		s.off++
		if s.off < len(s.data) && (s.data[s.off] == '+' || s.data[s.off] == '-') {
			s.off++
		}
		if digits() == 0 {
			return nil, s.errf("invalid number: expected a digit in the exponent")
		}
	}
	return s.node(jnode{kind: jNumber, pos: p, str: string(s.data[start:s.off])}), nil
}

// string reads a JSON string at the cursor (which is on the opening quote).
func (s *scanner) string() (string, error) {
	open := s.pos()
	s.off++
	start := s.off
	// Fast path: no escapes.
	for i := s.off; i < len(s.data); i++ {
		c := s.data[i]
		if c == '"' {
			str := string(s.data[start:i])
			if !utf8.ValidString(str) {
				break
			}
			s.off = i + 1
			return str, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	var b strings.Builder
	for {
		if s.off >= len(s.data) {
			s.off = start - 1
			return "", s.errf("unterminated string starting at line %d, column %d: the file looks truncated", open.Line, open.Col)
		}
		c := s.data[s.off]
		switch {
		case c == '"':
			s.off++
			return b.String(), nil
		case c == '\n':
			return "", s.errf("unterminated string: raw line break inside a string (write it as \\n)")
		case c < 0x20:
			return "", s.errf("raw control character U+%04X inside a string: escape it (for a tab write \\t)", c)
		case c == '\\':
			if s.off+1 >= len(s.data) {
				return "", s.errf("unexpected end of input in an escape sequence")
			}
			e := s.data[s.off+1]
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, n, err := s.unicodeEscape()
				if err != nil {
					return "", err
				}
				b.WriteRune(r)
				s.off += n
				continue
			default:
				s.off++
				return "", s.errf("invalid escape '\\%c' in a string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX; write a backslash as \\\\)", e)
			}
			s.off += 2
		default:
			r, size := utf8.DecodeRune(s.data[s.off:])
			if r == utf8.RuneError && size == 1 {
				return "", s.errf("invalid UTF-8 byte 0x%02X in a string (files must be UTF-8)", c)
			}
			b.WriteString(string(s.data[s.off : s.off+size]))
			s.off += size
		}
	}
}

// unicodeEscape decodes \uXXXX (and a following low surrogate) at the
// cursor, returning the rune and the bytes consumed.
func (s *scanner) unicodeEscape() (rune, int, error) {
	hex := func(at int) (rune, bool) {
		if at+6 > len(s.data) || s.data[at] != '\\' || s.data[at+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(s.data[at+2:at+6]), 16, 32)
		return rune(v), err == nil
	}
	r, ok := hex(s.off)
	if !ok {
		return 0, 0, s.errf("invalid \\u escape: expected four hex digits")
	}
	if r >= 0xD800 && r < 0xDC00 {
		if lo, ok := hex(s.off + 6); ok && lo >= 0xDC00 && lo < 0xE000 {
			return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, 12, nil
		}
		return utf8.RuneError, 6, nil
	}
	return r, 6, nil
}

// index returns the position in n.keys of the member that get(key) finds,
// or -1.
func (n *jnode) index(key string) int {
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i].key == key {
			return i
		}
	}
	return -1
}
