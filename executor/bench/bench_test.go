// Package bench holds end-to-end benchmarks of `dpl run`'s pieces together
// (engine, badger store, local worker, activity runner, real processes);
// compare.sh compares the dpl binary against xargs -P.
package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/local"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/runstore"
)

func fanJSON(n int) []byte {
	objs := []string{`{"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"local"}`}
	var deps []string
	for k := range n {
		objs = append(objs, fmt.Sprintf(`{"id":"T%d","name":"T%d","type":"ShellCommandActivity","command":"true"}`, k, k))
		deps = append(deps, fmt.Sprintf(`{"ref":"T%d"}`, k))
	}
	objs = append(objs, `{"id":"FanIn","name":"FanIn","type":"ShellCommandActivity","command":"true","dependsOn":[`+strings.Join(deps, ",")+`]}`)
	return []byte(`{"objects":[` + strings.Join(objs, ",") + `]}`)
}

// runFan runs the fan-in like `dpl run --parallel 2` does: a badger store
// in a fresh state folder, the local worker and the activity runner
// spawning real `sh -c true` processes.
func runFan(b *testing.B, src []byte, persist bool) {
	dir := b.TempDir()
	d, err := definition.Parse("fan.json", src)
	if err != nil {
		b.Fatal(err)
	}
	var db *runstore.DB
	if persist {
		if db, err = runstore.Open(dir); err != nil {
			b.Fatal(err)
		}
		defer db.Close()
	}
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: "df-BENCH", Store: db, StateDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	objects, err := objstore.NewLocal(filepath.Join(dir, "s3"))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &local.Worker{API: eng, PipelineID: "df-BENCH", Runner: activity.New(activity.Options{Root: dir, Store: objects}),
		Parallel: 2, Logs: local.LogFiles(dir)}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	sum, err := eng.Run(ctx)
	cancel()
	<-done
	if err != nil || !sum.OK {
		b.Fatalf("run: %v %+v", err, sum)
	}
}

// BenchmarkFanInProcesses: 500 `true` activities and a fan-in, end to end
// (compare with `seq 501 | xargs -P 2 -I{} sh -c true`), with the badger
// store (as dpl run) and without (the store's share).
func BenchmarkFanInProcesses(b *testing.B) {
	src := fanJSON(500)
	for _, persist := range []bool{true, false} {
		name := "store"
		if !persist {
			name = "memory"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				runFan(b, src, persist)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/501/1e3, "µs/task")
		})
	}
}

// BenchmarkXargsFloor is the floor: the same 501 processes through xargs.
func BenchmarkXargsFloor(b *testing.B) {
	for b.Loop() {
		if out, err := exec.Command("sh", "-c", "seq 501 | xargs -P 2 -I{} sh -c true").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/501/1e3, "µs/task")
}
