package expr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var myDateTime = time.Date(2011, 5, 24, 17, 10, 0, 0, time.UTC)

func testScope() Scope {
	input := &MapObject{Id: "MyInput", Fields: MapScope{
		"directoryPath":       String("s3://bucket/in"),
		"@scheduledStartTime": DateTime(myDateTime),
	}}
	node := &MapObject{Id: "MyActivity", Fields: MapScope{
		"name":                String("MyActivity"),
		"@scheduledStartTime": DateTime(myDateTime),
		"input":               Obj(input),
		"output":              Obj(&MapObject{Id: "Out", Fields: MapScope{"directoryPath": String("s3://bucket/out")}}),
	}}
	return MapScope{
		"myDateTime":          DateTime(myDateTime),
		"@scheduledStartTime": DateTime(myDateTime),
		"@scheduledEndTime":   DateTime(myDateTime.Add(time.Hour)),
		"myList":              Strings("one", "two"),
		"myList1":             List(Int(1), Int(2)),
		"myPrefix":            String("daily"),
		"myInt":               String("41"),
		"*myPassword":         String("hunter2"),
		"name":                String("CopyData"),
		"input":               Obj(input),
		"runsOn":              Obj(&MapObject{Id: "MyEc2", Fields: MapScope{}}),
		"node":                Obj(node),
		"parent":              Obj(&MapObject{Id: "ParentComponent", Fields: MapScope{"@id": String("ParentComponent")}}),
		"myJan31":             DateTime(time.Date(2011, 1, 31, 10, 0, 0, 0, time.UTC)),
		"myLeap":              DateTime(time.Date(2012, 2, 29, 10, 0, 0, 0, time.UTC)),
		"myStr":               String("2012-12-12T00:00:00"),
	}
}

