package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/convert"
	"github.com/dpl-dev/dpl/executor/objstore"
)

// corpusRoot is the shared corpus of real definitions, or "" when absent.
func corpusRoot() string {
	for _, dir := range []string{"../../../shared/corpus/files", "/work/shared/corpus/files"} {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
	}
	return ""
}

// argRecorder is the shell that stands in for a corpus command or script:
// it writes the arguments it got, NUL-terminated, to a file of its own
// under dir (one file per invocation).
func argRecorder(dir, name string) string {
	return fmt.Sprintf(`printf '%%s\0' "$@" > %s/%s.$$`, dir, name)
}

var paramRef = regexp.MustCompile(`#\{(\*?my[A-Za-z0-9_]*)\}`)

// TestCorpusScriptArguments runs every ShellCommandActivity and
// ShellCommandPrecondition of ../shared/corpus that has scriptArgument
// values through dpl run, with placeholder values (containing a space) for
// parameters that have none. Each command, and each script a scriptUri
// fetches from the local object store, is replaced by a recorder of its
// arguments; everything else of the object stays as written (scriptUri,
// stage, runsOn, schedule, parameters). Other activities and the
// dependencies on them are dropped: what is measured is that scriptArgument
// values arrive as $1…$n — one argument per value, spaces kept,
// parameter references evaluated — and that the attempt finishes.
func TestCorpusScriptArguments(t *testing.T) {
	root := corpusRoot()
	if root == "" {
		t.Skip("SKIPPING: the shared corpus (../shared/corpus) is not present")
	}
	bin := dplBinary(t)
	var files []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	var nFiles, nRan, nObjects, nArgs, nExact, nSpaced int
	for _, f := range files {
		d, _, err := definition.Load(f, definition.ReadOptions{})
		if err != nil {
			continue
		}
		d.Resolve()
		var shells []*definition.Object
		for _, o := range d.Objects {
			typ := d.Effective(o).Type
			if (typ == "ShellCommandActivity" || typ == "ShellCommandPrecondition") && o.Field("scriptArgument") != nil {
				shells = append(shells, o)
			}
		}
		if len(shells) == 0 {
			continue
		}
		nFiles++
		t.Run(filepath.Base(f), func(t *testing.T) {
			objs, exact, args, spaced := runCorpusShells(t, bin, d, shells)
			nRan++
			nSpaced += spaced
			nObjects += objs
			nExact += exact
			nArgs += args
		})
	}
	if nFiles == 0 {
		t.Fatal("no corpus definition has a shell object with scriptArgument: the corpus moved?")
	}
	if nRan == 0 {
		t.Fatal("no corpus shell object could run")
	}
	t.Logf("%d corpus files have shell objects with scriptArgument, %d run locally: %d objects, %d argument values arrived (%d with spaces, each one argument), %d compared exactly with the parameter-substituted value",
		nFiles, nRan, nObjects, nArgs, nSpaced, nExact)
}

