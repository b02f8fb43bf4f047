package sqlrun

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DataFormat holds the evaluated fields of a CSV, TSV or Custom data format
// object. The zero value is CSV.
type DataFormat struct {
	Type            string   // CSV | TSV | Custom
	Columns         []string // `column` values, "name TYPE" or "name"
	ColumnSeparator string   // TSV/Custom; escapes like \t and \u0001 accepted
	RecordSeparator string   // default newline
	EscapeChar      string   // default backslash for CSV and TSV, none for Custom
}

// ColumnNames returns the names of Columns (the first word of each entry).
func (f DataFormat) ColumnNames() []string {
	var out []string
	for _, c := range f.Columns {
		if fs := strings.Fields(c); len(fs) > 0 {
			out = append(out, fs[0])
		}
	}
	return out
}

// codec is the byte-level dialect of a format.
//
//   - CSV: ',' separator; a field that starts with '"' is quoted RFC-4180
//     style ("" is a quote); outside quotes the escape character (default
//     backslash) makes the next character literal, as Data Pipeline's CSV
//     dialect does. An unquoted empty field or \N is NULL; "" is the empty
//     string. Writing quotes fields that need it and writes NULL as nothing.
//   - TSV: tab separator (columnSeparator), backslash escapes \t \n \r \\,
//     \N is NULL (PostgreSQL text format when the separator is a tab).
//   - Custom: the given separators; escapes only when escapeChar is set.
type codec struct {
	sep, rec  byte
	esc       byte // 0: none
	quote     byte // 0: none
	emptyNull bool
}

func (f DataFormat) codec() (codec, error) {
	typ := f.Type
	if typ == "" {
		typ = "CSV"
	}
	var c codec
	var err error
	sepOr := func(s string, def byte, field string) byte {
		if s == "" || err != nil {
			return def
		}
		var b byte
		b, err = oneByte(s, field)
		return b
	}
	switch strings.ToUpper(typ) {
	case "CSV":
		c = codec{sep: ',', rec: '\n', esc: '\\', quote: '"', emptyNull: true}
		c.esc = sepOr(f.EscapeChar, '\\', "escapeChar")
	case "TSV":
		c = codec{sep: sepOr(f.ColumnSeparator, '\t', "columnSeparator"), rec: '\n', esc: '\\'}
		c.rec = sepOr(f.RecordSeparator, '\n', "recordSeparator")
		c.esc = sepOr(f.EscapeChar, '\\', "escapeChar")
	case "CUSTOM":
		if f.ColumnSeparator == "" {
			//lint:ignore ST1005 starts with the object type name Custom
			return c, errors.New("Custom data format needs columnSeparator")
		}
		c = codec{sep: sepOr(f.ColumnSeparator, 0, "columnSeparator")}
		c.rec = sepOr(f.RecordSeparator, '\n', "recordSeparator")
		c.esc = sepOr(f.EscapeChar, 0, "escapeChar")
	default:
		return c, fmt.Errorf("data format %q is not supported for SQL copies (CSV, TSV, Custom)", f.Type)
	}
	if err != nil {
		return c, err
	}
	if c.sep == c.rec {
		return c, errors.New("columnSeparator and recordSeparator are the same character")
	}
	return c, nil
}

