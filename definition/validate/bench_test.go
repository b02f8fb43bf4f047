package validate

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
)

// generated builds a realistic definition of n objects: Default, a few
// schedules and resources, then chains of S3 nodes and activities with
// expressions, preconditions and alarms.
func generated(n int) []byte {
	var b strings.Builder
	b.WriteString("{\n  \"objects\": [\n")
	obj := func(format string, args ...any) {
		b.WriteString("    ")
		fmt.Fprintf(&b, format, args...)
		b.WriteString(",\n")
	}
	obj(`{"id": "Default", "name": "Default", "scheduleType": "cron", "schedule": {"ref": "Daily"}, "failureAndRerunMode": "none", "role": "DataPipelineDefaultRole", "resourceRole": "DataPipelineDefaultResourceRole", "pipelineLogUri": "s3://bench-logs/", "onFail": {"ref": "Page"}}`)
	obj(`{"id": "Daily", "name": "Daily", "type": "Schedule", "period": "1 day", "startDateTime": "2030-01-01T00:00:00"}`)
	obj(`{"id": "Page", "name": "Page", "type": "SnsAlarm", "topicArn": "arn:aws:sns:us-east-1:123456789012:bench", "subject": "#{node.name} failed", "message": "#{node.errorMessage}", "role": "DataPipelineDefaultRole"}`)
	obj(`{"id": "Ready", "name": "Ready", "type": "S3KeyExists", "s3Key": "s3://bench-in/_SUCCESS", "role": "DataPipelineDefaultRole"}`)
	obj(`{"id": "Seed", "name": "Seed", "type": "S3DataNode", "directoryPath": "s3://bench-in/"}`)
	count := 5
	for i := 0; count < n-1; i++ {
		obj(`{"id": "Box%d", "name": "Box%d", "type": "Ec2Resource", "instanceType": "t3.small", "terminateAfter": "2 hours", "securityGroupIds": ["sg-0a1b2c3d"]}`, i, i)
		obj(`{"id": "Node%d", "name": "Node%d", "type": "S3DataNode", "directoryPath": "s3://bench-data/%d/#{format(@scheduledStartTime,'YYYY-MM-dd')}/", "precondition": {"ref": "Ready"}}`, i, i, i)
		in := "Seed"
		if i > 0 {
			in = fmt.Sprintf("Node%d", i-1)
		}
		obj(`{"id": "Arch%d", "name": "Arch%d", "type": "S3DataNode", "filePath": "s3://bench-archive/%d.tar.gz"}`, i, i, i)
		obj(`{"id": "Step%d", "name": "Step%d", "type": "ShellCommandActivity", "runsOn": {"ref": "Box%d"}, "input": {"ref": "%s"}, "output": {"ref": "Node%d"}, "stage": "true", "command": "process --day #{format(minusDays(@scheduledStartTime,1),'YYYY-MM-dd')} ${INPUT1_STAGING_DIR} ${OUTPUT1_STAGING_DIR}", "maximumRetries": "2", "myTeam": "bench"}`, i, i, i, in, i)
		obj(`{"id": "Copy%d", "name": "Copy%d", "type": "CopyActivity", "runsOn": {"ref": "Box%d"}, "input": {"ref": "Node%d"}, "output": {"ref": "Arch%d"}, "dependsOn": {"ref": "Step%d"}}`, i, i, i, i, i, i)
		count += 5
	}
	b.WriteString(`    {"id": "Last", "name": "Last", "type": "Terminate"}` + "\n  ]\n}\n")
	return []byte(b.String())
}

// TestWriteBenchFile writes the generated definition for comparing with
// `jq empty`: DPL_BENCH_FILE=/tmp/bench5000.json go test -run WriteBench.
// DPL_BENCH_OBJECTS sets the size (120000 gives the 24 MB definition of the
// memory row of the README's performance table) and DPL_BENCH_ERRORS=1
// breaks three fields of every chain (72,000 errors per 120,000 objects).
func TestWriteBenchFile(t *testing.T) {
	path := os.Getenv("DPL_BENCH_FILE")
	if path == "" {
		t.Skip("set DPL_BENCH_FILE to write the generated 5,000-object definition")
	}
	n := 5000
	if s := os.Getenv("DPL_BENCH_OBJECTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 10 {
			t.Fatalf("DPL_BENCH_OBJECTS=%q: want a number of objects >= 10", s)
		}
	}
	data := generated(n)
	if os.Getenv("DPL_BENCH_ERRORS") == "1" {
		data = withErrors(data)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// withErrors breaks every chain (five objects) three times: a non-integer
// maximumRetries, a misspelt instanceType and a dependsOn naming no
// object. 120,000 objects (24 MB) give 72,000 errors.
func withErrors(data []byte) []byte {
	s := strings.ReplaceAll(string(data), `"maximumRetries": "2"`, `"maximumRetries": "x"`)
	s = strings.ReplaceAll(s, `"dependsOn": {"ref": "Step`, `"dependsOn": {"ref": "Stpe`)
	return []byte(strings.ReplaceAll(s, `"instanceType": "t3.small"`, `"instanceTyp": "t3.small"`))
}

func TestGeneratedIsValid(t *testing.T) {
	r, err := Bytes("gen.json", generated(5000), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Definition.Objects) < 4990 {
		t.Fatalf("generated %d objects", len(r.Definition.Objects))
	}
	for _, d := range r.Diagnostics {
		if d.Code != codeLimit { // 5,000 objects is over the default limit of 100
			t.Fatalf("generated definition has %s", d.Error())
		}
	}
}

// BenchmarkValidate5000 is the whole path for 5,000 objects: parse,
// inherit, schema and semantic checks.
func BenchmarkValidate5000(b *testing.B) {
	data := generated(5000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Bytes("gen.json", data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCorpus validates every corpus file once per iteration.
func BenchmarkCorpus(b *testing.B) {
	files := corpusFiles(b)
	var datas [][]byte
	var total int64
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		datas = append(datas, data)
		total += int64(len(data))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for i, data := range datas {
			if _, err := Bytes(files[i], data, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPhases5000 splits the 5,000-object run into its phases, to
// show where time goes: reading, inheritance + graph, and all checks.
func BenchmarkPhases5000(b *testing.B) {
	data := generated(5000)
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := definition.Parse("gen.json", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse+resolve+graph", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			d, err := definition.Parse("gen.json", data)
			if err != nil {
				b.Fatal(err)
			}
			d.Resolve()
			definition.NewGraph(d).Cycle()
		}
	})
}

// BenchmarkValidateLarge validates 100,000 objects (20 MB), valid and with
// 60,000 errors, and reports the heap the result keeps (live-MB) next
// to the input size; peak RSS of the command is measured with
// /usr/bin/time -v (see the README's performance table).
func BenchmarkValidateLarge(b *testing.B) {
	valid := generated(100000)
	for _, c := range []struct {
		name string
		data []byte
	}{{"valid", valid}, {"errors", withErrors(valid)}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			var r *Result
			for b.Loop() {
				var err error
				if r, err = Bytes("large.json", c.data, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "live-MB")
			b.ReportMetric(float64(len(c.data))/(1<<20), "input-MB")
			runtime.KeepAlive(r)
		})
	}
}