// runCorpusShells runs the shell objects of one corpus definition and
// checks what their commands received. It returns the objects run, the
// arguments compared exactly, the arguments received and how many of
// those hold a space.
func runCorpusShells(t *testing.T, bin string, d *definition.Definition, shells []*definition.Object) (objects, exact, received, spaced int) {
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "args")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}

	// Parameter values: the definition's values, then defaults, then a
	// placeholder with a space (S3 types get an s3:// placeholder).
	values := map[string]string{}
	var flags []string
	for _, pv := range d.Values {
		if len(pv.Values) > 0 {
			values[pv.ID] = pv.Values[0].Str
		}
	}
	for _, p := range d.Parameters {
		if _, ok := values[p.ID]; ok {
			continue
		}
		if def, ok := p.Attr("default"); ok {
			values[p.ID] = def
			continue
		}
		typ, _ := p.Attr("type")
		v := "placeholder " + p.ID
		if strings.HasPrefix(typ, "AWS::S3::") {
			v = "s3://dpl-corpus-placeholder/" + p.ID
		}
		values[p.ID] = v
		flags = append(flags, "--param", p.ID+"="+v)
	}
	// Parameters that only scriptArgument uses get a value with spaces
	// (a --param, as a user would give), to see that it stays one argument.
	onlyArgs := map[string]bool{}
	for _, o := range shells {
		for _, v := range o.Field("scriptArgument").Values {
			for _, m := range paramRef.FindAllStringSubmatch(v.Str, -1) {
				onlyArgs[m[1]] = true
			}
		}
	}
	for _, o := range d.Objects {
		for _, f := range o.Fields {
			for _, v := range f.Values {
				if f.Key == "scriptArgument" && slices.Contains(shells, o) {
					continue
				}
				for _, m := range paramRef.FindAllStringSubmatch(v.Str, -1) {
					delete(onlyArgs, m[1])
				}
			}
		}
	}
	for _, p := range d.Parameters {
		typ, _ := p.Attr("type")
		_, enum := p.Attr("allowedValues")
		if onlyArgs[p.ID] && (typ == "" || typ == "String") && !enum {
			values[p.ID] += " and  more, spaced"
			flags = append(flags, "--param", p.ID+"="+values[p.ID])
		}
	}
	subst := func(s string) string {
		return paramRef.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := values[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}

	var file struct {
		Objects    []map[string]any `json:"objects"`
		Parameters []any            `json:"parameters,omitempty"`
		Values     map[string]any   `json:"values,omitempty"`
	}
	if err := json.Unmarshal(convert.ToFile(d, convert.Options{}).MarshalIndent(), &file); err != nil {
		t.Fatal(err)
	}
	shellIDs := map[string]bool{}
	for _, o := range shells {
		shellIDs[o.ID] = true
	}
	// want: recorder name → the argument lists it may receive.
	want := map[string][][]string{}
	store, err := objstore.NewLocal(state)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var kept []map[string]any
	uriNames := map[string]string{}
	for _, m := range file.Objects {
		id, _ := m["id"].(string)
		o := d.Object(id)
		typ := d.Effective(o).Type
		if strings.HasSuffix(typ, "Activity") && !shellIDs[id] {
			continue // only the shell objects run
		}
		delete(m, "dependsOn")
		if pre, ok := m["precondition"]; ok && !refersTo(pre, shellIDs) {
			delete(m, "precondition")
		}
		if !shellIDs[id] {
			kept = append(kept, m)
			continue
		}
		objects++
		var args []string
		for _, v := range o.Field("scriptArgument").Values {
			args = append(args, subst(v.Str))
		}
		name := "obj-" + id
		if uri, ok := m["scriptUri"].(string); ok {
			// Objects sharing a script share its recorder.
			uri = subst(uri)
			if name = uriNames[uri]; name == "" {
				name = fmt.Sprintf("uri-%d", len(uriNames))
				uriNames[uri] = name
			}
			path, err := store.Path(uri)
			if err != nil {
				t.Fatalf("%s: scriptUri %s: %v", id, uri, err)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte("#!/bin/sh\n"+argRecorder(out, name)+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		} else {
			m["command"] = argRecorder(out, name)
		}
		want[name] = append(want[name], args)
		kept = append(kept, m)
	}
	file.Objects = kept
	src, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	def := filepath.Join(dir, "pipeline.json")
	if err := os.WriteFile(def, src, 0o644); err != nil {
		t.Fatal(err)
	}

	// One period: instances from the earliest literal start (or now) on.
	until := time.Now().UTC().Add(time.Minute)
	for _, o := range d.Objects {
		if s := d.Effective(o).Str("startDateTime"); s != "" && !strings.Contains(s, "#{") {
			if ts, err := time.Parse("2006-01-02T15:04:05", s); err == nil && ts.Add(time.Second).Before(until) {
				until = ts.Add(time.Second)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmdArgs := append([]string{"run", "--headless", "--state-dir", state, "--retry-delay", "1s", "--until", until.Format("2006-01-02T15:04:05")}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(cmdArgs, def)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	runErr := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("dpl run hung:\n%s", log.String())
	}
	if exitCode(runErr) == 2 && strings.Contains(log.String(), "has errors; nothing was run") {
		// Not runnable as written (dpl validate's corpus test checks that
		// verdict); nothing ran, so nothing can be checked. Errors only
		// this test's changes cause are a failure.
		if vout, err := exec.Command(bin, "validate", d.File).CombinedOutput(); exitCode(err) == 0 {
			t.Fatalf("valid as written, refused after the recorders went in:\n%s\nsource:\n%s", log.String(), src)
		} else {
			t.Skipf("SKIPPING: the definition has errors as written, dpl runs nothing:\n%s", vout)
		}
	}

	for name, lists := range want {
		recs, _ := filepath.Glob(filepath.Join(out, name+".*"))
		if len(recs) == 0 {
			t.Errorf("%s: the command never ran (exit %d):\n%s\nsource:\n%s", name, exitCode(runErr), log.String(), src)
			continue
		}
		for _, r := range recs {
			b, err := os.ReadFile(r)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
			if len(b) == 0 {
				got = nil
			}
			received += len(got)
			matched := false
			for _, w := range lists {
				if len(w) != len(got) {
					continue
				}
				same := true
				for k := range w {
					if strings.Contains(w[k], "#{") {
						// An expression other than a parameter: it must
						// have been evaluated.
						same = same && !strings.Contains(got[k], "#{")
					} else {
						same = same && got[k] == w[k]
					}
				}
				if same {
					matched = true
					for k := range w {
						if !strings.Contains(w[k], "#{") {
							exact++
						}
						if strings.Contains(got[k], " ") {
							spaced++
						}
					}
					break
				}
			}
			if !matched {
				t.Errorf("%s got arguments %q, want one of %q", name, got, lists)
			}
		}
	}
	// The attempts that ran the recorders finished.
	for _, o := range shells {
		if d.Effective(o).Type != "ShellCommandActivity" {
			continue
		}
		if st := componentStatuses(t, bin, state, o.ID); !slices.Contains(st, "FINISHED") {
			t.Errorf("%s ended %v, want FINISHED:\n%s", o.ID, st, log.String())
		}
	}
	return objects, exact, received, spaced
}

// refersTo reports whether a field value (ref or list of refs) names one
// of ids.
func refersTo(v any, ids map[string]bool) bool {
	switch v := v.(type) {
	case map[string]any:
		id, _ := v["ref"].(string)
		return ids[id]
	case []any:
		for _, e := range v {
			if refersTo(e, ids) {
				return true
			}
		}
	}
	return false
}

// componentStatuses lists the statuses of a component's instances in the
// store (dpl runs --output json).
func componentStatuses(t *testing.T, bin, state, component string) []string {
	t.Helper()
	b, err := exec.Command(bin, "runs", "--state-dir", state, "--output", "json").Output()
	if err != nil {
		t.Fatalf("dpl runs: %v", err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("dpl runs json: %v", err)
	}
	var out []string
	for _, r := range recs {
		if r["@componentParent"] == component {
			out = append(out, fmt.Sprint(r["@status"]))
		}
	}
	return out
}
