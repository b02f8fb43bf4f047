package executor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/task"
)

// TestCorpusRuns drives every real definition of the shared corpus through
// the engine with an instant fake runner: nothing may panic, every task
// handed out must be evaluated (no #{ left in a string field) or fail with
// an expression error, and each run must end or keep waiting for a reason
// within a bounded number of clock moves. Skips when the corpus is absent.
func TestCorpusRuns(t *testing.T) {
	root := "../../shared/corpus/files"
	if _, err := os.Stat(root); err != nil {
		root = "/work/shared/corpus/files"
		if _, err := os.Stat(root); err != nil {
			t.Skip("corpus not present (/work/shared/corpus/files): skipping the real-definition runs")
		}
	}
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	ran := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := definition.Parse(f, src)
			if err != nil {
				t.Skipf("not a definition: %v", err)
			}
			d.Resolve()
			// Bound the run to three days after the earliest literal start.
			var start time.Time
			for _, o := range d.Objects {
				if s := d.Effective(o).Str("startDateTime"); s != "" && !strings.Contains(s, "#{") {
					if ts, err := schedule.ParseTime(s); err == nil && (start.IsZero() || ts.Before(start)) {
						start = ts
					}
				}
			}
			until := t0.Add(72 * time.Hour) // FIRST_ACTIVATION_DATE_TIME, parameters, on-demand
			if !start.IsZero() {
				until = start.Add(72 * time.Hour)
			}
			fc := clock.NewFake(t0)
			e, err := New(Options{Definition: d, Source: src, PipelineID: "df-CORPUS", Clock: fc, Until: until, RetryDelay: time.Minute})
			if err != nil {
				t.Logf("not runnable: %v", err)
				return
			}
			eng := e.engine
			tasks := 0
			for moves := 0; moves < 500 && tasks < 3000; {
				eng.mu.Lock()
				eng.step()
				done, _ := eng.finishedCheck()
				if done {
					eng.finish("")
					eng.mu.Unlock()
					break
				}
				tk := eng.handout(PollInput{WorkerGroup: LocalWorkerGroup})
				next, ok := eng.nextWake()
				eng.mu.Unlock()
				if tk != nil {
					tasks++
					for _, o := range tk.Objects {
						for _, fl := range o.Fields {
							if fl.StringValue != nil && strings.Contains(*fl.StringValue, "#{") && !strings.HasPrefix(fl.Key, "*") {
								t.Errorf("%s: field %s of %s not evaluated: %q", tk.AttemptID, fl.Key, o.ID, *fl.StringValue)
							}
						}
					}
					if err := e.SetTaskStatus(context.Background(), tk.TaskID, task.Result{Status: task.Finished}); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if !ok {
					break
				}
				fc.Set(next)
				moves++
			}
			if tasks > 0 {
				ran++
			} else {
				for _, i := range e.Instances() {
					if i.Status == string(Failed) {
						// Tasks that cannot be built fail with a message naming
						// the object and field (usually a parameter without value).
						if !strings.Contains(i.ErrorMessage, "field") {
							t.Errorf("%s failed without naming the field: %q", i.ID, i.ErrorMessage)
						}
						t.Logf("%s: %s", i.ID, i.ErrorMessage)
						break
					}
				}
			}
		})
	}
	t.Logf("%d of %d corpus definitions handed out tasks", ran, len(files))
}
