package emr

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emr/types"

	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// ActionOnFailure of every step dpl submits: a failed step fails its
// attempt, and the engine (not EMR) decides about retries and the
// cluster, so the cluster keeps running for the next attempt.
const ActionOnFailure = emrtypes.ActionOnFailureContinue

// Staging is where generated scripts of an attempt are uploaded before its
// steps are submitted.
type Staging struct {
	// Store writes the scripts and reads scriptUri scripts that need
	// staging tables put in front.
	Store objstore.Store
	// Prefix is the attempt's S3 folder ("" when the cluster has no log
	// location: then steps that need an upload fail with a hint).
	Prefix string
}

// stepBuilder turns one task into the steps of its attempt.
type stepBuilder struct {
	t       *task.Task
	a       *task.Object
	release bool   // a release-label cluster (command-runner.jar)
	region  string // for EMR's regional libs on AMI clusters
	staging Staging
	// uploads are the scripts to write before the steps are submitted,
	// by URI (filled by the builder; Plan shows them, Submit writes them).
	uploads map[string]string
}

// Steps returns the steps an activity's attempt submits, and the files
// it uploads first (URI -> content). release says whether the cluster
// runs a release label (EMR 4+) rather than an AMI version.
func Steps(ctx context.Context, t *task.Task, release bool, region string, st Staging) ([]emrtypes.StepConfig, map[string]string, error) {
	b := &stepBuilder{t: t, a: t.Attempt(), release: release, region: region, staging: st, uploads: map[string]string{}}
	if b.a == nil {
		return nil, nil, fmt.Errorf("task %s carries no attempt object", t.TaskID)
	}
	steps, err := b.build(ctx)
	if err != nil {
		return nil, nil, err
	}
	return steps, b.uploads, nil
}

func (b *stepBuilder) build(ctx context.Context) ([]emrtypes.StepConfig, error) {
	typ := b.a.Get("type")
	var steps []emrtypes.StepConfig
	if typ != "EmrActivity" {
		pre, err := b.taskConfig("preActivityTaskConfig")
		if err != nil {
			return nil, err
		}
		steps = append(steps, pre...)
	}
	var main []emrtypes.StepConfig
	var err error
	switch typ {
	case "EmrActivity":
		main, err = b.emrActivity()
	case "HiveActivity":
		main, err = b.hiveActivity(ctx)
	case "HiveCopyActivity":
		main, err = b.hiveCopyActivity()
	case "PigActivity":
		main, err = b.pigActivity()
	case "HadoopActivity":
		main, err = b.hadoopActivity()
	default:
		return nil, fmt.Errorf("%s: type %s does not run on an EmrCluster (EmrActivity, HiveActivity, HiveCopyActivity, PigActivity, HadoopActivity do)", b.a.ID, typ)
	}
	if err != nil {
		return nil, err
	}
	steps = append(steps, main...)
	if typ != "EmrActivity" {
		post, err := b.taskConfig("postActivityTaskConfig")
		if err != nil {
			return nil, err
		}
		steps = append(steps, post...)
	}
	return steps, nil
}

// component is the activity's object id (for step names).
func (b *stepBuilder) component() string {
	if p := b.a.Refs("@componentParent"); len(p) > 0 {
		return p[0]
	}
	return b.a.ID
}

func (b *stepBuilder) step(what, jar, mainClass string, args []string) emrtypes.StepConfig {
	s := emrtypes.StepConfig{
		Name:            aws.String(truncate(b.component()+" "+attemptLabel(b.a)+": "+what, 256)),
		ActionOnFailure: ActionOnFailure,
		HadoopJarStep:   &emrtypes.HadoopJarStepConfig{Jar: aws.String(jar), Args: args},
	}
	if args == nil {
		s.HadoopJarStep.Args = []string{}
	}
	if mainClass != "" {
		s.HadoopJarStep.MainClass = aws.String(mainClass)
	}
	return s
}

