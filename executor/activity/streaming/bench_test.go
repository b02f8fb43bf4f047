package streaming

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The benchmark: word count over 100 MB with a mapper script,
// against the same mapper | sort | reducer pipeline in the shell.

const benchMapper = `#!/bin/sh
exec awk '{ for (i = 1; i <= NF; i++) print "LongValueSum:" $i "\t1" }'
`

// benchReducer sums sorted LongValueSum lines, as the aggregate reducer does.
const benchReducer = `#!/bin/sh
exec awk -F'\t' '{ k = substr($1, 14) } k != p { if (NR > 1) print p "\t" s; p = k; s = 0 } { s += $2 } END { if (NR > 0) print p "\t" s }'
`

var (
	wcOnce sync.Once
	wcDir  string
	wcErr  error
)

func wordCountData(b *testing.B) string {
	wcOnce.Do(func() {
		if wcDir, wcErr = os.MkdirTemp("", "dpl-streaming-bench-"); wcErr != nil {
			return
		}
		for name, body := range map[string]string{"mapper.sh": benchMapper, "reducer.sh": benchReducer} {
			if wcErr = os.WriteFile(filepath.Join(wcDir, name), []byte(body), 0o755); wcErr != nil {
				return
			}
		}
		words := make([]string, 5000)
		r := rand.New(rand.NewPCG(3, 4))
		for i := range words {
			n := 3 + r.IntN(8)
			var sb strings.Builder
			for j := 0; j < n; j++ {
				sb.WriteByte(byte('a' + r.IntN(26)))
			}
			words[i] = sb.String()
		}
		os.MkdirAll(filepath.Join(wcDir, "in"), 0o755)
		f, err := os.Create(filepath.Join(wcDir, "in", "text"))
		if err != nil {
			wcErr = err
			return
		}
		w := bufio.NewWriterSize(f, 1<<20)
		written := 0
		for written < 100<<20 {
			for k := 0; k < 12; k++ {
				wd := words[r.IntN(len(words))]
				w.WriteString(wd)
				w.WriteByte(' ')
				written += len(wd) + 1
			}
			w.WriteByte('\n')
			written++
		}
		w.Flush()
		wcErr = f.Close()
	})
	if wcErr != nil {
		b.Fatal(wcErr)
	}
	return wcDir
}

// BenchmarkWordCount100MB runs the streaming job: mapper processes over
// the splits, the native aggregate reducer.
func BenchmarkWordCount100MB(b *testing.B) {
	dir := wordCountData(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), "out")
		job, err := Parse([]string{"-files", filepath.Join(dir, "mapper.sh"), "-mapper", "mapper.sh", "-reducer", "aggregate",
			"-input", filepath.Join(dir, "in"), "-output", out})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := job.Run(context.Background(), Env{Dir: b.TempDir(), Parallel: 2}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWordCount100MBShell is the floor: mapper | sort | reducer.
func BenchmarkWordCount100MBShell(b *testing.B) {
	dir := wordCountData(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), "part-00000")
		cmd := exec.Command("sh", "-c", "./mapper.sh < in/text | LC_ALL=C sort | ./reducer.sh > "+out)
		cmd.Dir = dir
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, o)
		}
	}
}