// oneByte decodes a separator spelling ("\t", "\\t", "|", "\u0001", "\001").
func oneByte(s, field string) (byte, error) {
	if len(s) == 1 {
		return s[0], nil
	}
	if u, err := strconv.Unquote(`"` + s + `"`); err == nil && len(u) == 1 {
		return u[0], nil
	}
	if strings.HasPrefix(s, `\`) && len(s) == 4 {
		if n, err := strconv.ParseUint(s[1:], 8, 8); err == nil {
			return byte(n), nil
		}
	}
	return 0, fmt.Errorf("%s %q must be a single character", field, s)
}

// Field is one parsed value; Null distinguishes SQL NULL from "".
type Field struct {
	B    []byte
	Null bool
}

// recordReader parses records of a codec from a stream. The returned slices
// are reused by the next call.
type recordReader struct {
	c      codec
	r      *bufio.Reader
	fields []Field
	buf    []byte
	line   int  // record number, 1-based, of the last record returned
	blank  bool // the last record had no bytes at all (a blank line)
	width  int  // fields in the first non-blank record
	// special marks the bytes the parser must look at one by one.
	special [256]bool
}

func newRecordReader(r io.Reader, c codec) *recordReader {
	rr := &recordReader{c: c, r: bufio.NewReaderSize(r, 1<<18)}
	rr.special[c.sep], rr.special[c.rec], rr.special['\r'] = true, true, true
	if c.esc != 0 {
		rr.special[c.esc] = true
	}
	return rr
}

// Read returns the next record, or io.EOF. Blank lines are skipped once
// records are known to have several columns; in single-column data (and
// before the first record) a blank line is an empty (CSV: NULL) value.
func (rr *recordReader) Read() ([]Field, error) {
	for {
		fs, err := rr.read()
		if err != nil {
			return nil, err
		}
		if rr.blank && rr.width > 1 {
			continue
		}
		if rr.width == 0 {
			rr.width = len(fs)
		}
		return fs, nil
	}
}

func (rr *recordReader) read() ([]Field, error) {
	c := rr.c
	rr.buf = rr.buf[:0]
	type span struct {
		start, end int
		null       bool
	}
	var spans [64]span
	sp := spans[:0]
	fieldStart := 0
	quoted, rawEscN, seen := false, false, false
	rr.blank = true
	atStart := true
	rawCR := false // the last byte of the field is a literal (unescaped) CR
	endField := func(atRecordEnd bool) {
		end := len(rr.buf)
		null := rawEscN && end-fieldStart == 1 && rr.buf[fieldStart] == 'N'
		if !quoted && end == fieldStart && c.emptyNull {
			null = true
		}
		if atRecordEnd && rawCR && c.rec == '\n' && end > fieldStart {
			end-- // tolerate CRLF
		}
		sp = append(sp, span{fieldStart, end, null})
		if null {
			sp[len(sp)-1].end = fieldStart
		}
		fieldStart = len(rr.buf)
		quoted, rawEscN, atStart, rawCR = false, false, true, false
	}
	rr.line++
	for {
		b, err := rr.r.ReadByte()
		if err != nil {
			if err == io.EOF && seen {
				endField(true)
				break
			}
			return nil, err
		}
		seen = true
		if b != c.rec && b != '\r' {
			rr.blank = false
		}
		switch {
		case atStart && c.quote != 0 && b == c.quote:
			atStart, quoted, rawCR = false, true, false
			if err := rr.readQuoted(); err != nil {
				return nil, err
			}
		case b == c.sep:
			endField(false)
		case b == c.rec:
			endField(true)
			goto done
		case c.esc != 0 && b == c.esc:
			n, err := rr.r.ReadByte()
			if err != nil {
				return nil, fmt.Errorf("record %d: input ends after escape character", rr.line)
			}
			if n == 'N' && atStart {
				rawEscN = true
			} else {
				rawEscN = false
			}
			atStart, rawCR = false, false
			switch n {
			case 'n':
				n = '\n'
			case 't':
				n = '\t'
			case 'r':
				n = '\r'
			}
			rr.buf = append(rr.buf, n)
		default:
			atStart, rawEscN, rawCR = false, false, b == '\r'
			rr.buf = append(rr.buf, b)
			// Fast path: copy the run of ordinary bytes already buffered.
			if peek, _ := rr.r.Peek(rr.r.Buffered()); len(peek) > 0 {
				n := 0
				for n < len(peek) && !rr.special[peek[n]] {
					n++
				}
				if n > 0 {
					rr.buf = append(rr.buf, peek[:n]...)
					rr.r.Discard(n)
					rawCR = false
				}
			}
		}
	}
done:
	rr.fields = rr.fields[:0]
	for _, s := range sp {
		rr.fields = append(rr.fields, Field{B: rr.buf[s.start:s.end], Null: s.null})
	}
	return rr.fields, nil
}

// readQuoted appends a quoted field's content (after the opening quote) to buf.
func (rr *recordReader) readQuoted() error {
	q := rr.c.quote
	for {
		b, err := rr.r.ReadByte()
		if err != nil {
			return fmt.Errorf("record %d: unterminated quoted field", rr.line)
		}
		if b == q {
			n, err := rr.r.ReadByte()
			if err == nil && n == q {
				rr.buf = append(rr.buf, q)
				continue
			}
			if err == nil {
				rr.r.UnreadByte()
			}
			return nil
		}
		rr.buf = append(rr.buf, b)
	}
}

// recordWriter writes records in a codec.
type recordWriter struct {
	c codec
	w *bufio.Writer
}

func newRecordWriter(w io.Writer, c codec) *recordWriter {
	return &recordWriter{c: c, w: bufio.NewWriterSize(w, 1<<16)}
}

func (rw *recordWriter) Write(fs []Field) error {
	c := rw.c
	for i, f := range fs {
		if i > 0 {
			rw.w.WriteByte(c.sep)
		}
		switch {
		case f.Null && c.quote != 0:
			// CSV: NULL is an empty unquoted field
		case f.Null && c.esc != 0:
			rw.w.WriteByte(c.esc)
			rw.w.WriteByte('N')
		case f.Null:
			rw.w.WriteString(`\N`)
		case c.quote != 0:
			if len(f.B) == 0 || bytes.IndexByte(f.B, c.sep) >= 0 || bytes.IndexByte(f.B, c.quote) >= 0 ||
				bytes.IndexByte(f.B, c.rec) >= 0 || bytes.IndexByte(f.B, '\r') >= 0 || (c.esc != 0 && bytes.IndexByte(f.B, c.esc) >= 0) {
				rw.w.WriteByte(c.quote)
				for _, b := range f.B {
					if b == c.quote {
						rw.w.WriteByte(c.quote)
					}
					rw.w.WriteByte(b)
				}
				rw.w.WriteByte(c.quote)
			} else {
				rw.w.Write(f.B)
			}
		case c.esc != 0:
			for _, b := range f.B {
				switch b {
				case c.esc:
					rw.w.WriteByte(c.esc)
					rw.w.WriteByte(b)
				case '\n':
					rw.w.WriteByte(c.esc)
					rw.w.WriteByte('n')
				case '\t':
					rw.w.WriteByte(c.esc)
					rw.w.WriteByte('t')
				case '\r':
					rw.w.WriteByte(c.esc)
					rw.w.WriteByte('r')
				case c.sep, c.rec:
					rw.w.WriteByte(c.esc)
					rw.w.WriteByte(b)
				default:
					rw.w.WriteByte(b)
				}
			}
		default:
			if bytes.IndexByte(f.B, c.sep) >= 0 || bytes.IndexByte(f.B, c.rec) >= 0 {
				return errors.New("value contains the column or record separator and the format has no escapeChar")
			}
			rw.w.Write(f.B)
		}
	}
	return rw.w.WriteByte(c.rec)
}

func (rw *recordWriter) Flush() error { return rw.w.Flush() }
