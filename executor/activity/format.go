package activity

import (
	"bufio"
	"fmt"
	"io"

	"github.com/dpl-dev/dpl/executor/task"
)

// Format is a record layout of S3 data (CSV, TSV or Custom data formats).
// The service's CSV is Unix style: comma separator, no quoting, a backslash
// escapes the next character, records end with LF (runtime.md §6.2).
type Format struct {
	ID              string // the data format object, "" when the node has none
	Type            string
	Columns         []string
	ColumnSeparator byte
	RecordSeparator byte
	Escape          byte // 0 for none
}

// formatOf reads the data format a node refers to; a node without one is
// treated as opaque bytes.
func formatOf(t *task.Task, node *task.Object) (*Format, error) {
	df := t.Ref(node, "dataFormat")
	if df == nil {
		if ids := node.Refs("dataFormat"); len(ids) > 0 {
			return nil, fmt.Errorf("data format %s is not part of the task", ids[0])
		}
		return nil, nil
	}
	f := &Format{ID: df.ID, Type: df.Get("type"), Columns: df.All("column"), RecordSeparator: '\n'}
	one := func(field, s string, def byte) (byte, error) {
		s = unescapeSeparator(s)
		switch len(s) {
		case 0:
			return def, nil
		case 1:
			return s[0], nil
		}
		return 0, fmt.Errorf("%s %s: %q must be a single character", df.ID, field, s)
	}
	var err error
	switch f.Type {
	case "CSV":
		f.ColumnSeparator = ','
		f.Escape, err = one("escapeChar", df.Get("escapeChar"), '\\')
	case "TSV":
		if f.ColumnSeparator, err = one("columnSeparator", df.Get("columnSeparator"), '\t'); err != nil {
			return nil, err
		}
		if f.RecordSeparator, err = one("recordSeparator", df.Get("recordSeparator"), '\n'); err != nil {
			return nil, err
		}
		f.Escape, err = one("escapeChar", df.Get("escapeChar"), 0)
	case "Custom":
		if f.ColumnSeparator, err = one("columnSeparator", df.Get("columnSeparator"), 0); err != nil {
			return nil, err
		}
		if f.ColumnSeparator == 0 {
			return nil, fmt.Errorf("%s: Custom data format needs columnSeparator", df.ID)
		}
		f.RecordSeparator, err = one("recordSeparator", df.Get("recordSeparator"), '\n')
	default:
		return nil, fmt.Errorf("data format %s of type %s cannot be read by CopyActivity (CSV, TSV and Custom can)", df.ID, f.Type)
	}
	return f, err
}

// unescapeSeparator accepts the written forms "\t", "\n" and "\\|".
func unescapeSeparator(s string) string {
	switch s {
	case `\t`:
		return "\t"
	case `\n`:
		return "\n"
	case `\r`:
		return "\r"
	}
	if len(s) == 2 && s[0] == '\\' {
		return s[1:]
	}
	return s
}

func sameFormat(a, b *Format) bool {
	if a == nil || b == nil {
		return true // a node without a format is opaque bytes: copy as is
	}
	return a.ColumnSeparator == b.ColumnSeparator && a.RecordSeparator == b.RecordSeparator && a.Escape == b.Escape
}

// convertRecords re-encodes every record of src in format in to format out,
// streaming, without building per-field strings. It returns the number of
// records written.
func convertRecords(dst io.Writer, src io.Reader, in, out *Format) (int64, error) {
	if in == nil || out == nil {
		return io.Copy(dst, src)
	}
	br := bufio.NewReaderSize(src, 64<<10)
	bw := bufio.NewWriterSize(dst, 64<<10)
	outEsc := out.Escape
	if outEsc == 0 {
		outEsc = '\\'
	}
	var rec []byte
	var n int64
	for {
		rec = rec[:0]
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice(in.RecordSeparator)
			rec = append(rec, chunk...)
			if err == bufio.ErrBufferFull || err == nil && escapedEnd(rec, in.Escape) {
				continue
			}
			break
		}
		if err != nil && err != io.EOF {
			return n, err
		}
		if len(rec) == 0 && err == io.EOF {
			return n, bw.Flush()
		}
		if err == nil {
			rec = rec[:len(rec)-1]
		}
		if l := len(rec); l > 0 && rec[l-1] == '\r' && in.RecordSeparator == '\n' {
			rec = rec[:l-1]
		}
		for i := 0; i < len(rec); i++ {
			c := rec[i]
			switch {
			case in.Escape != 0 && c == in.Escape && i+1 < len(rec):
				i++
				c = rec[i]
			case c == in.ColumnSeparator:
				bw.WriteByte(out.ColumnSeparator)
				continue
			}
			if c == out.ColumnSeparator || c == out.RecordSeparator || c == outEsc {
				bw.WriteByte(outEsc)
			}
			bw.WriteByte(c)
		}
		bw.WriteByte(out.RecordSeparator)
		n++
		if err == io.EOF {
			return n, bw.Flush()
		}
	}
}

// escapedEnd reports whether the record separator ending rec is escaped:
// preceded by an odd number of escape characters.
func escapedEnd(rec []byte, esc byte) bool {
	if esc == 0 {
		return false
	}
	k := 0
	for i := len(rec) - 2; i >= 0 && rec[i] == esc; i-- {
		k++
	}
	return k%2 == 1
}
