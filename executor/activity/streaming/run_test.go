package streaming

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// wordMapper is our own mapper: one "LongValueSum:word<TAB>1" per word.
const wordMapper = `#!/bin/sh
tr -cs 'A-Za-z' '\n' | tr 'A-Z' 'a-z' | awk 'NF { print "LongValueSum:" $0 "\t1" }'
`

func writeFile(t *testing.T, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

func readParts(t *testing.T, dir string) (map[string]string, []string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
		if !strings.HasPrefix(de.Name(), "part-") {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, de.Name()))
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if l == "" {
				continue
			}
			k, v, _ := strings.Cut(l, "\t")
			got[k] = v
		}
	}
	sort.Strings(names)
	return got, names
}

func TestWordCountAggregateOnLocalFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in/a.txt"), "The cat sat.\nthe dog\n")
	writeFile(t, filepath.Join(dir, "in/b.txt"), "Cat and dog and THE end")
	writeFile(t, filepath.Join(dir, "in/_SUCCESS"), "")
	writeFile(t, filepath.Join(dir, "wordSplitter.sh"), wordMapper)
	job, err := Parse([]string{"-files", filepath.Join(dir, "wordSplitter.sh"), "-mapper", "wordSplitter.sh", "-reducer", "aggregate",
		"-input", filepath.Join(dir, "in"), "-output", filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	// Tiny splits so several mappers run.
	job.SplitSize = 8
	st, err := job.Run(context.Background(), Env{Dir: filepath.Join(dir, "work"), Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, names := readParts(t, filepath.Join(dir, "out"))
	want := map[string]string{"the": "3", "cat": "2", "sat": "1", "dog": "2", "and": "2", "end": "1"}
	if len(got) != len(want) {
		t.Errorf("counts = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("count of %q = %q, want %q", k, got[k], v)
		}
	}
	if strings.Join(names, " ") != "_SUCCESS part-00000" {
		t.Errorf("output files = %v", names)
	}
	if st.Splits < 3 {
		t.Errorf("splits = %d, want several", st.Splits)
	}
	// Hadoop refuses an existing output folder.
	if _, err := job.Run(context.Background(), Env{Dir: filepath.Join(dir, "work")}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second run: %v, want output directory already exists", err)
	}
}

func TestCommandReducerPartitionsAndS3(t *testing.T) {
	dir := t.TempDir()
	st, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	put := func(uri, body string) {
		w, _ := st.Create(ctx, uri)
		w.Write([]byte(body))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	put("s3://b/in/1", "x 1\ny 2\nx 3\n")
	put("s3://b/in/2", "z 5\ny 1\n")
	job, err := Parse([]string{"-D", "mapreduce.job.reduces=2", "-input", "s3://b/in/", "-output", "s3://b/out",
		"-mapper", "awk '{print $1 \"\\t\" $2}'", "-reducer", "awk -F'\\t' '$1 != k { if (k != \"\") print k \"\\t\" s; k = $1; s = 0 } { s += $2 } END { if (k != \"\") print k \"\\t\" s }'",
		"-combiner", "cat"})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := job.Run(ctx, Env{Store: st, Dir: filepath.Join(dir, "work")})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Reduces != 2 || stats.ReduceOutputRecords != 3 {
		t.Errorf("stats = %+v", stats)
	}
	got := map[string]string{}
	var files []string
	st.List(ctx, "s3://b/out/", func(i objstore.Info) error {
		files = append(files, strings.TrimPrefix(i.URI, "s3://b/out/"))
		r, _ := st.Open(ctx, i.URI)
		defer r.Close()
		var sb strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		for _, l := range strings.Fields(strings.ReplaceAll(sb.String(), "\t", "=")) {
			k, v, _ := strings.Cut(l, "=")
			got[k] = v
		}
		return nil
	})
	if got["x"] != "4" || got["y"] != "3" || got["z"] != "5" {
		t.Errorf("sums = %v", got)
	}
	if strings.Join(files, " ") != "_SUCCESS part-00000 part-00001" {
		t.Errorf("files = %v", files)
	}
}

func TestAggregateFunctions(t *testing.T) {
	tab := newAggTable()
	for _, l := range []string{"DoubleValueSum:d\t1.5", "DoubleValueSum:d\t2", "LongValueMax:m\t3", "LongValueMax:m\t-9", "LongValueMin:n\t3", "LongValueMin:n\t-9",
		"UniqValueCount:u\ta", "UniqValueCount:u\tb", "UniqValueCount:u\ta", "ValueHistogram:h\ta", "ValueHistogram:h\tb\t3", "ValueHistogram:h\ta"} {
		if err := tab.add([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	var sb strings.Builder
	tab.report(&sb)
	want := "d\t3.5\nm\t3\nn\t-9\nu\t2\nh\t2\t2\t3\t3\t2.5\t0.5\n" // ordered by Function:key
	if sb.String() != want {
		t.Errorf("report = %q, want %q", sb.String(), want)
	}
	if err := tab.add([]byte("word\t1")); err == nil || !strings.Contains(err.Error(), "no Function: prefix") {
		t.Errorf("bad key: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-mapper", "cat", "-output", "o"},
		{"-input", "i", "-mapper", "cat"},
		{"-input", "i", "-output", "o", "-mapper", "cat", "-numReduceTasks", "x"},
		{"-input", "i", "-output", "o", "-mapper", "cat", "-partitioner", "org.Foo"},
		{"-input", "i", "-output", "o", "-mapper", "cat", "-bogus"},
	} {
		if _, err := Parse(args); err == nil {
			t.Errorf("Parse(%q) succeeded", args)
		}
	}
}

// The streaming job and the shell pipeline (mapper | sort | reducer) agree
// on a few hundred kilobytes of text.
func TestAggregateMatchesShellPipeline(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mapper.sh"), benchMapper)
	writeFile(t, filepath.Join(dir, "reducer.sh"), benchReducer)
	var sb strings.Builder
	for i := 0; i < 20000; i++ {
		sb.WriteString([]string{"alpha beta", "gamma alpha", "delta", "beta beta epsilon"}[i%4] + " w" + strconv.Itoa(i%97) + "\n")
	}
	writeFile(t, filepath.Join(dir, "in", "text"), sb.String())
	job, err := Parse([]string{"-files", filepath.Join(dir, "mapper.sh"), "-mapper", "mapper.sh", "-reducer", "aggregate",
		"-input", filepath.Join(dir, "in"), "-output", filepath.Join(dir, "out"), "-D", "mapred.max.split.size=50000"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Run(context.Background(), Env{Dir: filepath.Join(dir, "work"), Parallel: 2}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "./mapper.sh < in/text | LC_ALL=C sort | ./reducer.sh")
	cmd.Dir = dir
	want, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "out", "part-00000"))
	if string(got) != string(want) {
		t.Errorf("streaming job:\n%s\nshell pipeline:\n%s", got, want)
	}
}

// TestProgressReportsMapAndReduceTasks: map tasks are counted as they end
// (total unknown until the inputs are split, then given), reduce tasks
// of the partitions, with the records each phase wrote.
func TestProgressReportsMapAndReduceTasks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in/a.txt"), "a b\nc a\nb a\n")
	job, err := Parse([]string{"-mapper", "cat", "-reducer", "cat", "-numReduceTasks", "2",
		"-input", filepath.Join(dir, "in"), "-output", filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	job.SplitSize = 4
	var got []Progress
	st, err := job.Run(context.Background(), Env{Dir: filepath.Join(dir, "work"), Parallel: 2, Progress: func(p Progress) { got = append(got, p) }})
	if err != nil {
		t.Fatal(err)
	}
	var maps, reduces []Progress
	for _, p := range got {
		if p.Phase == "map" {
			maps = append(maps, p)
		} else {
			reduces = append(reduces, p)
		}
	}
	if len(maps) != st.Splits+1 || len(reduces) != 2 {
		t.Fatalf("%d map and %d reduce reports for %d splits, 2 partitions: %+v", len(maps), len(reduces), st.Splits, got)
	}
	for i, p := range maps[:st.Splits] {
		if p.Done != i+1 || p.Total != 0 {
			t.Errorf("map report %d = %+v, want done %d of an unknown total", i, p, i+1)
		}
	}
	if last := maps[st.Splits]; last != (Progress{Phase: "map", Done: st.Splits, Total: st.Splits, Records: st.MapOutputRecords}) {
		t.Errorf("last map report = %+v (stats %+v)", last, st)
	}
	if last := reduces[1]; last != (Progress{Phase: "reduce", Done: 2, Total: 2, Records: st.ReduceOutputRecords}) || reduces[0].Done != 1 {
		t.Errorf("reduce reports = %+v (stats %+v)", reduces, st)
	}
}