func TestEvalTable(t *testing.T) {
	sc := testScope()
	tests := []struct {
		in, want string
		kind     Kind
	}{
		// runtime.md §1.4, myDateTime = 2011-05-24T17:10 UTC
		{"#{year(myDateTime)}", "2011", KindInt},
		{"#{month(myDateTime)}", "5", KindInt},
		{"#{day(myDateTime)}", "24", KindInt},
		{"#{dayOfYear(myDateTime)}", "144", KindInt},
		{"#{hour(myDateTime)}", "17", KindInt},
		{"#{minute(myDateTime)}", "10", KindInt},
		{"#{makeDate(2011,5,24)}", "2011-05-24T00:00:00", KindDateTime},
		{"#{makeDateTime(2011,5,24,14,21)}", "2011-05-24T14:21:00", KindDateTime},
		{"#{firstOfMonth(myDateTime)}", "2011-05-01T17:10:00", KindDateTime},
		{"#{midnight(makeDateTime(2011,5,25,17,10))}", "2011-05-25T00:00:00", KindDateTime},
		{"#{sunday(myDateTime)}", "2011-05-22T17:10:00", KindDateTime},
		{"#{sunday(makeDateTime(2011,5,22,9,0))}", "2011-05-22T09:00:00", KindDateTime},
		{"#{yesterday(myDateTime)}", "2011-05-23T17:10:00", KindDateTime},
		{"#{plusMinutes(myDateTime,1)}", "2011-05-24T17:11:00", KindDateTime},
		{"#{plusHours(myDateTime,1)}", "2011-05-24T18:10:00", KindDateTime},
		{"#{plusDays(myDateTime,1)}", "2011-05-25T17:10:00", KindDateTime},
		{"#{plusWeeks(myDateTime,1)}", "2011-05-31T17:10:00", KindDateTime},
		{"#{plusMonths(myDateTime,1)}", "2011-06-24T17:10:00", KindDateTime},
		{"#{plusYears(myDateTime,1)}", "2012-05-24T17:10:00", KindDateTime},
		{"#{minusMinutes(myDateTime,1)}", "2011-05-24T17:09:00", KindDateTime},
		{"#{minusHours(myDateTime,1)}", "2011-05-24T16:10:00", KindDateTime},
		{"#{minusDays(myDateTime,1)}", "2011-05-23T17:10:00", KindDateTime},
		{"#{minusWeeks(myDateTime,1)}", "2011-05-17T17:10:00", KindDateTime},
		{"#{minusMonths(myDateTime,1)}", "2011-04-24T17:10:00", KindDateTime},
		{"#{minusYears(myDateTime,1)}", "2010-05-24T17:10:00", KindDateTime},
		{"#{format(myDateTime,'YYYY-MM-dd HH:mm:ss z')}", "2011-05-24 17:10:00 UTC", KindString},
		{"#{format(inTimeZone(myDateTime,'America/Los_Angeles'),'YYYY-MM-dd HH:mm z')}", "2011-05-24 10:10 PDT", KindString},
		{`#{format(plusPeriod(@scheduledStartTime, "1 day"), 'YYYY-MM-dd')}`, "2011-05-25", KindString},
		{`#{minusPeriod(@scheduledStartTime, "2 hours")}`, "2011-05-24T15:10:00", KindDateTime},
		// §1.3 operators
		{"#{1/2}", "0", KindInt},
		{"#{1.0/2}", "0.5", KindDouble},
		{"#{7/-2}", "-3", KindInt},
		{"#{2 ^ 2}", "4.0", KindDouble},
		{"#{2 ^ 3 ^ 2}", "512.0", KindDouble},
		{"#{-2 ^ 2}", "-4.0", KindDouble},
		{"#{1 + 2 * 3}", "7", KindInt},
		{"#{(1 + 2) * 3}", "9", KindInt},
		{"#{1 + 2.5}", "3.5", KindDouble},
		{"#{10000000.0}", "1.0E7", KindDouble},
		{"#{.5}", "0.5", KindDouble},
		{"#{-myInt}", "-41", KindInt},
		{"#{myInt * 2}", "82", KindInt},
		{`#{"hel" + 'lo'}`, "hello", KindString},
		{"#{'n=' + 1 + 2}", "n=12", KindString},
		{"#{1 + 2 + 'x'}", "3x", KindString},
		{"#{'v' + 2 ^ 2}", "v4.0", KindString},
		{"#{'at ' + myDateTime}", "at 2011-05-24T17:10:00", KindString},
		// references
		{"#{name}", "CopyData", KindString},
		{"#{input.directoryPath}", "s3://bucket/in", KindString},
		{"#{node.@scheduledStartTime}", "2011-05-24T17:10:00", KindDateTime},
		{"#{node.output.directoryPath}", "s3://bucket/out", KindString},
		{"#{node.input}", "MyInput", KindObject},
		{"#{runsOn.id}", "MyEc2", KindString},
		{"#{parent.@id}", "ParentComponent", KindString},
		{"#{*myPassword}", "hunter2", KindString},
		{"#{2*myInt}", "82", KindInt},
		{"#{myStr.plusDays(1)}", "2012-12-13T00:00:00", KindDateTime},
		// method style for any function
		{"#{@scheduledStartTime.format('YYYY-MM-dd HH:mm:ss')}", "2011-05-24 17:10:00", KindString},
		{"#{myDateTime.minusDays(1).format('dd')}", "23", KindString},
		{"#{node.@scheduledStartTime.year()}", "2011", KindInt},
		// nesting
		{"#{format(minusMinutes(@scheduledStartTime,30),'YYYY-MM-dd hh:mm:ss')}", "2011-05-24 04:40:00", KindString},
		// month-end clamping and leap years
		{"#{plusMonths(myJan31,1)}", "2011-02-28T10:00:00", KindDateTime},
		{"#{plusMonths(myJan31,13)}", "2012-02-29T10:00:00", KindDateTime},
		{"#{minusMonths(myJan31,2)}", "2010-11-30T10:00:00", KindDateTime},
		{"#{plusYears(myLeap,1)}", "2013-02-28T10:00:00", KindDateTime},
		{"#{plusYears(myLeap,4)}", "2016-02-29T10:00:00", KindDateTime},
		{"#{dayOfYear(makeDate(2012,12,31))}", "366", KindInt},
		{"#{dayOfYear(makeDate(2011,12,31))}", "365", KindInt},
		{"#{format(makeDate(2012,2,29),'D DDD')}", "60 060", KindString},
		// the common user bug: DD is day of year
		{"#{format(myDateTime,'YYYY-MM-DD')}", "2011-05-144", KindString},
		// 12-hour clocks
		{"#{format(makeDateTime(2011,5,24,0,5),'hh:mm a K k H')}", "12:05 AM 0 24 0", KindString},
		{"#{format(makeDateTime(2011,5,24,12,5),'h:mm a K k')}", "12:05 PM 0 12", KindString},
		{"#{format(makeDateTime(2011,5,24,23,5),'hh a KK kk')}", "11 PM 11 23", KindString},
		// week-years: 2010-01-03 is in week 53 of 2009; 2014-12-29 in week 1 of 2015
		{"#{format(makeDate(2010,1,3),'xxxx-ww-e yyyy YYYY xx')}", "2009-53-7 2010 2010 09", KindString},
		{"#{format(makeDate(2014,12,29),'xxxx-ww-e EEE EEEE')}", "2015-01-1 Mon Monday", KindString},
		// quoting
		{`#{format(myDateTime,"yyyy-MM-dd'T'HH:mm:ss")}`, "2011-05-24T17:10:00", KindString},
		{`#{format(myDateTime,"HH 'o''clock' ''")}`, "17 o'clock '", KindString},
		{"#{format(myDateTime,'MMM MMMM G C yy')}", "May May AD 20 11", KindString},
		{"#{format(myDateTime,'Z ZZ ZZZ zzzz')}", "+0000 +00:00 UTC Coordinated Universal Time", KindString},
		// DST with inTimeZone: New York switches at 2011-03-13 07:00 UTC
		{"#{format(inTimeZone(makeDateTime(2011,3,13,6,59),'America/New_York'),'HH:mm z Z')}", "01:59 EST -0500", KindString},
		{"#{format(inTimeZone(makeDateTime(2011,3,13,7,0),'America/New_York'),'HH:mm z Z')}", "03:00 EDT -0400", KindString},
		{"#{format(inTimeZone(makeDateTime(2011,11,6,5,30),'America/New_York'),'HH:mm zzzz')}", "01:30 Eastern Daylight Time", KindString},
		{"#{format(inTimeZone(makeDateTime(2011,11,6,6,30),'America/New_York'),'HH:mm zzzz')}", "01:30 Eastern Standard Time", KindString},
		// plusDays across spring-forward keeps the wall time; plusHours does not
		{"#{format(plusDays(inTimeZone(makeDateTime(2011,3,12,15,0),'America/New_York'),1),'dd HH:mm Z')}", "13 10:00 -0400", KindString},
		{"#{format(plusHours(inTimeZone(makeDateTime(2011,3,12,15,0),'America/New_York'),24),'dd HH:mm Z')}", "13 11:00 -0400", KindString},
		{"#{inTimeZone(myDateTime,'Asia/Kolkata')}", "2011-05-24T22:40:00", KindDateTime},
		{"#{format(inTimeZone(myDateTime,'+05:30'),'HH:mm ZZ z')}", "22:40 +05:30 +05:30", KindString},
		// templates
		{"s3://bucket/#{format(@scheduledStartTime,'YYYY-MM-dd')}/#{myPrefix}", "s3://bucket/2011-05-24/daily", KindString},
		{"plain text with a # and #name", "plain text with a # and #name", KindString},
		{"#{name}#{name}", "CopyDataCopyData", KindString},
		{"#{format(myDateTime,'}')}", "}", KindString},
		{"", "", KindString},
		// lists map element-wise and flatten
		{"#{'this is ' + myList}", "[this is one, this is two]", KindList},
		{"s3://b/#{myList}/x", "[s3://b/one/x, s3://b/two/x]", KindList},
		{"#{myList1 * 10}", "[10, 20]", KindList},
		{"#{myList1 + myList1}", "[2, 3, 3, 4]", KindList},
		{"#{myList}", "[one, two]", KindList},
		{"#{plusDays(myDateTime, myList1)}", "[2011-05-25T17:10:00, 2011-05-26T17:10:00]", KindList},
	}
	for _, tt := range tests {
		tp, err := ParseTemplate(tt.in)
		if err != nil {
			t.Errorf("ParseTemplate(%q): %v", tt.in, err)
			continue
		}
		v, err := tp.Eval(sc)
		if err != nil {
			t.Errorf("Eval(%q): %v", tt.in, err)
			continue
		}
		if v.String() != tt.want || v.Kind() != tt.kind {
			t.Errorf("Eval(%q) = %q (%s), want %q (%s)", tt.in, v.String(), v.Kind(), tt.want, tt.kind)
		}
	}
}

