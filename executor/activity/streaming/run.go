package streaming

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// Env is where a job runs.
type Env struct {
	Store    objstore.Store // s3:// inputs, outputs and -files
	Dir      string         // private working folder
	Shell    string         // runs mapper/reducer commands (default sh)
	Environ  []string       // child environment
	Parallel int            // processes at once (default 2)
	Stderr   io.Writer      // task stderr and progress lines
	// Start, when set, starts commands (the activity runner's process
	// group handling); nil uses exec.CommandContext.
	Start func(ctx context.Context, cmd *exec.Cmd) (wait func() error, err error)
	// Progress, when set, is called as map and reduce tasks end (from
	// several goroutines, one call at a time).
	Progress func(Progress)
}

// Progress is how far a job got: Done tasks of the phase ("map" or
// "reduce") out of Total (0 while the inputs are still being split), and
// the records the phase output so far.
type Progress struct {
	Phase       string
	Done, Total int
	Records     int64
}

// Stats summarises a run.
type Stats struct {
	Splits, Reduces     int
	MapOutputRecords    int64
	ReduceOutputRecords int64
	InputBytes          int64
}

// spillSize is how much map output a task keeps in memory before it
// writes a sorted run to disk.
const spillSize = 32 << 20

// Run executes the job.
func (j *Job) Run(ctx context.Context, env Env) (Stats, error) {
	var st Stats
	if env.Parallel <= 0 {
		env.Parallel = 2
	}
	if env.Shell == "" {
		env.Shell = "sh"
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	var progressMu sync.Mutex
	progress := func(p Progress) {
		if env.Progress != nil {
			progressMu.Lock()
			defer progressMu.Unlock()
			env.Progress(p)
		}
	}
	taskDir := filepath.Join(env.Dir, "task")
	spillDir := filepath.Join(env.Dir, "spill")
	for _, d := range []string{taskDir, spillDir} {
		if err := os.RemoveAll(d); err != nil {
			return st, err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return st, err
		}
	}
	defer os.RemoveAll(spillDir)
	if err := j.checkOutput(ctx, env); err != nil {
		return st, err
	}
	for _, f := range j.Files {
		if err := fetchFile(ctx, env.Store, f, taskDir); err != nil {
			return st, fmt.Errorf("-files %s: %w", f, err)
		}
	}
	inputs, err := j.listInputs(ctx, env)
	if err != nil {
		return st, err
	}
	environ := append(append([]string(nil), env.Environ...), j.CmdEnv...)
	aggregate := j.Reducer == "aggregate"
	nparts := max(j.Reduces, 1)
	mapOnly := j.Reducer == ""
	runs := make([][]string, nparts) // sorted spill files per partition
	aggs := make([]*aggTable, nparts)
	for i := range aggs {
		aggs[i] = newAggTable()
	}
	var mu sync.Mutex
	var mapRecords atomic.Int64
	var mapsDone atomic.Int64
	staged := map[int]string{} // map-only outputs by split

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, env.Parallel)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel(err) })
	}
	split := 0
	for _, in := range inputs {
		err := readSplits(ctx, env.Store, in, j.SplitSize, func(data []byte) error {
			id := split
			split++
			st.InputBytes += int64(len(data))
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				out := &mapOutput{job: j, parts: nparts, spillDir: spillDir, task: id, aggregate: aggregate, mapOnly: mapOnly}
				if aggregate {
					out.agg = newAggTable()
				}
				if mapOnly {
					f, err := os.Create(filepath.Join(spillDir, fmt.Sprintf("map-%05d", id)))
					if err != nil {
						fail(err)
						return
					}
					out.direct = bufio.NewWriterSize(f, 1<<16)
					defer f.Close()
					mu.Lock()
					staged[id] = f.Name()
					mu.Unlock()
				}
				if err := runCommand(ctx, env, j.Mapper, taskDir, environ, bytes.NewReader(data), out); err != nil {
					fail(fmt.Errorf("mapper %q on split %d of %s: %w", j.Mapper, id, in, err))
					return
				}
				if err := out.finish(); err != nil {
					fail(err)
					return
				}
				mu.Lock()
				progress(Progress{Phase: "map", Done: int(mapsDone.Add(1)), Records: mapRecords.Add(out.records)})
				defer mu.Unlock()
				for p := 0; p < nparts; p++ {
					runs[p] = append(runs[p], out.runs[p]...)
				}
				if aggregate {
					for p := 0; p < nparts; p++ {
						aggs[p].merge(out.agg.part(p, nparts))
					}
				}
			}()
			return nil
		})
		if err != nil {
			fail(fmt.Errorf("read input %s: %w", in, err))
			break
		}
	}
	wg.Wait()
	if firstErr != nil {
		return st, firstErr
	}
	st.Splits = split
	st.MapOutputRecords = mapRecords.Load()
	progress(Progress{Phase: "map", Done: split, Total: split, Records: st.MapOutputRecords})
	fmt.Fprintf(env.Stderr, "dpl streaming: map done: %d split(s), %d input bytes, %d map output records\n", split, st.InputBytes, st.MapOutputRecords)

	outFiles := map[int]string{}
	if mapOnly {
		outFiles = staged
	} else {
		st.Reduces = nparts
		var rwg sync.WaitGroup
		var outMu sync.Mutex
		for p := 0; p < nparts; p++ {
			sem <- struct{}{}
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				defer func() { <-sem }()
				name := filepath.Join(spillDir, fmt.Sprintf("reduce-%05d", p))
				n, err := j.reduce(ctx, env, taskDir, environ, runs[p], aggs[p], name)
				if err != nil {
					fail(fmt.Errorf("reducer %q on partition %d: %w", j.Reducer, p, err))
					return
				}
				outMu.Lock()
				outFiles[p] = name
				st.ReduceOutputRecords += n
				progress(Progress{Phase: "reduce", Done: len(outFiles), Total: nparts, Records: st.ReduceOutputRecords})
				outMu.Unlock()
			}()
		}
		rwg.Wait()
		if firstErr != nil {
			return st, firstErr
		}
	}
	// Publish part files, then _SUCCESS, as Hadoop's output committer does.
	ids := make([]int, 0, len(outFiles))
	for id := range outFiles {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for i, id := range ids {
		if err := publish(ctx, env.Store, outFiles[id], joinOut(j.Output, fmt.Sprintf("part-%05d", i))); err != nil {
			return st, err
		}
	}
	if err := publishBytes(ctx, env.Store, nil, joinOut(j.Output, "_SUCCESS")); err != nil {
		return st, err
	}
	fmt.Fprintf(env.Stderr, "dpl streaming: job done: %d output file(s), %d reduce output records in %s\n", len(ids), st.ReduceOutputRecords, j.Output)
	return st, nil
}