func attemptLabel(a *task.Object) string {
	if n := a.Get("@attempt"); n != "" {
		return "attempt " + n
	}
	return "attempt"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// scriptRunner is the jar that runs a shell script from S3 on the master
// node; on every EMR version it is EMR's regional script-runner.jar.
func (b *stepBuilder) scriptRunner() string {
	return regionalLib(b.region, "script-runner/script-runner.jar")
}

// upload records content to be written to name under the attempt's staging
// folder and returns its URI.
func (b *stepBuilder) upload(name, content, why string) (string, error) {
	if b.staging.Prefix == "" {
		return "", fmt.Errorf("%s: %s is uploaded to S3 for the cluster, and the cluster has no S3 log location: set pipelineLogUri on Default (or emrLogUri on the EmrCluster)", b.a.ID, why)
	}
	uri := b.staging.Prefix + name
	b.uploads[uri] = content
	return uri, nil
}

// emrActivity: preStepCommand values as script-runner steps, then each
// step value (jar,arg1,arg2 in dp's comma format) as a HadoopJarStep,
// then postStepCommand values.
func (b *stepBuilder) emrActivity() ([]emrtypes.StepConfig, error) {
	var steps []emrtypes.StepConfig
	for i, c := range b.a.All("preStepCommand") {
		uri, err := b.upload(fmt.Sprintf("preStepCommand-%d.sh", i+1), shellScript(c), "preStepCommand")
		if err != nil {
			return nil, err
		}
		steps = append(steps, b.step(fmt.Sprintf("preStepCommand %d", i+1), b.scriptRunner(), "", []string{uri}))
	}
	values := b.a.All("step")
	if len(values) == 0 {
		return nil, fmt.Errorf("%s: an EmrActivity needs at least one step (jar,arg1,arg2,...)", b.a.ID)
	}
	for i, v := range values {
		parts := awsx.SplitStep(v)
		if strings.TrimSpace(parts[0]) == "" {
			return nil, fmt.Errorf("%s: step %d %q has no jar (want jar,arg1,arg2,...)", b.a.ID, i+1, v)
		}
		steps = append(steps, b.step(fmt.Sprintf("step %d (%s)", i+1, path.Base(parts[0])), parts[0], "", parts[1:]))
	}
	for i, c := range b.a.All("postStepCommand") {
		uri, err := b.upload(fmt.Sprintf("postStepCommand-%d.sh", i+1), shellScript(c), "postStepCommand")
		if err != nil {
			return nil, err
		}
		steps = append(steps, b.step(fmt.Sprintf("postStepCommand %d", i+1), b.scriptRunner(), "", []string{uri}))
	}
	return steps, nil
}

func shellScript(command string) string { return "#!/bin/bash\nset -e\n" + command + "\n" }

// taskConfig: a ShellScriptConfig (scriptUri, scriptArgument) as a
// script-runner step.
func (b *stepBuilder) taskConfig(key string) ([]emrtypes.StepConfig, error) {
	cfg := b.t.Ref(b.a, key)
	if cfg == nil {
		return nil, nil
	}
	uri := cfg.Get("scriptUri")
	if uri == "" {
		return nil, fmt.Errorf("%s: %s %s has no scriptUri", b.a.ID, key, cfg.ID)
	}
	return []emrtypes.StepConfig{b.step(key, b.scriptRunner(), "", append([]string{uri}, cfg.All("scriptArgument")...))}, nil
}

// hiveStep runs a Hive script file with hive-script: command-runner.jar on
// release-label clusters, EMR's script-runner with the regional
// hive-script on AMI ones.
func (b *stepBuilder) hiveStep(what, script string, vars map[string]string) emrtypes.StepConfig {
	args := []string{"-f", script}
	for _, k := range sortedKeys(vars) {
		args = append(args, "-d", k+"="+vars[k])
	}
	if q := b.a.Get("hadoopQueue"); q != "" {
		args = append(args, "--hiveconf", "mapreduce.job.queuename="+q)
	}
	if b.release {
		return b.step(what, "command-runner.jar", "", append([]string{"hive-script", "--run-hive-script", "--args"}, args...))
	}
	return b.step(what, b.scriptRunner(), "", append([]string{regionalLib(b.region, "hive/hive-script"),
		"--base-path", regionalLib(b.region, "hive/"), "--hive-versions", "latest", "--run-hive-script", "--args"}, args...))
}

// stagingDDL is the staging tables, each dropped first: the cluster's
// metastore outlives one script, and the next activity makes its own
// ${input1} (dropping an external table leaves its data alone).
func (b *stepBuilder) stagingDDL() (string, map[string]string, error) {
	ddl, names, err := activity.HiveStagingDDL(b.t)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", b.a.ID, err)
	}
	var drop strings.Builder
	for _, n := range sortedKeys(names) {
		fmt.Fprintf(&drop, "DROP TABLE IF EXISTS %s;\n", names[n])
	}
	return drop.String() + ddl, names, nil
}

// hiveActivity: the script (hiveScript, or scriptUri's content) with the
// staging tables in front when stage is on (the default), uploaded and run
// by hive-script with scriptVariable values and the table names as -d.
func (b *stepBuilder) hiveActivity(ctx context.Context) ([]emrtypes.StepConfig, error) {
	vars, err := activity.ScriptVariables(b.a.All("scriptVariable"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.a.ID, err)
	}
	inline, uri := b.a.Get("hiveScript"), b.a.Get("scriptUri")
	if inline != "" && uri != "" {
		return nil, fmt.Errorf("%s: set hiveScript or scriptUri, not both", b.a.ID)
	}
	if inline == "" && uri == "" {
		return nil, fmt.Errorf("%s: a HiveActivity needs hiveScript or scriptUri", b.a.ID)
	}
	staged := b.a.Get("stage") == "" || isTrue(b.a.Get("stage"))
	if !staged && uri != "" {
		return []emrtypes.StepConfig{b.hiveStep("Hive script", uri, vars)}, nil
	}
	body := inline
	if uri != "" {
		if body, err = b.read(ctx, uri); err != nil {
			return nil, fmt.Errorf("%s: read scriptUri %s: %w", b.a.ID, uri, err)
		}
	}
	if staged {
		ddl, names, err := b.stagingDDL()
		if err != nil {
			return nil, err
		}
		body = ddl + body
		for k, v := range names {
			vars[k] = v
		}
	}
	script, err := b.upload("hive-script.q", body, "the generated Hive script")
	if err != nil {
		return nil, err
	}
	return []emrtypes.StepConfig{b.hiveStep("Hive script", script, vars)}, nil
}