func TestErrorsWithPositions(t *testing.T) {
	sc := testScope()
	tests := []struct {
		in        string
		fieldOff  int // offset inside the whole field value
		exprOff   int // offset inside the expression
		msgSubstr string
	}{
		{"x #{foo(1)}", 4, 0, `unknown function "foo"`},
		{"#{Format(myDateTime,'x')}", 2, 0, "did you mean format"},
		{"#{year(myDateTime, 1)}", 2, 0, "takes 1 argument"},
		{"#{formatt(myDateTime,'x')}", 2, 0, "did you mean format?"},
		{"#{plusDay(myDateTime,1)}", 2, 0, "did you mean plusDays?"},
		{"#{substring('abc',1)}", 2, 0, `unknown function "substring"`},
		{"#{1 +}", 5, 3, "expected a value, found end of expression"},
		{"#{(1 + 2}", 8, 6, "expected ')' to close '(' at offset 0"},
		{"a/#{name", 4, 0, "unterminated #{"},
		{"#{'abc}", 2, 0, "unterminated string"},
		{"#{}", 2, 0, "empty expression"},
		{"#{format(minusMinutes(#{mySchedulePeriod}, 10))}", 22, 20, "nested #{"},
		{"#{sqoop command}", 8, 6, `unexpected name "command"`},
		{"#{a $ b}", 4, 2, "unexpected character"},
		{"#{1 2}", 4, 2, "unexpected number"},
		{"#{@}", 2, 0, "'@' must be followed"},
		{"#{x.}", 4, 2, "expected a field or function name"},
		{"#{f(1,)}", 6, 4, "expected a value, found ')'"},
		{"#{f(1)}", 2, 0, `unknown function "f"`},
		{"#{99999999999999999999}", 2, 0, "out of range"},
		{"#{12abc}", 2, 0, "malformed number"},
	}
	for _, tt := range tests {
		_, err := ParseTemplate(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParseTemplate(%q): error %v, want *Error", tt.in, err)
			continue
		}
		if e.FieldOffset() != tt.fieldOff || e.Offset != tt.exprOff || !strings.Contains(e.Error(), tt.msgSubstr) {
			t.Errorf("ParseTemplate(%q): %v (field offset %d, expr offset %d), want offsets %d/%d and %q",
				tt.in, e, e.FieldOffset(), e.Offset, tt.fieldOff, tt.exprOff, tt.msgSubstr)
		}
	}

	evalErrs := []struct {
		in        string
		fieldOff  int
		msgSubstr string
		unknown   bool
	}{
		{"s3://#{myMissing}", 7, `unknown name "myMissing"`, true},
		{"#{input.nope}", 8, `MyInput: unknown name "nope"`, true},
		{"#{name.x}", 7, `cannot read field "x" of a String`, false},
		{"#{1/0}", 3, "division by zero", false},
		{"#{year('soon')}", 7, `year: argument 1: want DateTime, got String "soon"`, false},
		{"#{format(myDateTime,'yyyy-MM-ddTHH')}", 2, `illegal pattern component "T"`, false},
		{"#{format(myDateTime,'')}", 2, "invalid pattern", false},
		{"#{inTimeZone(myDateTime,'Mars/Olympus')}", 2, "not a known IANA zone", false},
		{"#{plusPeriod(myDateTime,'soon')}", 2, "period", false},
		{"#{makeDate(2011,2,30)}", 2, "day 30 out of range", false},
		{"#{name - 1}", 7, "needs numbers", false},
		{"#{-name}", 2, "cannot negate", false},
	}
	for _, tt := range evalErrs {
		tp, err := ParseTemplate(tt.in)
		if err != nil {
			t.Errorf("ParseTemplate(%q): %v", tt.in, err)
			continue
		}
		_, err = tp.Eval(sc)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Eval(%q): error %v, want *Error", tt.in, err)
			continue
		}
		if e.FieldOffset() != tt.fieldOff || !strings.Contains(e.Error(), tt.msgSubstr) || errors.Is(err, ErrUnknown) != tt.unknown {
			t.Errorf("Eval(%q): %v (field offset %d, unknown=%v), want offset %d, %q, unknown=%v",
				tt.in, e, e.FieldOffset(), errors.Is(err, ErrUnknown), tt.fieldOff, tt.msgSubstr, tt.unknown)
		}
	}
}