// checkOutput refuses an output folder that already holds files, as
// Hadoop does ("Output directory ... already exists").
func (j *Job) checkOutput(ctx context.Context, env Env) error {
	if objstore.IsURI(j.Output) {
		busy, err := objstore.PrefixNotEmpty(ctx, env.Store, strings.TrimRight(j.Output, "/")+"/")
		if err != nil {
			return err
		}
		if busy {
			return fmt.Errorf("output directory %s already exists", j.Output)
		}
		return nil
	}
	if des, err := os.ReadDir(j.Output); err == nil && len(des) > 0 {
		return fmt.Errorf("output directory %s already exists", j.Output)
	}
	return nil
}

func joinOut(dir, name string) string {
	if objstore.IsURI(dir) {
		return strings.TrimRight(dir, "/") + "/" + name
	}
	return filepath.Join(dir, name)
}

// listInputs expands -input paths: a folder's visible files, a file, or a
// glob in the last segment.
func (j *Job) listInputs(ctx context.Context, env Env) ([]string, error) {
	var out []string
	for _, in := range j.Inputs {
		var found []string
		if objstore.IsURI(in) {
			dir, pattern := strings.TrimRight(in, "/"), ""
			if strings.ContainsAny(path.Base(dir), "*?[") {
				dir, pattern = path.Dir(dir), path.Base(dir)
			}
			prefix := dir + "/"
			err := env.Store.List(ctx, prefix, func(info objstore.Info) error {
				rel := strings.TrimPrefix(info.URI, prefix)
				if strings.Contains(rel, "/") || !visible(rel) {
					return nil
				}
				if pattern != "" {
					if ok, _ := path.Match(pattern, rel); !ok {
						return nil
					}
				}
				found = append(found, info.URI)
				return nil
			})
			if err != nil {
				return nil, err
			}
			if len(found) == 0 && pattern == "" {
				if ok, err := objstore.Exists(ctx, env.Store, in); err == nil && ok {
					found = []string{in}
				}
			}
		} else {
			matches, _ := filepath.Glob(in)
			for _, m := range matches {
				fi, err := os.Stat(m)
				if err != nil {
					continue
				}
				if !fi.IsDir() {
					found = append(found, m)
					continue
				}
				des, _ := os.ReadDir(m)
				for _, de := range des {
					if !de.IsDir() && visible(de.Name()) {
						found = append(found, filepath.Join(m, de.Name()))
					}
				}
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("input path does not exist or is empty: %s", in)
		}
		out = append(out, found...)
	}
	return out, nil
}

func visible(name string) bool { return name != "" && name[0] != '_' && name[0] != '.' }

func open(ctx context.Context, store objstore.Store, p string) (io.ReadCloser, error) {
	var r io.ReadCloser
	var err error
	if objstore.IsURI(p) {
		r, err = store.Open(ctx, p)
	} else {
		r, err = os.Open(p)
	}
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(p, ".gz") {
		return objstore.NewGzipReader(r)
	}
	return r, nil
}

// readSplits reads a file in line-aligned pieces of about size bytes.
func readSplits(ctx context.Context, store objstore.Store, p string, size int64, fn func([]byte) error) error {
	r, err := open(ctx, store, p)
	if err != nil {
		return err
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		buf := make([]byte, size)
		n, err := io.ReadFull(br, buf)
		buf = buf[:n]
		if err == nil {
			// Finish the last line.
			rest, rerr := br.ReadBytes('\n')
			buf = append(buf, rest...)
			if rerr != nil && rerr != io.EOF {
				return rerr
			}
		} else if err != io.EOF && err != io.ErrUnexpectedEOF {
			return err
		}
		if len(buf) > 0 {
			if ferr := fn(buf); ferr != nil {
				return ferr
			}
		}
		if err != nil || len(buf) == 0 {
			return nil
		}
		if _, perr := br.Peek(1); perr == io.EOF {
			return nil
		}
	}
}

func fetchFile(ctx context.Context, store objstore.Store, uri, dir string) error {
	name := path.Base(strings.TrimRight(uri, "/"))
	if i := strings.IndexByte(uri, '#'); i >= 0 { // file#linkname
		name, uri = uri[i+1:], uri[:i]
	}
	r, err := open(ctx, store, uri)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runCommand runs a mapper/reducer command with stdin, sending its output
// lines to out. Identity classes run natively.
func runCommand(ctx context.Context, env Env, command, dir string, environ []string, stdin io.Reader, out io.Writer) error {
	switch command {
	case identityMapper, identityReducer:
		_, err := io.Copy(out, stdin)
		return err
	}
	if strings.HasPrefix(command, "org.apache.hadoop.") {
		return fmt.Errorf("the Java class %s cannot run locally (streaming commands, aggregate and the identity classes can)", command)
	}
	argv := []string{env.Shell, "-c", command}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	// A copy: mappers run concurrently over one environ, and an append
	// into its spare capacity would be shared by them all.
	cmd.Env = append(slices.Clip(environ), "PATH="+dir+string(os.PathListSeparator)+lookup(environ, "PATH"))
	cmd.Stdin = stdin
	cmd.Stdout = out
	var tail tailWriter
	cmd.Stderr = io.MultiWriter(env.Stderr, &tail)
	var err error
	if env.Start != nil {
		var wait func() error
		wait, err = env.Start(ctx, cmd)
		if err == nil {
			err = wait()
		}
	} else {
		err = cmd.Run()
	}
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if t := strings.TrimSpace(tail.String()); t != "" {
			return fmt.Errorf("%w: %s", err, t)
		}
		return err
	}
	return nil
}

func lookup(env []string, key string) string {
	v := os.Getenv(key)
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// tailWriter keeps the last 512 bytes written, for error messages.
type tailWriter struct{ b []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 512 {
		t.b = t.b[len(t.b)-512:]
	}
	return len(p), nil
}
func (t *tailWriter) String() string { return string(t.b) }

// mapOutput receives a mapper's stdout: lines are partitioned by key and
// kept in sorted runs (or aggregated, for the aggregate reducer).
type mapOutput struct {
	job       *Job
	parts     int
	spillDir  string
	task      int
	aggregate bool
	mapOnly   bool
	direct    *bufio.Writer
	agg       *aggTable
	partial   []byte
	bufs      [][][]byte
	sizes     []int
	runs      [][]string
	records   int64
	err       error
}

func (m *mapOutput) Write(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if m.direct != nil {
		m.records += int64(bytes.Count(p, []byte{'\n'}))
		return m.direct.Write(p)
	}
	data := p
	if len(m.partial) > 0 {
		data = append(m.partial, p...)
		m.partial = nil
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			m.partial = append([]byte(nil), data...)
			break
		}
		if err := m.line(data[:i]); err != nil {
			m.err = err
			return 0, err
		}
		data = data[i+1:]
	}
	return len(p), nil
}

func (m *mapOutput) line(l []byte) error {
	m.records++
	if m.aggregate {
		return m.agg.add(l)
	}
	if m.bufs == nil {
		m.bufs = make([][][]byte, m.parts)
		m.sizes = make([]int, m.parts)
		m.runs = make([][]string, m.parts)
	}
	p := partitionOf(l, m.parts)
	m.bufs[p] = append(m.bufs[p], append([]byte(nil), l...))
	m.sizes[p] += len(l) + 24
	if m.sizes[p] >= spillSize {
		return m.spill(p)
	}
	return nil
}

func partitionOf(line []byte, parts int) int {
	if parts == 1 {
		return 0
	}
	key := line
	if i := bytes.IndexByte(line, '\t'); i >= 0 {
		key = line[:i]
	}
	h := fnv.New32a()
	h.Write(key)
	return int(h.Sum32() % uint32(parts))
}

// spill sorts a partition's buffered lines and writes them as one run.
func (m *mapOutput) spill(p int) error {
	lines := m.bufs[p]
	if len(lines) == 0 {
		return nil
	}
	sort.Slice(lines, func(a, b int) bool { return bytes.Compare(lines[a], lines[b]) < 0 })
	name := filepath.Join(m.spillDir, fmt.Sprintf("run-%05d-%05d-%d", m.task, p, len(m.runs[p])))
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	for _, l := range lines {
		w.Write(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	m.runs[p] = append(m.runs[p], name)
	m.bufs[p], m.sizes[p] = nil, 0
	return nil
}

func (m *mapOutput) finish() error {
	if m.err != nil {
		return m.err
	}
	if len(m.partial) > 0 {
		l := m.partial
		m.partial = nil
		if m.direct != nil {
			m.direct.Write(l)
			m.direct.WriteByte('\n')
		} else if err := m.line(l); err != nil {
			return err
		}
	}
	if m.direct != nil {
		return m.direct.Flush()
	}
	if m.runs == nil {
		m.runs = make([][]string, m.parts)
	}
	for p := range m.bufs {
		if err := m.spill(p); err != nil {
			return err
		}
	}
	return nil
}

// reduce merges a partition's runs into the reducer and stages its output.
func (j *Job) reduce(ctx context.Context, env Env, dir string, environ []string, runs []string, agg *aggTable, outName string) (int64, error) {
	f, err := os.Create(outName)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<16)
	counter := &lineCounter{w: w}
	if j.Reducer == "aggregate" {
		if err := agg.report(counter); err != nil {
			return 0, err
		}
		return counter.n, w.Flush()
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(mergeRuns(runs, pw)) }()
	err = runCommand(ctx, env, j.Reducer, dir, environ, pr, counter)
	pr.CloseWithError(errors.New("reducer ended"))
	if err != nil {
		return 0, err
	}
	return counter.n, w.Flush()
}

type lineCounter struct {
	w *bufio.Writer
	n int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += int64(bytes.Count(p, []byte{'\n'}))
	return c.w.Write(p)
}

// mergeRuns writes the lines of sorted run files in order.
func mergeRuns(runs []string, w io.Writer) error {
	h := &runHeap{}
	for _, name := range runs {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(bufio.NewReaderSize(f, 1<<16))
		sc.Buffer(make([]byte, 0, 1<<16), 256<<20)
		if sc.Scan() {
			heap.Push(h, &run{sc: sc, line: sc.Bytes()})
		} else if err := sc.Err(); err != nil {
			return err
		}
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	for h.Len() > 0 {
		r := (*h)[0]
		bw.Write(r.line)
		bw.WriteByte('\n')
		if r.sc.Scan() {
			r.line = r.sc.Bytes()
			heap.Fix(h, 0)
		} else {
			if err := r.sc.Err(); err != nil {
				return err
			}
			heap.Pop(h)
		}
	}
	return bw.Flush()
}

type run struct {
	sc   *bufio.Scanner
	line []byte
}

type runHeap []*run

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return bytes.Compare(h[i].line, h[j].line) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*run)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func publish(ctx context.Context, store objstore.Store, local, dst string) error {
	if !objstore.IsURI(dst) {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return copyLocal(local, dst)
	}
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := store.Create(ctx, dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		objstore.Abort(w, err)
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return w.Close()
}

func copyLocal(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func publishBytes(ctx context.Context, store objstore.Store, b []byte, dst string) error {
	if !objstore.IsURI(dst) {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	}
	w, err := store.Create(ctx, dst)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		objstore.Abort(w, err)
		return err
	}
	return w.Close()
}
