package schedule

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
)

// pipeline20 is a 20-component chain on one 15-minute schedule for a
// year: 10 data nodes N0..N9 linked by 9 activities (Ai reads Ni, writes
// Ni+1), all running on one resource.
func pipeline20(tb testing.TB) *definition.Definition {
	var b strings.Builder
	b.WriteString(`{"objects":[
{"id":"Default","scheduleType":"cron","schedule":{"ref":"Q"},"role":"r","resourceRole":"rr"},
{"id":"Q","type":"Schedule","period":"15 minutes","startDateTime":"2023-01-01T00:00:00","endDateTime":"2024-01-01T00:00:00"},
{"id":"Box","type":"Ec2Resource"}`)
	for i := range 10 {
		fmt.Fprintf(&b, `,{"id":"N%d","type":"S3DataNode","directoryPath":"s3://b/n%d/#{format(@scheduledStartTime,'YYYY/MM/dd/HH/mm')}"}`, i, i)
	}
	for i := range 9 {
		fmt.Fprintf(&b, `,{"id":"A%d","type":"ShellCommandActivity","runsOn":{"ref":"Box"},"input":{"ref":"N%d"},"output":{"ref":"N%d"},"command":"step %d"}`, i, i, i+1, i)
	}
	b.WriteString("]}")
	d, err := definition.Parse("bench.json", []byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	d.Resolve()
	return d
}

// BenchmarkPlanYear15Min streams one year of 15-minute instances of a
// 20-component pipeline (35,040 periods × 20 = 700,800 linked instances).
// One op is the whole year; see ns/instance.
func BenchmarkPlanYear15Min(b *testing.B) {
	d := pipeline20(b)
	p, err := Build(d, Options{Now: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = 0
		it := p.Iter(Window{})
		for _, ok := it.Next(); ok; _, ok = it.Next() {
			n++
		}
	}
	if n != 35040*20 {
		b.Fatalf("planned %d instances, want %d", n, 35040*20)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/instance")
}

// BenchmarkBuild measures compiling the definition into a plan.
func BenchmarkBuild(b *testing.B) {
	d := pipeline20(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(d, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
