package emr_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	"github.com/dpl-dev/dpl/executor/schedule"
)

// `dpl plan --resources aws` (awsprov.Plan) shows the RunJobFlow request
// of an EmrCluster offline, built from Spec.Values: parameters expanded,
// referenced configurations and EBS objects followed.
func TestPlanShowsTheRunJobFlowRequest(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "emr_hive.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := definition.Parse("emr_hive.json", src)
	if err != nil {
		t.Fatal(err)
	}
	planned, _, err := awsprov.Plan(d, awsprov.PlanOptions{PipelineID: "df-PLAN", Routing: awsprov.Routing{All: true},
		Schedule: schedule.Request{Params: schedule.Params{"myBucket": {"plan-bucket"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(planned) != 1 || planned[0].Type != "EmrCluster" || len(planned[0].Requests) != 1 || planned[0].Requests[0].API != "RunJobFlow" {
		t.Fatalf("planned %+v, want one RunJobFlow", planned)
	}
	b, _ := json.Marshal(planned[0].Requests[0].Input)
	got := string(b)
	for _, want := range []string{
		`"ReleaseLabel":"emr-6.15.0"`,
		`"Classification":"spark-defaults","Properties":{"spark.executor.memory":"6g"}`,
		`"Classification":"hadoop-env","Configurations":[{"Classification":"export","Properties":{"JAVA_HOME":"/usr/lib/jvm/java-1.8.0"}}]`,
		`"InstanceCount":2,"InstanceRole":"CORE","InstanceType":"r5.2xlarge"`,
		`"VolumeSpecification":{"Iops":3000,"SizeInGB":200,"VolumeType":"gp3"},"VolumesPerInstance":2`,
		`"BidPrice":"0.35"`,
		`"ScriptBootstrapAction":{"Args":["--with","a,b"],"Path":"s3://plan-bucket/bootstrap/install.sh"}`,
		`"LogUri":"s3://plan-bucket/logs/df-PLAN/MyCluster/`,
		`{"Key":"dpl:object","Value":"MyCluster"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("planned RunJobFlow lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "null") {
		t.Errorf("planned request shows unset fields as null:\n%s", got)
	}
}

// `dpl plan --resources aws` shows, under each EmrCluster instance, the
// uploads and AddJobFlowSteps request of every activity instance on it,
// rendered by Steps as the run renders them (secret parameters masked);
// the golden file is the text plan of a two-day schedule.
func TestPlanShowsEachActivitysSteps(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "plan_steps.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := definition.Parse("plan_steps.json", src)
	if err != nil {
		t.Fatal(err)
	}
	planned, _, err := awsprov.Plan(d, awsprov.PlanOptions{PipelineID: "df-PLAN", Routing: awsprov.Routing{All: true},
		Schedule: schedule.Request{Now: time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(planned) != 2 {
		t.Fatalf("planned %d resource instances, want the cluster's 2 days", len(planned))
	}
	for _, pr := range planned {
		if len(pr.Activities) != 5 {
			t.Errorf("%s: %d activity instances planned on it, want 5 (Prepare, Sum, Fetch, Count, Squash)", pr.Instance, len(pr.Activities))
		}
		for _, pa := range pr.Activities {
			if !strings.HasPrefix(pa.Instance, "@"+pa.Object+"_") || !strings.HasSuffix(pa.Instance, strings.TrimPrefix(pr.Instance, "@Cluster")) {
				t.Errorf("%s planned on %s: not the same day", pa.Instance, pr.Instance)
			}
		}
	}
	var buf bytes.Buffer
	if err := awsprov.WritePlan(&buf, planned, false); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	if strings.Contains(got, "s3cr3t") {
		t.Errorf("the plan shows the secret parameter's value:\n%s", got)
	}
	p := filepath.Join("testdata", "plan_steps.golden")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("the plan differs from %s (go test -run %s -update rewrites it):\n%s", p, t.Name(), got)
	}
}
