package sqlrun

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// FuzzFormatRoundTrip: any values written in a format read back unchanged.
// The input is split into records by \x01 and fields by \x00; a field "\x02"
// is NULL.
func FuzzFormatRoundTrip(f *testing.F) {
	f.Add("a\x00b,c\x01\x02\x00\"q\"")
	f.Add("tab\there\x00back\\slash\x01\x00\x02")
	f.Add("\x02\x01\x02\x01x")
	f.Add("line\nbreak\r\x00|pipe|\x01\\N\x00N")
	f.Fuzz(func(t *testing.T, in string) {
		var records [][]Field
		width := -1
		for _, r := range strings.Split(in, "\x01") {
			var rec []Field
			for _, v := range strings.Split(r, "\x00") {
				if v == "\x02" {
					rec = append(rec, Field{Null: true})
				} else {
					rec = append(rec, Field{B: []byte(v)})
				}
			}
			if width < 0 {
				width = len(rec)
			}
			if len(rec) != width {
				return // formats assume a fixed width
			}
			records = append(records, rec)
		}
		for _, df := range []DataFormat{{Type: "CSV"}, {Type: "TSV"}, {Type: "Custom", ColumnSeparator: "|", EscapeChar: `\`}} {
			c, err := df.codec()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w := newRecordWriter(&buf, c)
			for _, r := range records {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			w.Flush()
			rr := newRecordReader(bytes.NewReader(buf.Bytes()), c)
			for i, want := range records {
				got, err := rr.Read()
				if err != nil {
					t.Fatalf("%s record %d: %v (data %q)", df.Type, i+1, err, buf.String())
				}
				if !fieldsEqual(got, want) {
					t.Fatalf("%s record %d: got %s want %s (data %q)", df.Type, i+1, showFields(got), showFields(want), buf.String())
				}
			}
			if _, err := rr.Read(); err != io.EOF {
				t.Fatalf("%s: want EOF, got %v (data %q)", df.Type, err, buf.String())
			}
		}
	})
}

// FuzzSplitStatements: splitting never panics, statements are trimmed
// non-empty pieces of the script in order.
func FuzzSplitStatements(f *testing.F) {
	f.Add("select 1; select 'a;b'; -- c\n select $$x;y$$;")
	f.Add("/* unterminated")
	f.Add("'open")
	f.Add("$tag$ never closed")
	f.Fuzz(func(t *testing.T, script string) {
		for _, d := range []Dialect{Postgres, MySQL, SQLite} {
			pos := 0
			for _, st := range SplitStatements(script, d) {
				if st.Text == "" || st.Text != strings.TrimSpace(st.Text) {
					t.Fatalf("%s: bad statement %q", d, st.Text)
				}
				i := strings.Index(script[pos:], st.Text)
				if i < 0 {
					t.Fatalf("%s: statement %q not found in order in %q", d, st.Text, script)
				}
				pos += i + len(st.Text)
			}
			next := 0
			bindPlaceholders(script, d, []string{"a", "b"}, &next)
		}
	})
}
