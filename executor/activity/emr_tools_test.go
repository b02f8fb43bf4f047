package activity

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/activity/hosttools"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

func putObj(t *testing.T, st *objstore.Local, uri, body string) {
	t.Helper()
	w, err := st.Create(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, body)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func getObj(t *testing.T, st *objstore.Local, uri string) string {
	t.Helper()
	r, err := st.Open(context.Background(), uri)
	if err != nil {
		t.Fatalf("open %s: %v", uri, err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

func TestHiveActivityStagedCSVToTSV(t *testing.T) {
	r, st := newRunner(t)
	r.opts.EMR = hosttools.Embedded
	putObj(t, st, "s3://b/in/data.csv", "a,3\nb,4\na,5\n")
	csv := obj("CsvFmt", "type", "CSV", "column", "k STRING")
	csv.Fields = append(csv.Fields, task.Field{Key: "column", StringValue: ptr("v INT")})
	tsv := obj("TsvFmt", "type", "TSV", "column", "k STRING", "column", "total DOUBLE")
	in := obj("@In_1", "type", "S3DataNode", "directoryPath", "s3://b/in/", "dataFormat", "ref:CsvFmt")
	out := obj("@Out_1", "type", "S3DataNode", "directoryPath", "s3://b/out", "dataFormat", "ref:TsvFmt")
	a := obj("@Hive_Attempt=1", "type", "HiveActivity", "input", "ref:@In_1", "output", "ref:@Out_1",
		"scriptVariable", "MINV=1",
		"hiveScript", "INSERT OVERWRITE TABLE ${output1} SELECT k, sum(v) FROM ${input1} WHERE v >= ${MINV} GROUP BY k ORDER BY k;")
	res, _, errs := run(t, r, newTask(a, in, out, csv, tsv))
	if res.Status != task.Finished {
		t.Fatalf("%s %s %s\n%s", res.Status, res.ErrorID, res.ErrorMessage, errs)
	}
	// CSV staging reads strings (the service's CSV SerDe): sum is a double.
	if got, want := getObj(t, st, "s3://b/out/000000_0"), "a\t8.0\nb\t4.0\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	if !strings.Contains(errs, "statement 1/1 done") || !strings.Contains(errs, "2 rows written") {
		t.Errorf("no progress lines in stderr:\n%s", errs)
	}
}

func ptr(s string) *string { return &s }

func TestHiveActivityBadScriptIsPermanent(t *testing.T) {
	r, _ := newRunner(t)
	r.opts.EMR = hosttools.Embedded
	a := obj("@Hive_Attempt=1", "type", "HiveActivity", "stage", "false", "hiveScript", "SET x=1;\nSELECT TRANSFORM(a) USING 'cat' FROM t;")
	res, _, _ := run(t, r, newTask(a))
	if res.Status != task.Failed || !task.Permanent(res.ErrorID) || !strings.Contains(res.ErrorMessage, "line 2") || !strings.Contains(res.ErrorMessage, "TRANSFORM") {
		t.Errorf("got %s %s %q", res.Status, res.ErrorID, res.ErrorMessage)
	}
}

func TestEmrActivityHiveScriptStep(t *testing.T) {
	r, st := newRunner(t)
	r.opts.EMR = hosttools.Embedded
	putObj(t, st, "s3://b/scripts/q.hql", "CREATE EXTERNAL TABLE o (x STRING) LOCATION '${OUT}';\nINSERT OVERWRITE TABLE o SELECT '${hivevar:WHO}';\n")
	for i, step := range []string{
		"s3://elasticmapreduce/libs/script-runner/script-runner.jar,s3://elasticmapreduce/libs/hive/hive-script,--run-hive-script,--hive-versions,latest,--args,-f,s3://b/scripts/q.hql,-d,OUT=s3://b/o1,-d,WHO=me",
		"command-runner.jar,hive-script,--run-hive-script,--args,-f,s3://b/scripts/q.hql,-d,OUT=s3://b/o2,-d,WHO=me",
		"command-runner.jar,hive,-f,s3://b/scripts/q.hql,--hivevar,OUT=s3://b/o3,-d,WHO=me",
	} {
		res, _, errs := run(t, r, newTask(obj("@E_Attempt="+string(rune('1'+i)), "type", "EmrActivity", "step", step)))
		if res.Status != task.Finished {
			t.Fatalf("step %d: %s %s\n%s", i+1, res.Status, res.ErrorMessage, errs)
		}
		if got := getObj(t, st, "s3://b/o"+string(rune('1'+i))+"/000000_0"); got != "me\n" {
			t.Errorf("step %d wrote %q", i+1, got)
		}
	}
}

func TestHadoopActivityStreamingWordCount(t *testing.T) {
	r, st := newRunner(t)
	r.opts.EMR = hosttools.Embedded
	putObj(t, st, "s3://b/wc/wordSplitter.sh", "#!/bin/sh\ntr -s ' ' '\\n' | awk 'NF { print \"LongValueSum:\" $0 \"\\t1\" }'\n")
	putObj(t, st, "s3://b/wc/input/0001", "a b a\nc a\n")
	putObj(t, st, "s3://b/wc/input/0002", "b c c\n")
	a := obj("@H_Attempt=1", "type", "HadoopActivity", "jarUri", "/home/hadoop/contrib/streaming/hadoop-streaming.jar")
	for _, arg := range []string{"-files", "s3://b/wc/wordSplitter.sh", "-mapper", "wordSplitter.sh", "-reducer", "aggregate", "-input", "s3://b/wc/input/", "-output", "s3://b/wc/out/"} {
		a.Fields = append(a.Fields, task.Field{Key: "argument", StringValue: ptr(arg)})
	}
	res, _, errs := run(t, r, newTask(a))
	if res.Status != task.Finished {
		t.Fatalf("%s %s\n%s", res.Status, res.ErrorMessage, errs)
	}
	if got, want := getObj(t, st, "s3://b/wc/out/part-00000"), "a\t3\nb\t2\nc\t3\n"; got != want {
		t.Errorf("counts = %q, want %q", got, want)
	}
}

// recordingStandIn writes a stand-in for a host tool that records its
// arguments (one per line) and exits 0.
func recordingStandIn(t *testing.T, dir, tool string) string {
	t.Helper()
	log := filepath.Join(dir, tool+".args")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> " + log + "\necho ran " + tool + "\n"
	if err := os.WriteFile(filepath.Join(dir, tool), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return log
}

func TestHostToolsRecordingStandInsSeeEMRInvocations(t *testing.T) {
	bin := t.TempDir()
	logs := map[string]string{}
	for _, tool := range []string{"hive", "pig", "hadoop", "spark-submit"} {
		logs[tool] = recordingStandIn(t, bin, tool)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	r, st := newRunner(t)
	r.opts.EMR = hosttools.Host
	putObj(t, st, "s3://b/s/p.pig", "A = LOAD '$input1';")
	putObj(t, st, "s3://b/jars/wc.jar", "jar")
	in := obj("@In_1", "type", "S3DataNode", "directoryPath", "s3://b/in")
	out := obj("@Out_1", "type", "S3DataNode", "directoryPath", "s3://b/out")
	pig := obj("@Pig_Attempt=1", "type", "PigActivity", "scriptUri", "s3://b/s/p.pig", "input", "ref:@In_1", "output", "ref:@Out_1",
		"scriptVariable", "column1=First", "scriptVariable", "three=3")
	hive := obj("@Hive_Attempt=1", "type", "HiveActivity", "hiveScript", "SELECT 1;", "scriptVariable", "A=1", "stage", "false")
	emr := obj("@Emr_Attempt=1", "type", "EmrActivity", "step", "command-runner.jar,spark-submit,--deploy-mode,cluster,s3://b/app.py,x")
	emr.Fields = append(emr.Fields, task.Field{Key: "step", StringValue: ptr("s3://b/jars/wc.jar,org.example.WordCount,in,out")})
	for _, tk := range []*task.Task{newTask(pig, in, out), newTask(hive), newTask(emr)} {
		if res, _, errs := run(t, r, tk); res.Status != task.Finished {
			t.Fatalf("%s: %s %s\n%s", tk.AttemptID, res.Status, res.ErrorMessage, errs)
		}
	}
	read := func(tool string) string {
		return strings.ReplaceAll(strings.TrimSpace(readFile(t, logs[tool])), "\n", " ")
	}
	adir := func(id string) string { return filepath.Join(r.opts.Root, "work", "worker", safeName(id)) }
	if got, want := read("pig"), "-param column1=First -param input1=s3://b/in -param output1=s3://b/out -param three=3 -f "+filepath.Join(adir("@Pig_Attempt=1"), "script-p.pig"); got != want {
		t.Errorf("pig args:\n %s\nwant\n %s", got, want)
	}
	if got, want := read("hive"), "-f "+filepath.Join(adir("@Hive_Attempt=1"), "script.q")+" -d A=1"; got != want {
		t.Errorf("hive args:\n %s\nwant\n %s", got, want)
	}
	if got, want := read("spark-submit"), "--deploy-mode cluster s3://b/app.py x"; got != want {
		t.Errorf("spark-submit args: %s, want %s", got, want)
	}
	if got, want := read("hadoop"), "jar "+filepath.Join(adir("@Emr_Attempt=1"), "script-wc.jar")+" org.example.WordCount in out"; got != want {
		t.Errorf("hadoop args:\n %s\nwant\n %s", got, want)
	}
}

func TestHostToolMissingNamesToolAndFlag(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r, _ := newRunner(t)
	r.opts.EMR = hosttools.Host
	for _, tk := range []*task.Task{
		newTask(obj("@Pig_Attempt=1", "type", "PigActivity", "pigScript", "x")),
		newTask(obj("@Hive_Attempt=1", "type", "HiveActivity", "hiveScript", "SELECT 1;", "stage", "false")),
	} {
		res, _, _ := run(t, r, tk)
		if res.Status != task.Failed || !task.Permanent(res.ErrorID) || !strings.Contains(res.ErrorMessage, "--emr host") {
			t.Errorf("%s: %s %s %q", tk.AttemptID, res.Status, res.ErrorID, res.ErrorMessage)
		}
	}
	res, _, _ := run(t, r, newTask(obj("@Pig_Attempt=2", "type", "PigActivity", "pigScript", "x")))
	if !strings.Contains(res.ErrorMessage, "needs pig") || !strings.Contains(res.ErrorMessage, "DPL_PIG") {
		t.Errorf("message %q does not name pig and DPL_PIG", res.ErrorMessage)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// In host mode a staged HiveActivity hands hive its staging DDL first.
func TestHiveActivityHostModeStagesTablesInScript(t *testing.T) {
	bin := t.TempDir()
	recordingStandIn(t, bin, "hive")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	r, _ := newRunner(t)
	r.opts.EMR = hosttools.Auto
	tsv := obj("TsvFmt", "type", "TSV", "column", "k STRING")
	in := obj("@In_1", "type", "S3DataNode", "directoryPath", "s3://b/in", "dataFormat", "ref:TsvFmt")
	a := obj("@Hive_Attempt=1", "type", "HiveActivity", "input", "ref:@In_1", "hiveScript", "SELECT * FROM ${input1};")
	if res, _, errs := run(t, r, newTask(a, in, tsv)); res.Status != task.Finished {
		t.Fatalf("%s %s\n%s", res.Status, res.ErrorMessage, errs)
	}
	script := readFile(t, filepath.Join(r.opts.Root, "work", "worker", safeName(a.ID), "script.q"))
	if want := "CREATE EXTERNAL TABLE input1 (`k` STRING)\nROW FORMAT DELIMITED FIELDS TERMINATED BY '\t' LOCATION 's3://b/in';\nSELECT * FROM ${input1};"; script != want {
		t.Errorf("script =\n%s\nwant\n%s", script, want)
	}
}

// A Hive step whose script is outside the subset fails without retries.
func TestEmrActivityHiveStepBadScriptIsPermanent(t *testing.T) {
	r, st := newRunner(t)
	r.opts.EMR = hosttools.Embedded
	putObj(t, st, "s3://b/scripts/bad.q", "SET a=1;\nCREATE TABLE t (a STRING) STORED AS ORC;\n")
	res, _, _ := run(t, r, newTask(obj("@E_Attempt=1", "type", "EmrActivity", "step", "command-runner.jar,hive-script,--run-hive-script,--args,-f,s3://b/scripts/bad.q")))
	if res.Status != task.Failed || !task.Permanent(res.ErrorID) || !strings.Contains(res.ErrorMessage, "line 2") || !strings.Contains(res.ErrorMessage, "STORED AS ORC") {
		t.Errorf("got %s %s %q", res.Status, res.ErrorID, res.ErrorMessage)
	}
}

// Without hive, host mode runs Hive scripts with beeline against the
// HiveServer2 URL of --beeline-url (Options.BeelineURL), else of
// $DPL_BEELINE_URL; variables go as --hivevar (beeline's -d is its driver).
func TestHiveFallsBackToBeelineRecordingStandIn(t *testing.T) {
	bin := t.TempDir()
	log := recordingStandIn(t, bin, "beeline")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("DPL_HIVE", filepath.Join(bin, "no-hive")) // no hive, whatever the machine has
	t.Setenv(hosttools.BeelineURLEnv, "jdbc:hive2://from-env:10000/default")
	r, st := newRunner(t)
	r.opts.EMR = hosttools.Host
	r.opts.BeelineURL = "jdbc:hive2://edge.example:10000/analytics"
	putObj(t, st, "s3://b/scripts/q.hql", "SELECT 1;")
	hive := obj("@Hive_Attempt=1", "type", "HiveActivity", "hiveScript", "SELECT '${A}';", "scriptVariable", "A=1", "stage", "false")
	res, _, errs := run(t, r, newTask(hive))
	if res.Status != task.Finished {
		t.Fatalf("%s %s\n%s", res.Status, res.ErrorMessage, errs)
	}
	if !strings.Contains(errs, "hive is not installed; running the script with beeline") {
		t.Errorf("stderr does not say beeline stands in for hive:\n%s", errs)
	}
	adir := func(id string) string { return filepath.Join(r.opts.Root, "work", "worker", safeName(id)) }
	want := "-u jdbc:hive2://edge.example:10000/analytics -f " + filepath.Join(adir("@Hive_Attempt=1"), "script.q") + " --hivevar A=1"
	if got := strings.ReplaceAll(strings.TrimSpace(readFile(t, log)), "\n", " "); got != want {
		t.Errorf("beeline args:\n %s\nwant\n %s", got, want)
	}

	// An EmrActivity hive step, the URL from the environment, -hiveconf kept.
	os.Remove(log)
	r.opts.BeelineURL = ""
	emr := obj("@Emr_Attempt=1", "type", "EmrActivity", "step", "command-runner.jar,hive-script,--run-hive-script,--args,-f,s3://b/scripts/q.hql,-d,OUT=s3://b/o,-hiveconf,hive.exec.compress.output=true")
	if res, _, errs := run(t, r, newTask(emr)); res.Status != task.Finished {
		t.Fatalf("%s %s\n%s", res.Status, res.ErrorMessage, errs)
	}
	want = "-u jdbc:hive2://from-env:10000/default -f " + filepath.Join(adir("@Emr_Attempt=1"), "script.q") + " --hivevar OUT=s3://b/o --hiveconf hive.exec.compress.output=true"
	if got := strings.ReplaceAll(strings.TrimSpace(readFile(t, log)), "\n", " "); got != want {
		t.Errorf("beeline args:\n %s\nwant\n %s", got, want)
	}

	// Neither hive nor beeline: the message names both and the URL flag.
	t.Setenv("DPL_BEELINE", filepath.Join(bin, "no-beeline"))
	res, _, _ = run(t, r, newTask(obj("@Hive_Attempt=2", "type", "HiveActivity", "hiveScript", "SELECT 1;", "stage", "false")))
	if res.Status != task.Failed || !task.Permanent(res.ErrorID) {
		t.Fatalf("without hive and beeline: %s %s", res.Status, res.ErrorID)
	}
	for _, s := range []string{"needs hive", "or beeline", "--beeline-url", "DPL_BEELINE_URL", "DPL_HIVE"} {
		if !strings.Contains(res.ErrorMessage, s) {
			t.Errorf("message %q does not mention %s", res.ErrorMessage, s)
		}
	}
}

// Staged RegEx input (RegexSerDe, every column STRING) into a
// DynamoDBExportDataFormat output on S3, read back by a second staged
// activity into a Custom-delimited output: both formats round-trip.
func TestHiveActivityStagedRegExAndDynamoDBExportFormats(t *testing.T) {
	r, st := newRunner(t)
	r.opts.EMR = hosttools.Embedded
	putObj(t, st, "s3://b/log/access.log", "10.0.0.1 GET /a 200\nnot a log line\n10.0.0.2 POST /b 500\n")
	re := obj("ReFmt", "type", "RegEx", "inputRegEx", `([^ ]*) ([A-Z]+) ([^ ]*) ([0-9]+)`, "column", "ip STRING")
	for _, c := range []string{"method STRING", "path STRING", "status INT"} {
		re.Fields = append(re.Fields, task.Field{Key: "column", StringValue: ptr(c)})
	}
	ddb := obj("DdbFmt", "type", "DynamoDBExportDataFormat", "column", "ip STRING")
	ddb.Fields = append(ddb.Fields, task.Field{Key: "column", StringValue: ptr("status BIGINT")})
	pipe := obj("PipeFmt", "type", "Custom", "columnSeparator", "|", "column", "ip STRING")
	pipe.Fields = append(pipe.Fields, task.Field{Key: "column", StringValue: ptr("status BIGINT")})
	logs := obj("@Logs_1", "type", "S3DataNode", "directoryPath", "s3://b/log", "dataFormat", "ref:ReFmt")
	export := obj("@Export_1", "type", "S3DataNode", "directoryPath", "s3://b/export/", "dataFormat", "ref:DdbFmt")
	final := obj("@Final_1", "type", "S3DataNode", "directoryPath", "s3://b/final", "dataFormat", "ref:PipeFmt")
	a := obj("@ToExport_Attempt=1", "type", "HiveActivity", "input", "ref:@Logs_1", "output", "ref:@Export_1",
		"hiveScript", "INSERT OVERWRITE TABLE ${output1} SELECT ip, cast(status AS BIGINT) FROM ${input1} WHERE ip IS NOT NULL ORDER BY ip;")
	if res, _, errs := run(t, r, newTask(a, logs, export, re, ddb)); res.Status != task.Finished {
		t.Fatalf("%s %s %s\n%s", res.Status, res.ErrorID, res.ErrorMessage, errs)
	}
	exported := getObj(t, st, "s3://b/export/000000_0")
	if lines := strings.Split(strings.TrimSpace(exported), "\n"); len(lines) != 2 || !strings.Contains(lines[0], `10.0.0.1`) || !strings.Contains(lines[1], `500`) {
		t.Fatalf("export = %q, want two DynamoDB export items", exported)
	}
	b := obj("@FromExport_Attempt=1", "type", "HiveActivity", "input", "ref:@Export_1", "output", "ref:@Final_1",
		"hiveScript", "INSERT OVERWRITE TABLE ${output1} SELECT ip, status FROM ${input1} ORDER BY ip;")
	if res, _, errs := run(t, r, newTask(b, export, final, ddb, pipe)); res.Status != task.Finished {
		t.Fatalf("%s %s %s\n%s", res.Status, res.ErrorID, res.ErrorMessage, errs)
	}
	if got, want := getObj(t, st, "s3://b/final/000000_0"), "10.0.0.1|200\n10.0.0.2|500\n"; got != want {
		t.Errorf("final = %q, want %q (export was %q)", got, want, exported)
	}
}
