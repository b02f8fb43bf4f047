package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsemr "github.com/aws/aws-sdk-go-v2/service/emr"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emr/types"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/provider/emr"
)

// `dpl run --resources aws` on moto: the EmrCluster becomes a cluster, the
// EmrActivity's step is submitted to it, and Ctrl-C ends the run with the
// cluster terminated (moto never runs a step, so the run would wait for
// it forever: SIGINT is the way out, and what this test is about).
func TestEmrClusterOnMotoIsTerminatedOnInterrupt(t *testing.T) {
	r := newAWSRig(t)
	bucket := r.bucket(t)
	dir := t.TempDir()
	def := filepath.Join(dir, "emr-interrupt.json")
	src := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","pipelineLogUri":"s3://` + bucket + `/logs/"},
 {"id":"MyCluster","name":"MyCluster","type":"EmrCluster","releaseLabel":"emr-6.15.0","coreInstanceCount":"1"},
 {"id":"Work","name":"Work","type":"EmrActivity","runsOn":{"ref":"MyCluster"},
  "step":"command-runner.jar,spark-submit,s3://` + bucket + `/job.py"}]}`
	if err := os.WriteFile(def, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// No --serve: only runners on EC2 poll the run's API; EMR's steps are
	// submitted by dpl itself.
	cmd := exec.Command(dplBinary(t), "run", "--headless", "--backend", "aws", "--aws-endpoint", r.srv.Endpoint,
		"--resources", "aws", "--state-dir", filepath.Join(dir, "state"), "--output", "jsonl", def)
	cmd.Env = awsChildEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()

	client := awsemr.NewFromConfig(r.env.Config())
	pipeline := executor.PipelineIDFor(def)
	var clusterID string
	deadline := time.Now().Add(90 * time.Second)
	for clusterID == "" || !stepSubmitted(t, client, clusterID) {
		if time.Now().After(deadline) {
			t.Fatalf("no cluster with a step for %s after 90s; stderr:\n%s", pipeline, errb.String())
		}
		select {
		case err := <-exited:
			t.Fatalf("dpl exited before Ctrl-C: %v\n%s", err, errb.String())
		case <-time.After(200 * time.Millisecond):
		}
		owned, err := emr.ListOwned(context.Background(), client, map[string]string{emr.TagPipeline: pipeline})
		if err != nil {
			t.Fatal(err)
		}
		if len(owned) == 1 {
			clusterID = owned[0].ID
		}
	}
	steps, _ := client.ListSteps(context.Background(), &awsemr.ListStepsInput{ClusterId: aws.String(clusterID)})
	if got := steps.Steps[0].Config; aws.ToString(got.Jar) != "command-runner.jar" || strings.Join(got.Args, " ") != "spark-submit s3://"+bucket+"/job.py" {
		t.Errorf("step moto received: %s %v", aws.ToString(got.Jar), got.Args)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if code := exitCode(err); code == 0 {
			t.Errorf("dpl exited 0 after Ctrl-C, want the interrupted status")
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("dpl still running 90s after Ctrl-C; stderr:\n%s", errb.String())
	}
	d, err := client.DescribeCluster(context.Background(), &awsemr.DescribeClusterInput{ClusterId: aws.String(clusterID)})
	if err != nil {
		t.Fatal(err)
	}
	if st := d.Cluster.Status.State; st != emrtypes.ClusterStateTerminated && st != emrtypes.ClusterStateTerminating {
		t.Errorf("cluster %s is %s after Ctrl-C, want terminated; stderr:\n%s", clusterID, st, errb.String())
	}
	t.Logf("stderr:\n%s", errb.String())
}

func stepSubmitted(t *testing.T, client *awsemr.Client, id string) bool {
	t.Helper()
	out, err := client.ListSteps(context.Background(), &awsemr.ListStepsInput{ClusterId: aws.String(id)})
	return err == nil && len(out.Steps) > 0
}
