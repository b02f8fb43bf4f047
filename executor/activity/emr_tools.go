package activity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dpl-dev/dpl/executor/activity/hosttools"
	"github.com/dpl-dev/dpl/executor/activity/streaming"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// registerEMRTools adds the activities that ran on EMR: Hive on the
// embedded engine or the host's hive, Hadoop streaming natively, Pig and
// other Hadoop jars through host tools.
func (r *Runner) registerEMRTools() {
	r.handlers["HiveActivity"] = runHiveActivity
	r.handlers["HiveCopyActivity"] = runHiveCopyActivity
	r.handlers["PigActivity"] = runPigActivity
	r.handlers["HadoopActivity"] = runHadoopActivity
}

func (r *Runner) childEnv() []string { return append(os.Environ(), r.opts.Env...) }

// hostTool finds a tool for host mode. ok is false when the embedded
// engine should run instead (auto without the tool, or embedded); err is
// set when the tool is required (host mode, or no embedded engine) but
// missing.
func (r *Runner) hostTool(tool, what string, embedded bool) (string, bool, error) {
	mode := r.opts.EMR
	if mode == "" {
		mode = hosttools.Auto
	}
	if mode == hosttools.Embedded && embedded {
		return "", false, nil
	}
	p, found := hosttools.Find(tool, r.childEnv())
	switch {
	case found && mode != hosttools.Embedded:
		return p, true, nil
	case embedded && mode == hosttools.Auto:
		return "", false, nil
	}
	return "", false, &hosttools.MissingError{Tool: tool, What: what, Mode: mode}
}

// runHiveOnHost runs a script with the host's hive when host mode applies,
// or with beeline (against --beeline-url) when hive is absent and beeline
// is installed; ok is false when the embedded engine should run it.
func (r *Runner) runHiveOnHost(ctx context.Context, t *task.Task, script string, vars, conf map[string]string, adir string, logs task.Logs) (task.Result, bool) {
	what := "the Hive script of " + t.Attempt().ID
	hive, ok, err := r.hostTool("hive", what, true)
	beeline := ""
	if !ok && r.opts.EMR != hosttools.Embedded {
		if p, found := hosttools.Find("beeline", r.childEnv()); found {
			beeline, ok, err = p, true, nil
		}
	}
	var missing *hosttools.MissingError
	if errors.As(err, &missing) {
		missing.Alternative = "beeline"
	}
	if err != nil {
		return failf(task.ErrorIDCommandNotFound, "%v", err), true
	}
	if !ok {
		return task.Result{}, false
	}
	p := filepath.Join(adir, "script.q")
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		return failf("Runner_WorkDir", "%v", err), true
	}
	dir, err := r.workDir(t)
	if err != nil {
		return failf("Runner_WorkDir", "%v", err), true
	}
	tool := "hive"
	argv := append([]string{hive}, hosttools.HiveArgs(p, vars, conf)...)
	if beeline != "" {
		tool = "beeline"
		argv = append([]string{beeline}, hosttools.BeelineArgs(hosttools.BeelineURL(r.opts.BeelineURL, r.childEnv()), p, vars, conf)...)
		fmt.Fprintf(logs.Stderr, "dpl: %s: hive is not installed; running the script with beeline\n", t.Attempt().ID)
	}
	fmt.Fprintf(logs.Stderr, "dpl: %s: host tools mode: %s\n", t.Attempt().ID, strings.Join(argv, " "))
	if err := r.exec(ctx, argv, dir, r.childEnv(), logs.Stdout, logs.Stderr); err != nil {
		return stepFailure(ctx, tool, p, err), true
	}
	return finished(), true
}