func TestScan(t *testing.T) {
	segs, err := Scan("s3://#{input.directoryPath}/#{format(@scheduledStartTime,'}')}#x#{bad(}")
	if err == nil {
		t.Fatal("Scan: want the syntax error of the third expression")
	}
	if len(segs) != 3 {
		t.Fatalf("Scan: %d segments, want 3", len(segs))
	}
	if segs[0].Start != 5 || segs[0].ExprStart != 7 || segs[0].Text != "input.directoryPath" || segs[0].Err != nil {
		t.Errorf("segment 0 = %+v", segs[0])
	}
	refs := segs[0].Expr.Refs()
	if len(refs) != 1 || strings.Join(refs[0].Path, ".") != "input.directoryPath" || refs[0].Offset != 0 {
		t.Errorf("refs = %+v", refs)
	}
	if segs[1].Text != "format(@scheduledStartTime,'}')" || segs[1].Err != nil {
		t.Errorf("segment 1 = %+v", segs[1])
	}
	calls := segs[1].Expr.Calls()
	if len(calls) != 1 || calls[0].Name != "format" {
		t.Errorf("calls = %+v", calls)
	}
	if r := segs[1].Expr.Refs(); len(r) != 1 || r[0].Path[0] != "@scheduledStartTime" || r[0].Offset != 7 {
		t.Errorf("refs = %+v", r)
	}
	if segs[2].Err == nil || segs[2].Expr != nil {
		t.Errorf("segment 2 = %+v, want a syntax error", segs[2])
	}
	if segs, err := Scan("no expressions # here"); err != nil || len(segs) != 0 {
		t.Errorf("Scan(plain) = %v, %v", segs, err)
	}
}

