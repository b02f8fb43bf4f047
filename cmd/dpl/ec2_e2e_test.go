package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
)

const ec2Pipeline = `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","failureAndRerunMode":"CASCADE",
  "role":"DataPipelineDefaultRole","resourceRole":"DataPipelineDefaultResourceRole"},
 {"id":"Box","name":"Box","type":"Ec2Resource","instanceType":"t3.micro","terminateAfter":"1 hours",
  "spotBidPrice":"0.05","keyPair":"my-key","securityGroupIds":["%s"]},
 {"id":"Work","name":"Work","type":"ShellCommandActivity","runsOn":{"ref":"Box"},
  "command":"echo ran-on-the-instance > \"$DPL_STATE_DIR/proof.txt\"; echo hello from #{@pipelineId}"}]}`

// ensureInstanceProfile creates the instance profile a definition's
// resourceRole names (moto checks that it exists).
func ensureInstanceProfile(t *testing.T, rig *awsRig, name string) {
	t.Helper()
	c := iam.NewFromConfig(rig.env.ConfigFor("us-east-1"))
	_, err := c.CreateInstanceProfile(context.Background(), &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)})
	var exists *iamtypes.EntityAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("iam CreateInstanceProfile: %v", err)
	}
}

// userDataStandIn is a STAND-IN for an EC2 instance booting: moto starts
// no machine and runs no user-data, so the test runs the user-data script
// dpl sent with RunInstances itself, with bash, in a temporary folder,
// with the built dpl on PATH, moto's credentials in place of the instance
// role and SSM pointed at moto. Everything else (the taskrunner reading
// its key from SSM, polling the run's endpoint for the worker group,
// running the work) is real.
func userDataStandIn(t *testing.T, script, bin, moto string) (*exec.Cmd, *bytes.Buffer, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "user-data.sh")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", path)
	cmd.Dir = dir
	cmd.Env = append(awsChildEnv(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"DPL_STATE_DIR="+dir, "DPL_USERDATA_NO_SHUTDOWN=1", "AWS_ENDPOINT_URL_SSM="+moto)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, dir
}