// hiveCopyActivity: staging tables over the input and output, then
// INSERT OVERWRITE TABLE ${output1} SELECT * FROM ${input1} [WHERE filterSql].
func (b *stepBuilder) hiveCopyActivity() ([]emrtypes.StepConfig, error) {
	ddl, names, err := b.stagingDDL()
	if err != nil {
		return nil, err
	}
	if names["input1"] == "" || names["output1"] == "" {
		return nil, fmt.Errorf("%s: HiveCopyActivity needs one input and one output data node (DynamoDBDataNode or S3DataNode) with dataFormat columns", b.a.ID)
	}
	q := "INSERT OVERWRITE TABLE ${output1} SELECT * FROM ${input1}"
	if f := strings.TrimSpace(b.a.Get("filterSql")); f != "" {
		q += " WHERE " + f
	}
	script, err := b.upload("hive-copy.q", ddl+q+";\n", "the generated Hive copy script")
	if err != nil {
		return nil, err
	}
	return []emrtypes.StepConfig{b.hiveStep("Hive copy", script, names)}, nil
}

// pigActivity: script (uploaded) or scriptUri, run by pig-script with
// scriptVariable values and, with stage (the default), input1.../output1...
// set to the data nodes' S3 folders, as -p parameters.
func (b *stepBuilder) pigActivity() ([]emrtypes.StepConfig, error) {
	params, err := activity.ScriptVariables(b.a.All("scriptVariable"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.a.ID, err)
	}
	script := b.a.Get("scriptUri")
	if inline := b.a.Get("script"); inline != "" {
		if script != "" {
			return nil, fmt.Errorf("%s: set script or scriptUri, not both", b.a.ID)
		}
		if script, err = b.upload("pig-script.pig", inline, "the Pig script"); err != nil {
			return nil, err
		}
	}
	if script == "" {
		return nil, fmt.Errorf("%s: a PigActivity needs script or scriptUri", b.a.ID)
	}
	if b.a.Get("stage") == "" || isTrue(b.a.Get("stage")) {
		for _, role := range []string{"input", "output"} {
			for i, id := range b.a.Refs(role) {
				if n := b.t.Objects[id]; n != nil && n.Get("directoryPath") != "" {
					params[fmt.Sprintf("%s%d", role, i+1)] = n.Get("directoryPath")
				}
			}
		}
	}
	args := []string{"-f", script}
	for _, k := range sortedKeys(params) {
		args = append(args, "-p", k+"="+params[k])
	}
	if b.release {
		return []emrtypes.StepConfig{b.step("Pig script", "command-runner.jar", "", append([]string{"pig-script", "--run-pig-script", "--args"}, args...))}, nil
	}
	return []emrtypes.StepConfig{b.step("Pig script", b.scriptRunner(), "", append([]string{regionalLib(b.region, "pig/pig-script"),
		"--base-path", regionalLib(b.region, "pig/"), "--pig-versions", "latest", "--run-pig-script", "--args"}, args...))}, nil
}

// hadoopActivity: jarUri with mainClass and argument values; hadoopQueue
// as -Dmapreduce.job.queuename (read by jars that use ToolRunner).
func (b *stepBuilder) hadoopActivity() ([]emrtypes.StepConfig, error) {
	jar := b.a.Get("jarUri")
	if jar == "" {
		return nil, fmt.Errorf("%s: a HadoopActivity needs jarUri", b.a.ID)
	}
	var args []string
	if q := b.a.Get("hadoopQueue"); q != "" {
		args = append(args, "-Dmapreduce.job.queuename="+q)
	}
	args = append(args, b.a.All("argument")...)
	return []emrtypes.StepConfig{b.step("Hadoop jar "+path.Base(jar), jar, b.a.Get("mainClass"), args)}, nil
}

func (b *stepBuilder) read(ctx context.Context, uri string) (string, error) {
	if b.staging.Store == nil {
		return "", fmt.Errorf("no object store to read it from")
	}
	r, err := b.staging.Store.Open(ctx, uri)
	if err != nil {
		return "", err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	return string(data), err
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
