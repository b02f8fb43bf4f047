package emr_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/emr"
	"github.com/dpl-dev/dpl/executor/task"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// obj builds a task object from key/value pairs; a value starting with
// "ref:" is a reference.
func obj(id string, kv ...string) *task.Object {
	o := &task.Object{ID: id, Name: id}
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if r, ok := strings.CutPrefix(v, "ref:"); ok {
			o.Fields = append(o.Fields, task.Field{Key: k, RefValue: &r})
			continue
		}
		o.Fields = append(o.Fields, task.Field{Key: k, StringValue: &v})
	}
	return o
}

func spec(objs ...*task.Object) provider.Spec {
	m := map[string]*task.Object{}
	for _, o := range objs {
		m[o.ID] = o
	}
	return provider.Spec{PipelineID: "df-UNIT", Activation: 1, Object: "Big", InstanceID: objs[0].ID, Type: "EmrCluster", Objects: m}
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", p, got)
	}
}

const inst = "@Big_2024-01-01T00:00:00"

func TestRunJobFlowRequestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		objs []*task.Object
	}{
		{"release_full", []*task.Object{
			obj(inst, "@componentParent", "ref:Big", "releaseLabel", "emr-6.15.0", "applications", "Spark", "applications", "Hive",
				"role", "MyService", "resourceRole", "MyInstanceProfile", "emrLogUri", "s3://logs/emr",
				"configuration", "ref:HadoopEnv", "masterInstanceType", "m5.2xlarge", "masterInstanceBidPrice", "OnDemandPrice",
				"coreInstanceType", "r5.xlarge", "coreInstanceCount", "4", "coreInstanceBidPrice", "0.5",
				"coreGroupConfiguration", "ref:YarnSite", "coreEbsConfiguration", "ref:Disks",
				"taskInstanceCount", "3", "taskInstanceType", "c5.4xlarge", "taskEbsConfiguration", "ref:Disks",
				"bootstrapAction", `s3://b/setup.sh,one,two\,three`, "bootstrapAction", "s3://b/other.sh",
				"availabilityZone", "us-east-1a", "serviceAccessSecurityGroupId", "sg-svc",
				"enableDebugging", "true", "region", "us-east-1"),
			obj("HadoopEnv", "classification", "hadoop-env", "configuration", "ref:Export"),
			obj("Export", "classification", "export", "property", "ref:JavaHome"),
			obj("JavaHome", "key", "JAVA_HOME", "value", "/usr/lib/jvm/java-1.8.0"),
			obj("YarnSite", "classification", "yarn-site", "property", "ref:Vmem"),
			obj("Vmem", "key", "yarn.nodemanager.vmem-check-enabled", "value", "false"),
			obj("Disks", "ebsOptimized", "true", "ebsBlockDeviceConfig", "ref:Two"),
			obj("Two", "volumesPerInstance", "2", "volumeSpecification", "ref:Io1"),
			obj("Io1", "volumeType", "io1", "sizeInGB", "500", "iops", "4000"),
		}},
		{"ami_defaults", []*task.Object{
			obj(inst, "@componentParent", "ref:Big", "amiVersion", "3.11.0", "pipelineLogUri", "s3://logs/", "enableDebugging", "true", "region", "eu-west-1"),
		}},
		// hadoopSchedulerType on a release-label cluster: the scheduler
		// class joins the definition's own yarn-site configuration.
		{"release_fair_scheduler", []*task.Object{
			obj(inst, "@componentParent", "ref:Big", "releaseLabel", "emr-6.15.0", "hadoopSchedulerType", "parallel_fair_scheduling",
				"configuration", "ref:YarnSite"),
			obj("YarnSite", "classification", "yarn-site", "property", "ref:Vmem"),
			obj("Vmem", "key", "yarn.nodemanager.vmem-check-enabled", "value", "false"),
		}},
		// ... without one, a yarn-site configuration is added.
		{"release_capacity_scheduler", []*task.Object{
			obj(inst, "@componentParent", "ref:Big", "hadoopSchedulerType", "PARALLEL_CAPACITY_SCHEDULING"),
		}},
		// On an AMI cluster: EMR's configure-hadoop bootstrap action runs
		// first; installHive becomes the Install Hive step.
		{"ami_scheduler_install_hive", []*task.Object{
			obj(inst, "@componentParent", "ref:Big", "amiVersion", "3.11.0", "hadoopSchedulerType", "PARALLEL_FAIR_SCHEDULING",
				"installHive", "0.13.1", "bootstrapAction", "s3://b/setup.sh,x", "region", "eu-west-1"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := emr.RunJobFlowRequest(spec(tc.objs...))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "runjobflow_"+tc.name+".json", in)
		})
	}
}

func TestRunJobFlowRequestFieldErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		objs        []*task.Object
		object, fld string
		msg         string
	}{
		{"both versions", []*task.Object{obj(inst, "@componentParent", "ref:Big", "amiVersion", "3.11.0", "releaseLabel", "emr-6.15.0")},
			"Big", "amiVersion", "not both"},
		{"applications on AMI", []*task.Object{obj(inst, "@componentParent", "ref:Big", "amiVersion", "3.11.0", "applications", "spark")},
			"Big", "applications", "releaseLabel"},
		{"bad count", []*task.Object{obj(inst, "@componentParent", "ref:Big", "coreInstanceCount", "two")},
			"Big", "coreInstanceCount", `"two" is not a count`},
		{"bid price out of range", []*task.Object{obj(inst, "@componentParent", "ref:Big", "taskInstanceCount", "1", "taskInstanceBidPrice", "25")},
			"Big", "taskInstanceBidPrice", "below 20.00"},
		{"core bid without count", []*task.Object{obj(inst, "@componentParent", "ref:Big", "coreInstanceBidPrice", "0.3")},
			"Big", "coreInstanceBidPrice", "needs coreInstanceCount"},
		{"configuration without classification", []*task.Object{obj(inst, "@componentParent", "ref:Big", "configuration", "ref:Conf"), obj("Conf", "property", "ref:P")},
			"Conf", "classification", "needs a classification"},
		{"property without key", []*task.Object{obj(inst, "@componentParent", "ref:Big", "configuration", "ref:Conf"), obj("Conf", "classification", "x", "property", "ref:P"), obj("P", "value", "1")},
			"P", "key", "needs a key"},
		{"volume without size", []*task.Object{obj(inst, "@componentParent", "ref:Big", "coreEbsConfiguration", "ref:E"), obj("E", "ebsBlockDeviceConfig", "ref:B"), obj("B", "volumeSpecification", "ref:V"), obj("V", "volumeType", "gp3")},
			"V", "sizeInGB", "needs sizeInGB"},
		{"debugging without logs", []*task.Object{obj(inst, "@componentParent", "ref:Big", "enableDebugging", "true")},
			"Big", "enableDebugging", "pipelineLogUri"},
		{"unknown scheduler", []*task.Object{obj(inst, "@componentParent", "ref:Big", "hadoopSchedulerType", "FIFO")},
			"Big", "hadoopSchedulerType", "want PARALLEL_FAIR_SCHEDULING"},
		{"scheduler on Hadoop 1", []*task.Object{obj(inst, "@componentParent", "ref:Big", "amiVersion", "2.4.11", "hadoopSchedulerType", "PARALLEL_FAIR_SCHEDULING")},
			"Big", "hadoopSchedulerType", "Hadoop 1"},
		{"subnet and zone", []*task.Object{obj(inst, "@componentParent", "ref:Big", "subnetId", "subnet-1", "availabilityZone", "us-east-1a")},
			"Big", "availabilityZone", "not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emr.RunJobFlowRequest(spec(tc.objs...))
			var fe *emr.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a FieldError", err)
			}
			if fe.Object != tc.object || fe.Field != tc.fld || !strings.Contains(fe.Message, tc.msg) {
				t.Errorf("got %s.%s %q, want %s.%s containing %q", fe.Object, fe.Field, fe.Message, tc.object, tc.fld, tc.msg)
			}
		})
	}
}

// stepTask is a task whose attempt is objs[0].
func stepTask(objs ...*task.Object) *task.Task {
	t := &task.Task{TaskID: "t1", PipelineID: "df-UNIT", AttemptID: objs[0].ID, Objects: map[string]*task.Object{}}
	for _, o := range objs {
		t.Objects[o.ID] = o
	}
	return t
}

const att = "@A_2024-01-01T00:00:00_Attempt=1"