// TestEc2ResourceOnMotoWithUserDataStandIn is the Done-when of issue 17
// for EC2: an Ec2Resource + ShellCommandActivity definition runs to
// FINISHED with `dpl run --resources aws` against moto; the instance is
// launched with the definition's fields and the ownership tags, its
// user-data (run by the stand-in above) starts a task runner that joins
// the worker group and does the work, and afterwards every instance is
// terminated and the runner's key parameter deleted (checked through
// moto's API).
// userDataOf is the user-data script the instance was started with, as
// moto keeps it.
func userDataOf(t *testing.T, c *ec2.Client, instanceID string) string {
	t.Helper()
	attr, err := c.DescribeInstanceAttribute(context.Background(), &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(instanceID), Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestEc2ResourceOnMotoWithUserDataStandIn(t *testing.T) {
	rig := newAWSRig(t)
	bin := dplBinary(t)
	ensureInstanceProfile(t, rig, "DataPipelineDefaultResourceRole")
	dir := t.TempDir()
	file := filepath.Join(dir, "ec2.json")
	c := ec2.NewFromConfig(rig.env.ConfigFor("us-east-1"))
	sg, err := c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(awsName("dpl-ec2-e2e")), Description: aws.String("dpl test")})
	if err != nil {
		t.Fatalf("ec2 CreateSecurityGroup: %v", err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(ec2Pipeline, "%s", aws.ToString(sg.GroupId), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	addr := freeLoopbackAddr(t)
	cmd := exec.Command(bin, "run", "--headless", "--resources", "aws", "--aws-endpoint", rig.srv.Endpoint,
		"--serve", addr, "--default-ami", "ami-12c6146b", "--state-dir", state, file)
	cmd.Env = awsChildEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-waited
		}
	})

	// Wait for dpl's RunInstances (found by its ownership tags).
	var inst ec2types.Instance
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for inst.InstanceId == nil {
		select {
		case err := <-waited:
			t.Fatalf("dpl run ended before starting an instance: %v\n%s", err, errb.String())
		case <-ctx.Done():
			t.Fatalf("no instance started:\n%s", errb.String())
		case <-time.After(200 * time.Millisecond):
		}
		found, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + awsprov.TagPipeline), Values: []string{executor.PipelineIDFor(file)}},
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range found.Reservations {
			for _, i := range r.Instances {
				inst = i
			}
		}
	}
	id := aws.ToString(inst.InstanceId)
	// What moto received: the fields of the definition, on the spot market.
	if inst.InstanceType != "t3.micro" || aws.ToString(inst.ImageId) != "ami-12c6146b" || aws.ToString(inst.KeyName) != "my-key" {
		t.Errorf("instance %s: type %s, image %s, key %s", id, inst.InstanceType, aws.ToString(inst.ImageId), aws.ToString(inst.KeyName))
	}
	if inst.InstanceLifecycle != ec2types.InstanceLifecycleTypeSpot {
		t.Errorf("instance lifecycle %q, want spot (spotBidPrice 0.05)", inst.InstanceLifecycle)
	}
	if inst.IamInstanceProfile == nil || !strings.Contains(aws.ToString(inst.IamInstanceProfile.Arn), "DataPipelineDefaultResourceRole") {
		t.Errorf("instance profile %+v, want DataPipelineDefaultResourceRole", inst.IamInstanceProfile)
	}
	tags := map[string]string{}
	for _, tag := range inst.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if tags[awsprov.TagRun] != "1" || !strings.HasPrefix(tags[awsprov.TagInstance], "@Box_") || !strings.HasPrefix(tags[awsprov.TagPipeline], "df-") {
		t.Errorf("ownership tags %v", tags)
	}
	script := userDataOf(t, c, aws.ToString(inst.InstanceId))
	param := awsprov.RunnerKeyParameter(tags[awsprov.TagPipeline], 1, tags[awsprov.TagInstance])
	for _, want := range []string{"dpl taskrunner", "--worker-group '" + tags[awsprov.TagInstance] + "'", "--endpoint 'http://" + addr + "'",
		"--endpoint-credentials-ssm '" + param + "'", "shutdown -h +60"} {
		if !strings.Contains(script, want) {
			t.Errorf("user-data lacks %q:\n%s", want, script)
		}
	}
	// The runner's key is in SSM, not in the user-data.
	sc := ssm.NewFromConfig(rig.env.ConfigFor("us-east-1"))
	key, err := sc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("runner key parameter: %v", err)
	}
	_, secret, _ := strings.Cut(aws.ToString(key.Parameter.Value), ":")
	if len(secret) < 20 || strings.Contains(script, secret) {
		t.Fatalf("the runner's secret (%d chars) is in the user-data or missing", len(secret))
	}

	standIn, standOut, instDir := userDataStandIn(t, script, bin, rig.srv.Endpoint)
	standDone := make(chan error, 1)
	go func() { standDone <- standIn.Wait() }()
	select {
	case err := <-waited:
		if exitCode(err) != 0 {
			t.Fatalf("dpl run exit %d\nstdout:\n%s\nstderr:\n%s\nstand-in:\n%s", exitCode(err), out.String(), errb.String(), standOut.String())
		}
	case <-ctx.Done():
		t.Fatalf("dpl run did not end\nstderr:\n%s\nstand-in:\n%s", errb.String(), standOut.String())
	}
	select {
	case <-standDone:
	case <-time.After(90 * time.Second):
		_ = standIn.Process.Kill()
		t.Errorf("the stand-in's task runner did not stop after the run ended:\n%s", standOut.String())
	}
	t.Logf("dpl run stderr:\n%s\nstand-in:\n%s", errb.String(), standOut.String())
	if !strings.Contains(out.String(), "Work") || !strings.Contains(out.String(), "FINISHED") {
		t.Errorf("run output lacks Work FINISHED:\n%s", out.String())
	}
	proof, err := os.ReadFile(filepath.Join(instDir, "proof.txt"))
	if err != nil || strings.TrimSpace(string(proof)) != "ran-on-the-instance" {
		t.Fatalf("the work did not run through the instance's task runner: %q %v\n%s", proof, err, standOut.String())
	}
	// Everything is terminated, and the key is gone.
	st, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Reservations[0].Instances[0].State.Name; s != ec2types.InstanceStateNameTerminated && s != ec2types.InstanceStateNameShuttingDown {
		t.Errorf("instance %s is %s after the run, want terminated", id, s)
	}
	if _, err := sc.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(param)}); err == nil {
		t.Errorf("runner key parameter %s still exists after the run", param)
	}
	left := exec.Command(bin, "resources", "--state-dir", state, "--aws-endpoint", rig.srv.Endpoint, "--region", "us-east-1")
	left.Env = awsChildEnv()
	lo, err := left.CombinedOutput()
	if err != nil || !strings.Contains(string(lo), "no dpl resources are up") {
		t.Errorf("dpl resources --state-dir after the run: %v\n%s", err, lo)
	}
}

