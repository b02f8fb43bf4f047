package activity

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/task"
)

func TestEmrActivitySteps(t *testing.T) {
	r, store := newRunner(t)
	put(t, store, "s3://scripts/hello.sh", `echo "script got $# args: $1 $2"`)
	a := obj("@Emr_Attempt=1", "type", "EmrActivity",
		"preStepCommand", "echo pre",
		"step", "command-runner.jar,echo,from command-runner",
		"step", `s3://elasticmapreduce/libs/script-runner/script-runner.jar,s3://scripts/hello.sh,x\\,y,z`,
		"postStepCommand", "echo post")
	res, out, errs := run(t, r, newTask(a))
	if res.Status != task.Finished {
		t.Fatalf("%s %s %s", res.Status, res.ErrorMessage, errs)
	}
	want := "pre\nfrom command-runner\nscript got 2 args: x,y z\npost\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}

	a = obj("@Emr_Attempt=2", "type", "EmrActivity", "step", "s3://mybucket/wordcount.jar,in,out")
	res, _, _ = run(t, r, newTask(a))
	if res.Status != task.Failed || !strings.Contains(res.ErrorMessage, "wordcount.jar") || !strings.Contains(res.ErrorMessage, "needs hadoop on this machine") || !strings.Contains(res.ErrorMessage, "--emr host") {
		t.Errorf("unknown jar: %s %q", res.Status, res.ErrorMessage)
	}
}

func TestCopyActivity(t *testing.T) {
	csv := obj("CsvFmt", "type", "CSV")
	tsv := obj("TsvFmt", "type", "TSV")
	custom := obj("PipeFmt", "type", "Custom", "columnSeparator", "|")
	cases := []struct {
		name      string
		inFmt     *task.Object
		outFmt    *task.Object
		input     string
		want      string
		gzipOut   bool
		outIsFile bool
	}{
		{"same format copies bytes", csv, csv, "a,b\nc\\,d,e\n", "a,b\nc\\,d,e\n", false, false},
		{"csv to tsv", csv, tsv, "a,b\nc\\,d,e\n", "a\tb\nc,d\te\n", false, false},
		{"tsv to custom escapes separators", tsv, custom, "x|y\tz\n", "x\\|y|z\n", false, true},
		{"gzip output", csv, csv, "1,2\n", "1,2\n", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, store := newRunner(t)
			put(t, store, "s3://b/in/part-0.csv", c.input)
			in := obj("@In_1", "type", "S3DataNode", "directoryPath", "s3://b/in", "dataFormat", "ref:"+c.inFmt.ID)
			outFields := []string{"type", "S3DataNode", "dataFormat", "ref:" + c.outFmt.ID}
			dst := "s3://b/out/part-0.csv"
			if c.outIsFile {
				dst = "s3://b/out/all.txt"
				outFields = append(outFields, "filePath", dst)
			} else {
				outFields = append(outFields, "directoryPath", "s3://b/out/")
			}
			if c.gzipOut {
				outFields = append(outFields, "compression", "gzip")
			}
			out := obj("@Out_1", outFields...)
			a := obj("@Copy_Attempt=1", "type", "CopyActivity", "input", "ref:@In_1", "output", "ref:@Out_1")
			res, _, errs := run(t, r, newTask(a, in, out, c.inFmt, c.outFmt))
			if res.Status != task.Finished {
				t.Fatalf("%s %s %s", res.Status, res.ErrorMessage, errs)
			}
			rc, err := store.Open(context.Background(), dst)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			var body io.Reader = rc
			if c.gzipOut {
				zr, err := gzip.NewReader(rc)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			}
			got, _ := io.ReadAll(body)
			if string(got) != c.want {
				t.Errorf("output = %q, want %q", got, c.want)
			}
		})
	}
}

func TestCopyActivitySQLNeedsDatabase(t *testing.T) {
	r, store := newRunner(t)
	put(t, store, "s3://b/in.csv", "1\n")
	in := obj("@In_1", "type", "S3DataNode", "filePath", "s3://b/in.csv")
	out := obj("@Out_1", "type", "SqlDataNode", "table", "t")
	a := obj("@Copy_Attempt=1", "type", "CopyActivity", "input", "ref:@In_1", "output", "ref:@Out_1")
	res, _, _ := run(t, r, newTask(a, in, out))
	if res.Status != task.Failed || !strings.Contains(res.ErrorMessage, "@Out_1 has no database") {
		t.Errorf("got %s %q", res.Status, res.ErrorMessage)
	}
}

func BenchmarkConvertRecords(b *testing.B) {
	in := &Format{ColumnSeparator: ',', RecordSeparator: '\n', Escape: '\\'}
	out := &Format{ColumnSeparator: '\t', RecordSeparator: '\n'}
	data := bytes.Repeat([]byte("12345,some text here,2024-01-01 00:00:00,3.14\n"), 20000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := convertRecords(io.Discard, bytes.NewReader(data), in, out); err != nil {
			b.Fatal(err)
		}
	}
}