func TestStepsGolden(t *testing.T) {
	store, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, _ := store.Create(context.Background(), "s3://b/scripts/report.q")
	w.Write([]byte("SELECT COUNT(*) FROM ${input1};\n"))
	w.Close()
	csv := obj("Fmt", "type", "CSV", "column", "id INT", "column", "name STRING")
	ddbFmt := obj("DFmt", "type", "DynamoDBExportDataFormat", "column", "id BIGINT", "column", "name STRING")
	in := obj("In", "type", "S3DataNode", "directoryPath", "s3://b/in/", "dataFormat", "ref:Fmt")
	out := obj("Out", "type", "S3DataNode", "directoryPath", "s3://b/out/", "dataFormat", "ref:Fmt")
	table := obj("Table", "type", "DynamoDBDataNode", "tableName", "Users", "dataFormat", "ref:DFmt")
	export := obj("Export", "type", "S3DataNode", "directoryPath", "s3://b/export/", "dataFormat", "ref:DFmt")
	pre := obj("Pre", "type", "ShellScriptConfig", "scriptUri", "s3://b/pre.sh", "scriptArgument", "x")
	staging := emr.Staging{Store: store, Prefix: "s3://logs/j-1/dpl-staging/A/"}
	for _, tc := range []struct {
		name    string
		release bool
		objs    []*task.Object
	}{
		{"emractivity", true, []*task.Object{obj(att, "type", "EmrActivity", "@componentParent", "ref:A", "@attempt", "1",
			"preStepCommand", "aws s3 ls s3://b/", "step", `s3://b/tool.jar,com.example.Main,a\\,b,--x`,
			"step", "command-runner.jar,spark-submit,s3://b/job.py", "postStepCommand", "echo done")}},
		{"hive_release_scripturi_staged", true, []*task.Object{obj(att, "type", "HiveActivity", "@componentParent", "ref:A", "@attempt", "1",
			"scriptUri", "s3://b/scripts/report.q", "input", "ref:In", "output", "ref:Out", "scriptVariable", "X=1",
			"preActivityTaskConfig", "ref:Pre"), in, out, csv, pre}},
		{"hive_ami_unstaged", false, []*task.Object{obj(att, "type", "HiveActivity", "@componentParent", "ref:A", "@attempt", "2",
			"scriptUri", "s3://b/scripts/report.q", "stage", "false", "hadoopQueue", "q1")}},
		{"hivecopy", true, []*task.Object{obj(att, "type", "HiveCopyActivity", "@componentParent", "ref:A", "@attempt", "1",
			"input", "ref:Table", "output", "ref:Export", "filterSql", "id > 10"), table, export, ddbFmt}},
		{"pig_release", true, []*task.Object{obj(att, "type", "PigActivity", "@componentParent", "ref:A", "@attempt", "1",
			"script", "A = LOAD '$input1';\nSTORE A INTO '$output1';", "input", "ref:In", "output", "ref:Out", "scriptVariable", "DAY=1"), in, out, csv}},
		{"pig_ami", false, []*task.Object{obj(att, "type", "PigActivity", "@componentParent", "ref:A", "@attempt", "1",
			"scriptUri", "s3://b/p.pig", "stage", "false")}},
		{"hadoop", true, []*task.Object{obj(att, "type", "HadoopActivity", "@componentParent", "ref:A", "@attempt", "1",
			"jarUri", "s3://b/wc.jar", "mainClass", "org.example.WordCount", "argument", "s3://b/in/", "argument", "s3://b/out/",
			"hadoopQueue", "etl", "postActivityTaskConfig", "ref:Pre"), pre}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, uploads, err := emr.Steps(context.Background(), stepTask(tc.objs...), tc.release, "us-west-2", staging)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "steps_"+tc.name+".json", map[string]any{"steps": steps, "uploads": uploads})
		})
	}
}

func TestStepsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		objs []*task.Object
		want string
	}{
		{"no step", []*task.Object{obj(att, "type", "EmrActivity")}, "needs at least one step"},
		{"empty jar", []*task.Object{obj(att, "type", "EmrActivity", "step", ",a")}, "has no jar"},
		{"hive both", []*task.Object{obj(att, "type", "HiveActivity", "hiveScript", "x", "scriptUri", "s3://b/q")}, "not both"},
		{"hive none", []*task.Object{obj(att, "type", "HiveActivity")}, "needs hiveScript or scriptUri"},
		{"hive no log location", []*task.Object{obj(att, "type", "HiveActivity", "hiveScript", "SELECT 1;", "stage", "false")}, "set pipelineLogUri"},
		{"bad variable", []*task.Object{obj(att, "type", "HiveActivity", "hiveScript", "x", "scriptVariable", "NOEQUALS")}, "want NAME=VALUE"},
		{"hadoop no jar", []*task.Object{obj(att, "type", "HadoopActivity")}, "needs jarUri"},
		{"shell on emr", []*task.Object{obj(att, "type", "ShellCommandActivity")}, "does not run on an EmrCluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := emr.Steps(context.Background(), stepTask(tc.objs...), true, "", emr.Staging{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// An offline plan gives the provider Values, not Objects: the request is
// the same.
func TestRunJobFlowRequestFromValuesIsTheSame(t *testing.T) {
	objs := []*task.Object{
		obj(inst, "releaseLabel", "emr-6.15.0", "configuration", "ref:Conf", "coreEbsConfiguration", "ref:Disks", "bootstrapAction", "s3://b/x.sh,1"),
		obj("Conf", "classification", "spark", "property", "ref:P", "configuration", "ref:Inner"),
		obj("Inner", "classification", "inner", "property", "ref:P"),
		obj("P", "key", "k", "value", "v"),
		obj("Disks", "ebsBlockDeviceConfig", "ref:B"), obj("B", "volumeSpecification", "ref:V"), obj("V", "volumeType", "gp3", "sizeInGB", "10"),
	}
	withObjects := spec(objs...)
	viaValues := withObjects
	viaValues.Objects = nil
	viaValues.Values = func(id, key string) []string {
		o := withObjects.Objects[id]
		if id == "" {
			o = withObjects.Objects[inst]
		}
		if o == nil {
			return nil
		}
		if r := o.Refs(key); len(r) > 0 {
			return r
		}
		return o.All(key)
	}
	a, err := emr.RunJobFlowRequest(withObjects)
	if err != nil {
		t.Fatal(err)
	}
	b, err := emr.RunJobFlowRequest(viaValues)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("from Values:\n%s\nfrom Objects:\n%s", jb, ja)
	}
}

// A definition's own scheduler class in yarn-site wins over
// hadoopSchedulerType; DEFAULT_SCHEDULER sends nothing.
func TestHadoopSchedulerTypeYieldsToTheDefinition(t *testing.T) {
	const own = "my.Scheduler"
	in, err := emr.RunJobFlowRequest(spec(
		obj(inst, "@componentParent", "ref:Big", "hadoopSchedulerType", "PARALLEL_FAIR_SCHEDULING", "configuration", "ref:Y"),
		obj("Y", "classification", "yarn-site", "property", "ref:P"),
		obj("P", "key", "yarn.resourcemanager.scheduler.class", "value", own)))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Configurations) != 1 || in.Configurations[0].Properties["yarn.resourcemanager.scheduler.class"] != own {
		t.Errorf("configurations %+v, want only the definition's yarn-site with %s", in.Configurations, own)
	}
	in, err = emr.RunJobFlowRequest(spec(obj(inst, "@componentParent", "ref:Big", "hadoopSchedulerType", "DEFAULT_SCHEDULER")))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Configurations) != 0 || len(in.BootstrapActions) != 0 {
		t.Errorf("DEFAULT_SCHEDULER sent %+v %+v, want nothing", in.Configurations, in.BootstrapActions)
	}
}

// useOnDemandOnLastAttempt: the last start (Failures == MaximumRetries)
// puts every group on demand; earlier starts bid.
func TestUseOnDemandOnLastAttempt(t *testing.T) {
	s := spec(obj(inst, "@componentParent", "ref:Big", "coreInstanceCount", "2", "coreInstanceBidPrice", "0.5",
		"taskInstanceCount", "1", "taskInstanceBidPrice", "OnDemandPrice", "useOnDemandOnLastAttempt", "true"))
	s.MaximumRetries = 2
	for _, tc := range []struct {
		failures int
		market   string
	}{{0, "SPOT"}, {1, "SPOT"}, {2, "ON_DEMAND"}} {
		s.Failures = tc.failures
		in, err := emr.RunJobFlowRequest(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range in.Instances.InstanceGroups[1:] {
			if string(g.Market) != tc.market || (tc.market == "ON_DEMAND" && g.BidPrice != nil) {
				t.Errorf("start after %d failures: %s group %s bid %v, want %s", tc.failures, *g.Name, g.Market, g.BidPrice, tc.market)
			}
		}
	}
}

// Unsupported names the fields the request leaves out, with why.
func TestUnsupportedFields(t *testing.T) {
	for _, tc := range []struct {
		name string
		objs []*task.Object
		want []string // field: message part
	}{
		{"none", []*task.Object{obj(inst, "@componentParent", "ref:Big", "releaseLabel", "emr-6.15.0", "hadoopSchedulerType", "PARALLEL_FAIR_SCHEDULING")}, nil},
		{"httpProxy", []*task.Object{obj(inst, "@componentParent", "ref:Big", "httpProxy", "ref:Proxy"), obj("Proxy", "hostname", "proxy", "port", "3128")},
			[]string{"httpProxy: not supported on EMR"}},
		{"installHive on a release", []*task.Object{obj(inst, "@componentParent", "ref:Big", "installHive", "latest")},
			[]string{"installHive: ignored on a releaseLabel cluster"}},
		{"installHive on AMI is sent", []*task.Object{obj(inst, "@componentParent", "ref:Big", "amiVersion", "3.11.0", "installHive", "latest")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := emr.Unsupported(spec(tc.objs...))
			if len(got) != len(tc.want) {
				t.Fatalf("unsupported %v, want %v", got, tc.want)
			}
			for i, w := range tc.want {
				field, msg, _ := strings.Cut(w, ": ")
				if got[i].Object != "Big" || got[i].Field != field || !strings.Contains(got[i].Message, msg) {
					t.Errorf("got %v, want %s", got[i], w)
				}
			}
		})
	}
}