// startEC2Run starts `dpl run --resources aws` of file in state against moto.
func startEC2Run(t *testing.T, rig *awsRig, bin, file, state, addr string) (*exec.Cmd, chan error, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(bin, "run", "--headless", "--resources", "aws", "--aws-endpoint", rig.srv.Endpoint,
		"--serve", addr, "--default-ami", "ami-12c6146b", "--state-dir", state, file)
	cmd.Env = awsChildEnv()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, waited, out
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// upInstances are the pipeline's instances moto has pending or running.
func upInstances(t *testing.T, c *ec2.Client, pipelineID string) []string {
	t.Helper()
	found, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + awsprov.TagPipeline), Values: []string{pipelineID}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range found.Reservations {
		for _, i := range r.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	return ids
}

func waitInstances(t *testing.T, c *ec2.Client, pipelineID string, waited chan error, out *lockedBuffer) []string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if ids := upInstances(t, c, pipelineID); len(ids) > 0 {
			return ids
		}
		select {
		case err := <-waited:
			t.Fatalf("dpl run ended (%v) before starting an instance:\n%s", err, out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no instance started:\n%s", out.String())
		}
	}
}

// SIGINT terminates what the run created; after kill -9 the resumed run
// finds the instance by its tags and reuses it (the stand-in runs its
// user-data only then, reading the key the resumed run wrote), finishes,
// and terminates it.
func TestEc2ResourceSigintAndKill9ResumeOnMotoWithUserDataStandIn(t *testing.T) {
	rig := newAWSRig(t)
	bin := dplBinary(t)
	ensureInstanceProfile(t, rig, "DataPipelineDefaultResourceRole")
	c := ec2.NewFromConfig(rig.env.ConfigFor("us-east-1"))
	sg, err := c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(awsName("dpl-ec2-resume")), Description: aws.String("dpl test")})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "resume.json")
	if err := os.WriteFile(file, []byte(strings.Replace(ec2Pipeline, "%s", aws.ToString(sg.GroupId), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	pid := executor.PipelineIDFor(file)
	state := filepath.Join(dir, "state")

	// 1. SIGINT: exit 130, instance terminated.
	cmd, waited, out := startEC2Run(t, rig, bin, file, state, freeLoopbackAddr(t))
	first := waitInstances(t, c, pid, waited, out)
	_ = cmd.Process.Signal(os.Interrupt)
	if code := exitCode(<-waited); code != 130 {
		t.Fatalf("SIGINT: exit %d, want 130\n%s", code, out.String())
	}
	if up := upInstances(t, c, pid); len(up) != 0 {
		t.Fatalf("after SIGINT still up: %v (first %v)\n%s", up, first, out.String())
	}

	// 2. Resume, then kill -9 once its new instance is up: it stays up.
	cmd, waited, out = startEC2Run(t, rig, bin, file, state, freeLoopbackAddr(t))
	second := waitInstances(t, c, pid, waited, out)
	_ = cmd.Process.Kill()
	<-waited
	if up := upInstances(t, c, pid); len(up) != 1 || up[0] != second[0] {
		t.Fatalf("after kill -9: up %v, want %v", up, second)
	}

	// 3. Resume again: the same instance is reused; the stand-in boots it.
	addr := freeLoopbackAddr(t)
	_, waited, out = startEC2Run(t, rig, bin, file, state, addr)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), "reusing EC2 instance "+second[0]) {
		if time.Now().After(deadline) {
			t.Fatalf("the resumed run did not reuse %s:\n%s", second[0], out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The instance was started with the killed run's endpoint address; a
	// real one would keep polling it (use a fixed --serve address).
	script := regexp.MustCompile(`--endpoint 'http://[^']*'`).ReplaceAllString(userDataOf(t, c, second[0]), "--endpoint 'http://"+addr+"'")
	standIn, standOut, _ := userDataStandIn(t, script, bin, rig.srv.Endpoint)
	defer func() { _ = standIn.Process.Kill(); _ = standIn.Wait() }()
	select {
	case err := <-waited:
		if exitCode(err) != 0 {
			t.Fatalf("resumed run exit %d:\n%s\nstand-in:\n%s", exitCode(err), out.String(), standOut.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the resumed run did not end:\n%s", out.String())
	}
	if up := upInstances(t, c, pid); len(up) != 0 {
		t.Fatalf("after the resumed run ended still up: %v\n%s", up, out.String())
	}
	t.Logf("%s", out.String())
}

// dpl plan --resources aws shows the requests without sending any:
// RunInstances with the fields, the key parameter masked, the proxy's
// password nowhere.
func TestPlanResourcesAWSShowsRequestsMasked(t *testing.T) {
	bin := dplBinary(t)
	file := filepath.Join(t.TempDir(), "plan.json")
	src := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","role":"R","resourceRole":"RR"},
 {"id":"Proxy","name":"Proxy","type":"HttpProxy","hostname":"proxy.local","port":"3128","username":"u","*password":"hunter2"},
 {"id":"Box","name":"Box","type":"Ec2Resource","instanceType":"m6g.large","spotBidPrice":"0.1","httpProxy":{"ref":"Proxy"},
  "subnetId":"subnet-1","associatePublicIpAddress":"false","region":"eu-west-1","terminateAfter":"2 hours"},
 {"id":"Work","name":"Work","type":"ShellCommandActivity","command":"true","runsOn":{"ref":"Box"}}]}`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "plan", "--resources", "aws", "--default-ami", "ami-0abc", "-o", "json", file)
	cmd.Env = append(awsChildEnv(), "AWS_ENDPOINT_URL=http://127.0.0.1:1") // nothing may be sent
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{`"api": "RunInstances"`, `"region": "eu-west-1"`, `"InstanceType": "m6g.large"`, `"MaxPrice": "0.1"`,
		`"ImageId": "ami-0abc"`, `"AssociatePublicIpAddress": false`, `"SubnetId": "subnet-1"`, `"Name": "RR"`,
		`http_proxy='http://proxy.local:3128'`, `shutdown -h +120`, `"api": "PutParameter"`, `"Value": "********"`, `"api": "TerminateInstances"`} {
		if !strings.Contains(s, want) {
			t.Errorf("plan lacks %s", want)
		}
	}
	if strings.Contains(s, "hunter2") {
		t.Errorf("plan shows the proxy's password")
	}
	if t.Failed() {
		t.Log(s)
	}
}

// --keep-resources leaves the instance up on SIGINT; dpl resources lists
// it and --cleanup terminates it.
func TestKeepResourcesThenDplResourcesCleanupOnMoto(t *testing.T) {
	rig := newAWSRig(t)
	bin := dplBinary(t)
	ensureInstanceProfile(t, rig, "DataPipelineDefaultResourceRole")
	c := ec2.NewFromConfig(rig.env.ConfigFor("us-east-1"))
	sg, err := c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(awsName("dpl-ec2-keep")), Description: aws.String("dpl test")})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "keep.json")
	if err := os.WriteFile(file, []byte(strings.Replace(ec2Pipeline, "%s", aws.ToString(sg.GroupId), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	pid, state := executor.PipelineIDFor(file), filepath.Join(dir, "state")
	cmd := exec.Command(bin, "run", "--headless", "--resources", "aws", "--keep-resources", "--aws-endpoint", rig.srv.Endpoint,
		"--serve", freeLoopbackAddr(t), "--default-ami", "ami-12c6146b", "--state-dir", state, file)
	cmd.Env = awsChildEnv()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	up := waitInstances(t, c, pid, waited, out)
	_ = cmd.Process.Signal(os.Interrupt)
	if code := exitCode(<-waited); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, out.String())
	}
	if now := upInstances(t, c, pid); len(now) != 1 || now[0] != up[0] {
		t.Fatalf("with --keep-resources after SIGINT: up %v, want %v\n%s", now, up, out.String())
	}
	list := exec.Command(bin, "resources", "--state-dir", state, "--aws-endpoint", rig.srv.Endpoint, "--cleanup")
	list.Env = awsChildEnv()
	lo, err := list.CombinedOutput()
	// The instance and the SSM parameter holding its runner's key.
	if err != nil || !strings.Contains(string(lo), up[0]) || !strings.Contains(string(lo), "ssm-parameter") ||
		!strings.Contains(string(lo), "terminated 2 resources") {
		t.Fatalf("dpl resources --cleanup: %v\n%s", err, lo)
	}
	if now := upInstances(t, c, pid); len(now) != 0 {
		t.Fatalf("after dpl resources --cleanup still up: %v", now)
	}
}
