package expr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"format(@scheduledStartTime,'YYYY-MM-dd')", "1 + 2 * 3 ^ -4", "node.input.directoryPath",
		"x.format('y').z", "'unterminated", "((((1))))", "-.5e3", "*myPassword", "a..b", "f(,)", "#{x}", "1/0", "myList + myList"} {
		f.Add(s)
	}
	sc := testScope()
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): error %T %v is not an *Error", src, err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(src) {
				t.Fatalf("Parse(%q): offset %d outside the expression", src, pe.Offset)
			}
			return
		}
		for _, r := range e.Refs() {
			if r.Offset < 0 || r.Offset >= len(src) || !strings.HasPrefix(src[r.Offset:], r.Path[0]) {
				t.Fatalf("Parse(%q): ref %v at offset %d does not point at its name", src, r.Path, r.Offset)
			}
		}
		if _, err := e.Eval(sc); err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Eval(%q): error %T %v is not an *Error", src, err, err)
			}
		}
	})
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"s3://bucket/#{format(@scheduledStartTime,'YYYY-MM-dd')}/#{myPrefix}", "#{", "#{}", "}#{'}'}",
		"# { x }", "#{myList}-#{myList}", "#{a}#{b", "##{name}#"} {
		f.Add(s)
	}
	sc := testScope()
	f.Fuzz(func(t *testing.T, s string) {
		segs, serr := Scan(s)
		prevEnd := 0
		for _, sg := range segs {
			if sg.Start < prevEnd || sg.End > len(s) || s[sg.Start:sg.Start+2] != "#{" || sg.ExprStart != sg.Start+2 {
				t.Fatalf("Scan(%q): bad segment %+v", s, sg)
			}
			if (sg.Err == nil) == (sg.Expr == nil) {
				t.Fatalf("Scan(%q): segment has both or neither of Expr and Err: %+v", s, sg)
			}
			prevEnd = sg.End
		}
		tp, err := ParseTemplate(s)
		if (err == nil) != (serr == nil) {
			t.Fatalf("ParseTemplate and Scan disagree on %q: %v vs %v", s, err, serr)
		}
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.FieldOffset() < 0 || pe.FieldOffset() > len(s) {
				t.Fatalf("ParseTemplate(%q): bad error %v", s, err)
			}
			return
		}
		if !strings.Contains(s, "#{") {
			v, err := tp.Eval(sc)
			if err != nil || v.String() != s {
				t.Fatalf("literal template %q evaluated to %q, %v", s, v.String(), err)
			}
			return
		}
		if _, err := tp.Eval(sc); err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.FieldOffset() < 0 || pe.FieldOffset() > len(s) {
				t.Fatalf("Eval(%q): bad error %v", s, err)
			}
		}
	})
}

func FuzzJodaPattern(f *testing.F) {
	for _, s := range fixedPatterns {
		f.Add(s, int64(1306257000123))
	}
	f.Fuzz(func(t *testing.T, pattern string, ms int64) {
		at := time.UnixMilli(ms % (300 * 365 * 24 * 3600 * 1000)).UTC()
		p, err := CompileJoda(pattern)
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("CompileJoda(%q): %T", pattern, err)
			}
			return
		}
		a := p.Format(at)
		if b := p.Format(at); a != b {
			t.Fatalf("format not deterministic: %q vs %q", a, b)
		}
		// Without letters or quotes a pattern is copied verbatim.
		if !strings.ContainsAny(pattern, "'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") && a != pattern {
			t.Fatalf("literal pattern %q printed %q", pattern, a)
		}
	})
}
