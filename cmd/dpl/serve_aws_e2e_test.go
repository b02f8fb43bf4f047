package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	dptypes "github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dpl-dev/dpl/executor/remote"
)

// Keys of the credentials file the served API accepts in these tests.
const (
	serveTestKeyID  = "AKIDSERVEAWSTEST0001"
	serveTestSecret = "serve-aws-test-secret-key-0000000000000"
)

// awsServe is a `dpl serve --resources aws` child against moto and a
// Data Pipeline client signed for it.
type awsServe struct {
	cmd    *exec.Cmd
	waited chan error
	out    *lockedBuffer
	url    string
	dp     *datapipeline.Client
	ec2    *ec2.Client
}

// startAWSServe starts dpl serve with resources on AWS (moto) and waits
// for its listening line.
func startAWSServe(t *testing.T, rig *awsRig, state string, extra ...string) *awsServe {
	t.Helper()
	bin := dplBinary(t)
	creds := writeFile(t, t.TempDir(), "credentials",
		fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", serveTestKeyID, serveTestSecret))
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--state-dir", state, "--credentials", creds,
		"--resources", "aws", "--aws-endpoint", rig.srv.Endpoint, "--default-ami", "ami-12c6146b",
		"--retry-delay", "1s", "--poll-timeout", "2s"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = awsChildEnv()
	s := &awsServe{cmd: cmd, waited: make(chan error, 1), out: &lockedBuffer{}, ec2: ec2.NewFromConfig(rig.env.ConfigFor("us-east-1"))}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listen := regexp.MustCompile(`listening on (http://\S+)`)
	sc := bufio.NewScanner(stderr)
	for s.url == "" && sc.Scan() {
		_, _ = s.out.Write([]byte(sc.Text() + "\n"))
		if m := listen.FindStringSubmatch(sc.Text()); m != nil {
			s.url = m[1]
		}
	}
	go func() {
		for sc.Scan() {
			_, _ = s.out.Write([]byte(sc.Text() + "\n"))
		}
		s.waited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	if s.url == "" {
		t.Fatalf("dpl serve did not say where it listens:\n%s", s.out.String())
	}
	c, err := remote.Dial(context.Background(), remote.ClientOptions{Endpoint: s.url,
		Credentials: credentials.NewStaticCredentialsProvider(serveTestKeyID, serveTestSecret, "")})
	if err != nil {
		t.Fatal(err)
	}
	s.dp = c.DP
	return s
}

// stop interrupts serve (SIGINT) and waits for its exit.
func (s *awsServe) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.waited:
		if code := exitCode(err); code != 0 {
			t.Errorf("dpl serve exit %d after SIGINT\n%s", code, s.out.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("dpl serve did not stop after SIGINT\n%s", s.out.String())
	}
}

// apiObjects turns a definition's objects (plain values and refs) into
// the API's pipeline objects.
func apiObjects(objs ...map[string]string) []dptypes.PipelineObject {
	var out []dptypes.PipelineObject
	for _, o := range objs {
		po := dptypes.PipelineObject{Id: aws.String(o["id"]), Name: aws.String(o["id"])}
		for k, v := range o {
			if k == "id" {
				continue
			}
			if ref, ok := strings.CutPrefix(v, "ref:"); ok {
				po.Fields = append(po.Fields, dptypes.Field{Key: aws.String(k), RefValue: aws.String(ref)})
			} else {
				po.Fields = append(po.Fields, dptypes.Field{Key: aws.String(k), StringValue: aws.String(v)})
			}
		}
		out = append(out, po)
	}
	return out
}

// ec2APIPipeline is ec2Pipeline's Ec2Resource + ShellCommandActivity as
// the API's objects; proof is the file the work writes.
func ec2APIPipeline(sg, proof string) []dptypes.PipelineObject {
	return apiObjects(
		map[string]string{"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "CASCADE",
			"role": "DataPipelineDefaultRole", "resourceRole": "DataPipelineDefaultResourceRole"},
		map[string]string{"id": "Box", "type": "Ec2Resource", "instanceType": "t3.micro", "terminateAfter": "1 hours",
			"keyPair": "my-key", "securityGroupIds": sg},
		map[string]string{"id": "Work", "type": "ShellCommandActivity", "runsOn": "ref:Box",
			"command": "echo ran-on-the-instance > " + proof + "; echo hello from #{@pipelineId}"})
}

// createAndActivate creates, puts and activates a pipeline through the API.
func (s *awsServe) createAndActivate(t *testing.T, name string, objs []dptypes.PipelineObject) string {
	t.Helper()
	ctx := context.Background()
	cr, err := s.dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String(name), UniqueId: aws.String(awsName(name))})
	if err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	id := aws.ToString(cr.PipelineId)
	put, err := s.dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs})
	if err != nil || put.Errored {
		t.Fatalf("PutPipelineDefinition: %v %+v", err, put)
	}
	if _, err := s.dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatalf("ActivatePipeline: %v", err)
	}
	return id
}

