package expr

import (
	"testing"
	"time"
)

func BenchmarkTemplatePath(b *testing.B) {
	sc := MapScope{"@scheduledStartTime": DateTime(myDateTime), "myPrefix": String("daily")}
	const field = "s3://bucket/#{format(@scheduledStartTime,'YYYY-MM-dd')}/#{myPrefix}"
	b.ReportAllocs()
	for b.Loop() {
		t, err := ParseTemplate(field)
		if err != nil {
			b.Fatal(err)
		}
		v, err := t.Eval(sc)
		if err != nil || v.Str() != "s3://bucket/2011-05-24/daily" {
			b.Fatal(v, err)
		}
	}
}

func BenchmarkFormatJoda(b *testing.B) {
	at := time.Date(2011, 5, 24, 17, 10, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FormatJoda(at, "YYYY-MM-dd HH:mm:ss"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatJodaZone(b *testing.B) {
	loc, _ := LoadZone("America/New_York")
	at := time.Date(2011, 5, 24, 17, 10, 0, 0, time.UTC).In(loc)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FormatJoda(at, "YYYY-MM-dd'T'HH:mm:ss.SSSZZ z"); err != nil {
			b.Fatal(err)
		}
	}
}