// runPigActivity runs pigScript/scriptUri with the host's pig: -param
// for each scriptVariable and, with stage (the default), input1.../output1...
// set to the data nodes' S3 folders.
func runPigActivity(ctx context.Context, r *Runner, t *task.Task, logs task.Logs) task.Result {
	a := t.Attempt()
	pig, _, err := r.hostTool("pig", "PigActivity "+a.ID, false)
	if err != nil {
		return failf(task.ErrorIDCommandNotFound, "%v", err)
	}
	adir, err := r.attemptDir(t)
	if err != nil {
		return failf("Runner_WorkDir", "%v", err)
	}
	script := filepath.Join(adir, "script.pig")
	switch {
	case a.Get("pigScript") != "":
		if err := os.WriteFile(script, []byte(a.Get("pigScript")), 0o644); err != nil {
			return failf("Runner_WorkDir", "%v", err)
		}
	case a.Get("scriptUri") != "":
		if script, err = r.fetchScript(ctx, a.Get("scriptUri"), adir); err != nil {
			return failf(task.ErrorIDInvalidTask, "%s: fetch scriptUri %s: %v", a.ID, a.Get("scriptUri"), err)
		}
	default:
		return failf(task.ErrorIDInvalidTask, "%s: a PigActivity needs pigScript or scriptUri", a.ID)
	}
	params, err := scriptVariables(a.All("scriptVariable"))
	if err != nil {
		return failf(task.ErrorIDInvalidTask, "%s: %v", a.ID, err)
	}
	if a.Get("stage") == "" || isTrue(a.Get("stage")) {
		for _, role := range []string{"input", "output"} {
			for i, id := range a.Refs(role) {
				if n := t.Objects[id]; n != nil && n.Get("directoryPath") != "" {
					params[fmt.Sprintf("%s%d", role, i+1)] = n.Get("directoryPath")
				}
			}
		}
	}
	dir, err := r.workDir(t)
	if err != nil {
		return failf("Runner_WorkDir", "%v", err)
	}
	argv := append([]string{pig}, hosttools.PigArgs(script, params)...)
	fmt.Fprintf(logs.Stderr, "dpl: %s: host tools mode: %s\n", a.ID, strings.Join(argv, " "))
	if err := r.exec(ctx, argv, dir, r.childEnv(), logs.Stdout, logs.Stderr); err != nil {
		return stepFailure(ctx, "pig", script, err)
	}
	return finished()
}

// runHadoopActivity runs jarUri with its argument list: streaming jars
// natively (or with the host's hadoop in host mode), other jars with
// `hadoop jar` on the host.
func runHadoopActivity(ctx context.Context, r *Runner, t *task.Task, logs task.Logs) task.Result {
	a := t.Attempt()
	jar := a.Get("jarUri")
	if jar == "" {
		return failf(task.ErrorIDInvalidTask, "%s: a HadoopActivity needs jarUri", a.ID)
	}
	args := append([]string{jar}, a.All("argument")...)
	if mc := a.Get("mainClass"); mc != "" {
		args = append([]string{jar, mc}, a.All("argument")...)
	}
	dir, err := r.workDir(t)
	if err != nil {
		return failf("Runner_WorkDir", "%v", err)
	}
	handled, err := r.runJar(ctx, t, args, a.Get("mainClass"), dir, logs)
	if !handled {
		err = fmt.Errorf("cannot run %s", jar)
	}
	if err != nil {
		return stepFailure(ctx, "HadoopActivity "+a.ID, jar, err)
	}
	return finished()
}

// runEMRToolStep runs the EmrActivity steps of Hive, Hadoop streaming,
// host tools through command-runner, and other jars with `hadoop jar`;
// handled is false for steps it leaves to the generic code.
func (r *Runner) runEMRToolStep(ctx context.Context, t *task.Task, args []string, dir string, env []string, logs task.Logs) (bool, error) {
	if len(args) == 0 {
		return false, nil
	}
	if handled, err := r.runHiveStep(ctx, t, args, logs); handled {
		return true, err
	}
	jar := path.Base(args[0])
	switch jar {
	case "command-runner.jar":
		if len(args) < 2 || !hosttools.IsTool(path.Base(args[1])) {
			return false, nil
		}
		tool := path.Base(args[1])
		if tool == "hadoop" && len(args) > 3 && args[2] == "jar" && streaming.IsStreamingJar(args[3]) {
			return r.runJar(ctx, t, args[3:], "", dir, logs)
		}
		p, _, err := r.hostTool(tool, "the step "+strings.Join(args, ","), false)
		if err != nil {
			return true, err
		}
		return true, r.exec(ctx, append([]string{p}, args[2:]...), dir, env, logs.Stdout, logs.Stderr)
	case "script-runner.jar":
		return false, nil
	}
	if !strings.HasSuffix(strings.ToLower(jar), ".jar") {
		return false, nil
	}
	return r.runJar(ctx, t, args, "", dir, logs)
}