// pipelineState is the pipeline's @pipelineState.
func (s *awsServe) pipelineState(t *testing.T, id string) string {
	t.Helper()
	out, err := s.dp.DescribePipelines(context.Background(), &datapipeline.DescribePipelinesInput{PipelineIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribePipelines: %v", err)
	}
	for _, f := range out.PipelineDescriptionList[0].Fields {
		if aws.ToString(f.Key) == "@pipelineState" {
			return aws.ToString(f.StringValue)
		}
	}
	return ""
}

// waitUp waits for moto to have the pipeline's instance pending or running.
func (s *awsServe) waitUp(t *testing.T, pipelineID string) ec2types.Instance {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		found, err := s.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("tag:dpl:pipelineId"), Values: []string{pipelineID}},
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range found.Reservations {
			for _, i := range r.Instances {
				return i
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no instance of %s started:\n%s", pipelineID, s.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// terminated reports whether moto has the instance shutting down or terminated.
func (s *awsServe) terminated(t *testing.T, id string) bool {
	t.Helper()
	st, err := s.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	n := st.Reservations[0].Instances[0].State.Name
	return n == ec2types.InstanceStateNameTerminated || n == ec2types.InstanceStateNameShuttingDown
}

func newSecurityGroup(t *testing.T, c *ec2.Client, prefix string) string {
	t.Helper()
	sg, err := c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(awsName(prefix)), Description: aws.String("dpl test")})
	if err != nil {
		t.Fatalf("ec2 CreateSecurityGroup: %v", err)
	}
	return aws.ToString(sg.GroupId)
}

// TestServeResourcesAWSEc2OnMotoWithUserDataStandIn: a pipeline created,
// put and activated through the API of `dpl serve --resources aws` (Go
// SDK, signed) gets its Ec2Resource as an EC2 instance on moto, tagged
// with the pipeline id and run, whose user-data starts a task runner
// polling this serve. The user-data is run by the STAND-IN of
// TestEc2ResourceOnMotoWithUserDataStandIn (moto runs none); the runner
// does the work, the pipeline reaches FINISHED and the instance is
// terminated afterwards (checked through moto's API).
func TestServeResourcesAWSEc2OnMotoWithUserDataStandIn(t *testing.T) {
	rig := newAWSRig(t)
	bin := dplBinary(t)
	ensureInstanceProfile(t, rig, "DataPipelineDefaultResourceRole")
	s := startAWSServe(t, rig, t.TempDir())
	sg := newSecurityGroup(t, s.ec2, "dpl-serve-ec2")
	proofDir := t.TempDir()
	proof := filepath.Join(proofDir, "proof.txt")
	id := s.createAndActivate(t, "serve-ec2", ec2APIPipeline(sg, proof))

	inst := s.waitUp(t, id)
	iid := aws.ToString(inst.InstanceId)
	tags := map[string]string{}
	for _, tag := range inst.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if tags["dpl:pipelineId"] != id || tags["dpl:run"] != "1" || tags["dpl:object"] != "Box" || !strings.HasPrefix(tags["dpl:instance"], "@Box_") {
		t.Errorf("ownership tags %v, want pipeline %s run 1 object Box", tags, id)
	}
	if inst.InstanceType != "t3.micro" || aws.ToString(inst.ImageId) != "ami-12c6146b" {
		t.Errorf("instance %s: type %s image %s", iid, inst.InstanceType, aws.ToString(inst.ImageId))
	}
	script := userDataOf(t, s.ec2, aws.ToString(inst.InstanceId))
	for _, want := range []string{"dpl taskrunner", "--worker-group '" + tags["dpl:instance"] + "'", "--endpoint '" + s.url + "'"} {
		if !strings.Contains(script, want) {
			t.Errorf("user-data lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, serveTestSecret) {
		t.Fatal("serve's own secret is in the user-data")
	}

	standIn, standOut, _ := userDataStandIn(t, script, bin, rig.srv.Endpoint)
	standDone := make(chan error, 1)
	go func() { standDone <- standIn.Wait() }()
	t.Cleanup(func() {
		select {
		case <-standDone:
		default:
			_ = standIn.Process.Kill()
			<-standDone
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for s.pipelineState(t, id) != "FINISHED" {
		if time.Now().After(deadline) {
			t.Fatalf("pipeline %s is %s, not FINISHED\nserve:\n%s\nstand-in:\n%s", id, s.pipelineState(t, id), s.out.String(), standOut.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if b, err := os.ReadFile(proof); err != nil || strings.TrimSpace(string(b)) != "ran-on-the-instance" {
		t.Fatalf("the work did not run through the instance's task runner: %q %v\nstand-in:\n%s", b, err, standOut.String())
	}
	// The work ended: the instance is terminated while serve keeps serving.
	for !s.terminated(t, iid) {
		if time.Now().After(deadline) {
			t.Fatalf("instance %s still up after the pipeline FINISHED\n%s", iid, s.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.stop(t)
	t.Logf("serve:\n%s\nstand-in:\n%s", s.out.String(), standOut.String())
}

// TestServeResourcesAWSTerminatedOnDeleteDeactivateAndShutdownOnMoto: what
// a pipeline owns on AWS is terminated when it is deleted or deactivated
// through the API, and when serve stops (SIGINT) — unless
// --keep-resources, which leaves it up for the next serve to reuse. No
// task runner ever polls (nothing here runs user-data), so each instance
// is still waiting for its runner when it is ended.
func TestServeResourcesAWSTerminatedOnDeleteDeactivateAndShutdownOnMoto(t *testing.T) {
	rig := newAWSRig(t)
	ensureInstanceProfile(t, rig, "DataPipelineDefaultResourceRole")
	state := t.TempDir()
	s := startAWSServe(t, rig, state)
	sg := newSecurityGroup(t, s.ec2, "dpl-serve-end")
	ctx := context.Background()
	never := filepath.Join(t.TempDir(), "never.txt")

	del := s.createAndActivate(t, "serve-delete", ec2APIPipeline(sg, never))
	deact := s.createAndActivate(t, "serve-deactivate", ec2APIPipeline(sg, never))
	down := s.createAndActivate(t, "serve-shutdown", ec2APIPipeline(sg, never))
	delInst, deactInst, downInst := s.waitUp(t, del), s.waitUp(t, deact), s.waitUp(t, down)

	if _, err := s.dp.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: &del}); err != nil {
		t.Fatalf("DeletePipeline: %v", err)
	}
	if !s.terminated(t, aws.ToString(delInst.InstanceId)) {
		t.Errorf("instance %s of deleted %s still up\n%s", aws.ToString(delInst.InstanceId), del, s.out.String())
	}
	if _, err := s.dp.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: &deact, CancelActive: aws.Bool(true)}); err != nil {
		t.Fatalf("DeactivatePipeline: %v", err)
	}
	if !s.terminated(t, aws.ToString(deactInst.InstanceId)) {
		t.Errorf("instance %s of deactivated %s still up\n%s", aws.ToString(deactInst.InstanceId), deact, s.out.String())
	}
	if s.terminated(t, aws.ToString(downInst.InstanceId)) {
		t.Fatalf("instance %s of %s ended while its pipeline runs", aws.ToString(downInst.InstanceId), down)
	}
	s.stop(t)
	if !s.terminated(t, aws.ToString(downInst.InstanceId)) {
		t.Errorf("instance %s of %s still up after serve stopped\n%s", aws.ToString(downInst.InstanceId), down, s.out.String())
	}

	// --keep-resources: the instance outlives serve; the next serve
	// resumes the pipeline (found by its tags) and ends it on delete.
	s2 := startAWSServe(t, rig, state, "--keep-resources")
	keep := s2.createAndActivate(t, "serve-keep", ec2APIPipeline(sg, never))
	keepInst := aws.ToString(s2.waitUp(t, keep).InstanceId)
	s2.stop(t)
	if s2.terminated(t, keepInst) {
		t.Fatalf("--keep-resources: instance %s terminated at shutdown\n%s", keepInst, s2.out.String())
	}
	s3 := startAWSServe(t, rig, state)
	if _, err := s3.dp.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: &keep}); err != nil {
		t.Fatalf("DeletePipeline: %v", err)
	}
	if !s3.terminated(t, keepInst) {
		t.Errorf("kept instance %s still up after the resumed pipeline was deleted\n%s", keepInst, s3.out.String())
	}
	s3.stop(t)
}
