package emr_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