func TestRefsAndCalls(t *testing.T) {
	e, err := Parse("format(plusDays(node.@scheduledStartTime, myN), myFmt) + runsOn.id + x.y.z.format('d')")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range e.Refs() {
		got = append(got, strings.Join(r.Path, "."))
	}
	want := "node.@scheduledStartTime myN myFmt runsOn.id x.y.z"
	if strings.Join(got, " ") != want {
		t.Errorf("Refs = %v, want %s", got, want)
	}
	var names []string
	for _, c := range e.Calls() {
		names = append(names, c.Name)
	}
	if strings.Join(names, " ") != "format plusDays format" {
		t.Errorf("Calls = %v", names)
	}
}

func TestFunctionsListed(t *testing.T) {
	fs := Functions()
	want := []string{"day", "dayOfYear", "firstOfMonth", "format", "hour", "inTimeZone", "makeDate", "makeDateTime",
		"midnight", "minusDays", "minusHours", "minusMinutes", "minusMonths", "minusPeriod", "minusWeeks", "minusYears",
		"minute", "month", "plusDays", "plusHours", "plusMinutes", "plusMonths", "plusPeriod", "plusWeeks", "plusYears",
		"sunday", "year", "yesterday"}
	if strings.Join(fs, ",") != strings.Join(want, ",") {
		t.Errorf("Functions() = %v\nwant %v", fs, want)
	}
	fs[0] = "mutated"
	if Functions()[0] != "day" {
		t.Error("Functions() exposes its backing slice")
	}
}

func TestTemplateCacheReturnsSameTemplate(t *testing.T) {
	a, err := ParseTemplate("cache #{name}")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ParseTemplate("cache #{name}")
	if a != b {
		t.Error("ParseTemplate did not reuse the cached template")
	}
	if a.IsLiteral() || len(a.Exprs()) != 1 {
		t.Errorf("IsLiteral=%v Exprs=%d", a.IsLiteral(), len(a.Exprs()))
	}
}

func TestFormatDouble(t *testing.T) {
	for f, want := range map[float64]string{4: "4.0", 0.5: "0.5", -2.25: "-2.25", 1e7: "1.0E7", 1.5e-4: "1.5E-4",
		0.001: "0.001", 123456.789: "123456.789", 1e21: "1.0E21", 0: "0.0"} {
		if got := FormatDouble(f); got != want {
			t.Errorf("FormatDouble(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestJodaFractionAndPadding(t *testing.T) {
	at := time.Date(2011, 5, 24, 17, 10, 5, 123456789, time.UTC)
	for pattern, want := range map[string]string{
		"S":                     "1",
		"SS":                    "12",
		"SSS":                   "123",
		"SSSSSS":                "123000",
		"yyyyyy":                "002011",
		"y":                     "2011",
		"C":                     "20",
		"'unterminated literal": "unterminated literal",
		"ss.SSS":                "05.123",
	} {
		got, err := FormatJoda(at, pattern)
		if err != nil || got != want {
			t.Errorf("FormatJoda(%q) = %q, %v; want %q", pattern, got, err, want)
		}
	}
	bc := time.Date(-43, 3, 15, 0, 0, 0, 0, time.UTC) // 44 BC
	if got, _ := FormatJoda(bc, "G YYYY yyyy"); got != "BC 0044 -0043" {
		t.Errorf("BC year: %q", got)
	}
}