// runJar runs a Hadoop jar: args[0] is the jar, the rest its arguments
// (mainClass, when given, is args[1]).
func (r *Runner) runJar(ctx context.Context, t *task.Task, args []string, mainClass, dir string, logs task.Logs) (bool, error) {
	jar := args[0]
	isStreaming := streaming.IsStreamingJar(jar)
	what := "the Hadoop jar " + jar
	if isStreaming {
		what = "the Hadoop streaming job"
	}
	hadoop, host, err := r.hostTool("hadoop", what, isStreaming)
	if err != nil {
		return true, err
	}
	if host {
		local := jar
		if objstore.IsURI(jar) {
			adir, err := r.attemptDir(t)
			if err != nil {
				return true, err
			}
			if local, err = r.fetchScript(ctx, jar, adir); err != nil {
				return true, fmt.Errorf("fetch %s: %w", jar, err)
			}
		}
		rest := args[1:]
		if mainClass != "" && len(rest) > 0 {
			rest = rest[1:]
		}
		argv := append([]string{hadoop}, hosttools.HadoopJarArgs(local, mainClass, rest)...)
		fmt.Fprintf(logs.Stderr, "dpl: host tools mode: %s\n", strings.Join(argv, " "))
		return true, r.exec(ctx, argv, dir, r.childEnv(), logs.Stdout, logs.Stderr)
	}
	job, err := streaming.Parse(args[1:])
	if err != nil {
		return true, err
	}
	adir, err := r.attemptDir(t)
	if err != nil {
		return true, err
	}
	parallel := 2
	if n, _ := fmt.Sscan(t.Attempt().Get("@parallel"), &parallel); n == 0 || parallel < 1 {
		parallel = 2
	}
	fmt.Fprintf(logs.Stderr, "dpl: Hadoop streaming on this machine: %d input(s) -> %s\n", len(job.Inputs), job.Output)
	_, err = job.Run(ctx, streaming.Env{Store: r.opts.Store, Dir: filepath.Join(adir, "streaming"), Shell: r.opts.Shell,
		Environ: r.childEnv(), Parallel: parallel, Stderr: logs.Stderr,
		Progress: func(p streaming.Progress) {
			task.ReportProgress(ctx, task.Progress{Done: p.Done, Total: p.Total, Unit: p.Phase + " tasks", Rows: p.Records})
		}})
	return true, err
}

// runHiveCopyActivity copies between a DynamoDB table and S3 (either way)
// through the embedded Hive engine: the nodes become staged tables and
// `INSERT OVERWRITE TABLE output1 SELECT * FROM input1 [WHERE filterSql]`
// runs. Both nodes need a dataFormat with columns.
func runHiveCopyActivity(ctx context.Context, r *Runner, t *task.Task, logs task.Logs) task.Result {
	a := t.Attempt()
	adir, err := r.attemptDir(t)
	if err != nil {
		return failf("Runner_WorkDir", "%v", err)
	}
	ddl, names, err := hiveStagingDDL(t)
	if err != nil {
		return failf(task.ErrorIDInvalidTask, "%s: %v", a.ID, err)
	}
	if names["input1"] == "" || names["output1"] == "" {
		return failf(task.ErrorIDInvalidTask, "%s: HiveCopyActivity needs one input and one output data node (DynamoDBDataNode or S3DataNode) with dataFormat columns", a.ID)
	}
	query := "INSERT OVERWRITE TABLE output1 SELECT * FROM input1"
	if f := strings.TrimSpace(a.Get("filterSql")); f != "" {
		query += " WHERE " + f
	}
	s, err := r.newHiveSession(ctx, adir, nil, logs)
	if err != nil {
		return failf("Hive_Engine", "%v", err)
	}
	defer s.Close()
	if err := s.RunStaging(ctx, ddl); err != nil {
		return hiveFailure(ctx, a.ID+": staging tables", err, logs)
	}
	if err := s.Run(ctx, query+";"); err != nil {
		return hiveFailure(ctx, a.ID, err, logs)
	}
	fmt.Fprintf(logs.Stderr, "dpl: %s: %d rows copied\n", a.ID, s.RowsWritten())
	return finished()
}
