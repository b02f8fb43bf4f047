package executor

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

func chainJSON(n int) string {
	objs := []string{`{"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg"}`}
	for k := 0; k < n; k++ {
		o := fmt.Sprintf(`{"id":"S%d","type":"ShellCommandActivity","command":"true"`, k)
		if k > 0 {
			o += fmt.Sprintf(`,"dependsOn":{"ref":"S%d"}`, k-1)
		}
		objs = append(objs, o+"}")
	}
	return `{"objects":[` + strings.Join(objs, ",") + `]}`
}

func fanJSON(n int) string {
	objs := []string{`{"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg"}`}
	var deps []string
	for k := 0; k < n; k++ {
		objs = append(objs, fmt.Sprintf(`{"id":"T%d","type":"ShellCommandActivity","command":"true"}`, k))
		deps = append(deps, fmt.Sprintf(`{"ref":"T%d"}`, k))
	}
	objs = append(objs, `{"id":"FanIn","type":"ShellCommandActivity","command":"true","dependsOn":[`+strings.Join(deps, ",")+`]}`)
	return `{"objects":[` + strings.Join(objs, ",") + `]}`
}

// runAll drives an engine to the end with an instant runner, no
// processes: the engine alone, or with its store writes (badger in memory;
// SetTaskStatus waits for each write, as for a remote runner).
func runAll(b *testing.B, d *definition.Definition, src string, withStore bool) int {
	opts := Options{Definition: d, Source: []byte(src), PipelineID: "df-B", Clock: clock.NewFake(t0)}
	if withStore {
		db, err := runstore.OpenMemory()
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		opts.Store = db
	}
	e, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	eng := e.engine
	n := 0
	for {
		eng.mu.Lock()
		eng.step()
		done, _ := eng.finishedCheck()
		if done {
			eng.finish("")
			eng.mu.Unlock()
			return n
		}
		tk := eng.handout(PollInput{WorkerGroup: LocalWorkerGroup})
		eng.mu.Unlock()
		if tk == nil {
			b.Fatal("stuck")
		}
		if err := e.SetTaskStatus(context.Background(), tk.TaskID, task.Result{Status: task.Finished}); err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// BenchmarkChain reports the engine's cost per step of a dependsOn chain;
// it must stay flat as the chain grows.
func BenchmarkChain(b *testing.B) { benchChain(b, false, 100, 1000, 3000) }

// BenchmarkChainStored is BenchmarkChain with the store writes (an
// in-memory badger, whose fixed cost of opening is part of every op).
func BenchmarkChainStored(b *testing.B) { benchChain(b, true, 1000, 3000) }

func benchChain(b *testing.B, withStore bool, sizes ...int) {
	for _, n := range sizes {
		src := chainJSON(n)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := definition.Parse("chain.json", []byte(src))
				if err != nil {
					b.Fatal(err)
				}
				if got := runAll(b, d, src, withStore); got != n {
					b.Fatalf("%d tasks", got)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/step")
		})
	}
}

// BenchmarkFanIn: N independent activities and one that depends on all;
// ns/task must stay flat as N grows (the fan-in's dependency check is
// incremental).
func BenchmarkFanIn(b *testing.B) {
	for _, n := range []int{500, 4000} {
		src := fanJSON(n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				d, err := definition.Parse("fan.json", []byte(src))
				if err != nil {
					b.Fatal(err)
				}
				if got := runAll(b, d, src, false); got != n+1 {
					b.Fatalf("%d tasks", got)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n+1), "ns/task")
		})
	}
}
