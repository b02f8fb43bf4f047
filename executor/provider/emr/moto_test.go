package emr_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsemr "github.com/aws/aws-sdk-go-v2/service/emr"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emr/types"
	"github.com/aws/smithy-go"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/awsx/mototest"
	"github.com/dpl-dev/dpl/executor/local"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	"github.com/dpl-dev/dpl/executor/provider/emr"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// standInSteps is a STAND-IN for EMR running steps. moto accepts clusters
// and steps (and keeps what it received) but never runs a step, and has no
// CancelSteps; this wrapper over the moto-backed client moves each step
// PENDING -> RUNNING -> its scripted end state as DescribeStep polls it,
// and answers CancelSteps by marking the step CANCELLED. Every other call,
// and the DescribeStep itself, goes to moto.
type standInSteps struct {
	*awsemr.Client

	mu       sync.Mutex
	polls    map[string]int
	names    map[string]string
	canceled []string
	// end is the state a step reaches (COMPLETED when nil); hold keeps a
	// step RUNNING until it is canceled.
	end  func(name string) emrtypes.StepState
	hold func(name string) bool
	// failRunJobFlow, when set, is returned by RunJobFlow (AWS rejecting it).
	failRunJobFlow error
	// failAddSteps, when set, is returned by AddJobFlowSteps.
	failAddSteps error
	// starting keeps every cluster STARTING (a cluster that never gets ready).
	starting bool
	// bootstrapFails ends every cluster TERMINATED_WITH_ERRORS as it starts.
	bootstrapFails bool
	// endsWhenRunning makes DescribeCluster answer TERMINATED_WITH_ERRORS
	// once a step was seen RUNNING (a cluster lost under its work).
	endsWhenRunning bool
	sawRunning      bool
	// throttle is how many DescribeStep calls answer ThrottlingException
	// (after the SDK's own retries) before they go through.
	throttle int
}

func (s *standInSteps) DescribeCluster(ctx context.Context, in *awsemr.DescribeClusterInput, opts ...func(*awsemr.Options)) (*awsemr.DescribeClusterOutput, error) {
	out, err := s.Client.DescribeCluster(ctx, in, opts...)
	if err == nil && s.starting && out.Cluster.Status.State == emrtypes.ClusterStateWaiting {
		out.Cluster.Status.State = emrtypes.ClusterStateStarting
	}
	if err == nil && s.bootstrapFails && out.Cluster.Status.State == emrtypes.ClusterStateWaiting {
		out.Cluster.Status.State = emrtypes.ClusterStateTerminatedWithErrors
		out.Cluster.Status.StateChangeReason = &emrtypes.ClusterStateChangeReason{Code: emrtypes.ClusterStateChangeReasonCodeBootstrapFailure,
			Message: aws.String("(stand-in) bootstrap action 1 returned a non-zero return code")}
	}
	s.mu.Lock()
	lost := s.endsWhenRunning && s.sawRunning
	s.mu.Unlock()
	if err == nil && lost && (out.Cluster.Status.State == emrtypes.ClusterStateWaiting || out.Cluster.Status.State == emrtypes.ClusterStateRunning) {
		out.Cluster.Status.State = emrtypes.ClusterStateTerminatedWithErrors
		out.Cluster.Status.StateChangeReason = &emrtypes.ClusterStateChangeReason{Code: emrtypes.ClusterStateChangeReasonCodeInstanceFailure,
			Message: aws.String("(stand-in) the master node was lost")}
	}
	return out, err
}

func (s *standInSteps) RunJobFlow(ctx context.Context, in *awsemr.RunJobFlowInput, opts ...func(*awsemr.Options)) (*awsemr.RunJobFlowOutput, error) {
	if s.failRunJobFlow != nil {
		return nil, s.failRunJobFlow
	}
	return s.Client.RunJobFlow(ctx, in, opts...)
}

func (s *standInSteps) AddJobFlowSteps(ctx context.Context, in *awsemr.AddJobFlowStepsInput, opts ...func(*awsemr.Options)) (*awsemr.AddJobFlowStepsOutput, error) {
	if s.failAddSteps != nil {
		return nil, s.failAddSteps
	}
	out, err := s.Client.AddJobFlowSteps(ctx, in, opts...)
	if err == nil {
		s.mu.Lock()
		for i, id := range out.StepIds {
			s.names[id] = aws.ToString(in.Steps[i].Name)
		}
		s.mu.Unlock()
	}
	return out, err
}

func (s *standInSteps) DescribeStep(ctx context.Context, in *awsemr.DescribeStepInput, opts ...func(*awsemr.Options)) (*awsemr.DescribeStepOutput, error) {
	s.mu.Lock()
	if s.throttle > 0 {
		s.throttle--
		s.mu.Unlock()
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	}
	s.mu.Unlock()
	out, err := s.Client.DescribeStep(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := aws.ToString(in.StepId)
	name := s.names[id]
	n := s.polls[id]
	s.polls[id] = n + 1
	st := emrtypes.StepStatePending
	switch {
	case contains(s.canceled, id):
		st = emrtypes.StepStateCancelled
	case n == 0:
	case n == 1 || s.hold != nil && s.hold(name):
		st = emrtypes.StepStateRunning
	case s.end != nil:
		st = s.end(name)
	default:
		st = emrtypes.StepStateCompleted
	}
	if out.Step.Status == nil {
		out.Step.Status = &emrtypes.StepStatus{}
	}
	out.Step.Status.State = st
	if st == emrtypes.StepStateRunning {
		s.sawRunning = true
	}
	if st == emrtypes.StepStateFailed {
		out.Step.Status.FailureDetails = &emrtypes.FailureDetails{Reason: aws.String("Unknown Error."),
			Message: aws.String("(stand-in) the script exited 1"), LogFile: aws.String("s3://logs/steps/" + id + "/stderr.gz")}
	}
	return out, nil
}

func (s *standInSteps) CancelSteps(_ context.Context, in *awsemr.CancelStepsInput, _ ...func(*awsemr.Options)) (*awsemr.CancelStepsOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &awsemr.CancelStepsOutput{}
	for _, id := range in.StepIds {
		s.canceled = append(s.canceled, id)
		out.CancelStepsInfoList = append(out.CancelStepsInfoList, emrtypes.CancelStepsInfo{StepId: aws.String(id), Status: emrtypes.CancelStepsRequestStatusSubmitted})
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// motoEnv is a moto-backed AWS configuration and an S3 bucket.
type motoEnv struct {
	env    *awsx.Env
	emr    *awsemr.Client // straight to moto: what moto received
	bucket string
}

func newMoto(t *testing.T) *motoEnv {
	t.Helper()
	srv := mototest.Start(t)
	env, err := awsx.LoadConfig(context.Background(), awsx.Options{Region: "us-east-1", Endpoint: srv.Endpoint,
		AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	bucket := fmt.Sprintf("dpl-emr-%d", time.Now().UnixNano())
	if err := env.Store().EnsureBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	return &motoEnv{env: env, emr: awsemr.NewFromConfig(env.Config()), bucket: bucket}
}

func (m *motoEnv) standIn() *standInSteps {
	return &standInSteps{Client: m.emr, polls: map[string]int{}, names: map[string]string{}}
}

// run runs the definition in file with the EMR provider over client and
// returns the summary, the provider and the engine.
func (m *motoEnv) run(t *testing.T, file string, params map[string][]string, client emr.Client) (*executor.Summary, *emr.Provider, *executor.Engine, string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return m.runSource(t, file, src, params, client)
}

func (m *motoEnv) runSource(t *testing.T, file string, src []byte, params map[string][]string, client emr.Client) (*executor.Summary, *emr.Provider, *executor.Engine, string) {
	t.Helper()
	d, err := definition.Parse(file, src)
	if err != nil {
		t.Fatal(err)
	}
	if params == nil {
		params = map[string][]string{}
	}
	params["myBucket"] = []string{m.bucket}
	state := t.TempDir()
	p := emr.New(emr.Options{Clients: func(string) emr.Client { return client }, Store: m.env.Store(),
		Logs: local.LogFiles(state), PollInterval: 5 * time.Millisecond, MaxPollInterval: 20 * time.Millisecond,
		Logf: t.Logf})
	reg := provider.NewRegistry()
	reg.RegisterProvider("EmrCluster", p)
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: "df-EMRTEST", StateDir: state, Registry: reg, Params: params, RetryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p.Attach(eng)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sum, err := eng.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Errorf("terminations: %v", err)
	}
	return sum, p, eng, state
}

// clusterState asks moto (not the stand-in) for the cluster's state.
func (m *motoEnv) clusterState(t *testing.T, id string) emrtypes.ClusterState {
	t.Helper()
	out, err := m.emr.DescribeCluster(context.Background(), &awsemr.DescribeClusterInput{ClusterId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Cluster.Status.State
}

func onlyCluster(t *testing.T, p *emr.Provider) emr.ClusterInfo {
	t.Helper()
	cs := p.Clusters()
	if len(cs) != 1 || cs[0].ClusterID == "" {
		t.Fatalf("clusters %+v, want one created", cs)
	}
	return cs[0]
}

func attemptErrors(eng *executor.Engine, prefix string) []string {
	var out []string
	for _, i := range eng.Instances() {
		if prefix == "@" && i.ErrorMessage != "" {
			out = append(out, i.ID+": "+i.Status+" "+i.ErrorMessage)
		}
		if strings.HasPrefix(i.ID, prefix) {
			for _, a := range eng.Attempts(i.ID) {
				out = append(out, a.Status+" "+a.ErrorID+" "+a.ErrorMessage)
			}
		}
	}
	return out
}

func readLog(t *testing.T, state, pipeline, attempt string) string {
	t.Helper()
	_, errp := executor.LogPaths(state, pipeline, attempt)
	b, _ := os.ReadFile(errp)
	return string(b)
}

func TestEmrClusterWithEmrAndHiveActivitiesFinishesOnMotoWithStandInSteps(t *testing.T) {
	m := newMoto(t)
	client := m.standIn()
	sum, p, eng, state := m.run(t, "emr_hive.json", nil, client)
	if !sum.OK {
		t.Fatalf("run not OK: %s %v\n%v", sum.Reason, sum.Counts, attemptErrors(eng, "@"))
	}
	for _, i := range sum.Instances {
		if i.Status != string(executor.Finished) {
			t.Errorf("%s is %s, want FINISHED", i.ID, i.Status)
		}
	}
	info := onlyCluster(t, p)
	if st := m.clusterState(t, info.ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster %s is %s after the run, want TERMINATED (checked through moto)", info.ClusterID, st)
	}
	ctx := context.Background()
	id := aws.String(info.ClusterID)

	// What moto received in RunJobFlow.
	dc, err := m.emr.DescribeCluster(ctx, &awsemr.DescribeClusterInput{ClusterId: id})
	if err != nil {
		t.Fatal(err)
	}
	c := dc.Cluster
	if got := aws.ToString(c.ReleaseLabel); got != "emr-6.15.0" {
		t.Errorf("ReleaseLabel %q", got)
	}
	var apps []string
	for _, a := range c.Applications {
		apps = append(apps, aws.ToString(a.Name))
	}
	if strings.Join(apps, ",") != "spark,hive,pig" {
		t.Errorf("applications %v, want spark,hive,pig", apps)
	}
	wantLog := "s3://" + m.bucket + "/logs/df-EMRTEST/MyCluster/"
	if !strings.HasPrefix(aws.ToString(c.LogUri), wantLog) {
		t.Errorf("LogUri %q, want under %s", aws.ToString(c.LogUri), wantLog)
	}
	if aws.ToString(c.ServiceRole) != "DataPipelineDefaultRole" || aws.ToString(c.Ec2InstanceAttributes.IamInstanceProfile) != "DataPipelineDefaultResourceRole" {
		t.Errorf("roles %q / %q", aws.ToString(c.ServiceRole), aws.ToString(c.Ec2InstanceAttributes.IamInstanceProfile))
	}
	ea := c.Ec2InstanceAttributes
	if aws.ToString(ea.Ec2SubnetId) != "subnet-0abc1234" || aws.ToString(ea.Ec2KeyName) != "my-key" ||
		aws.ToString(ea.EmrManagedMasterSecurityGroup) != "sg-0master" || aws.ToString(ea.EmrManagedSlaveSecurityGroup) != "sg-0slave" ||
		strings.Join(ea.AdditionalMasterSecurityGroups, ",") != "sg-0extra1" || strings.Join(ea.AdditionalSlaveSecurityGroups, ",") != "sg-0extra2" {
		t.Errorf("EC2 attributes %+v", ea)
	}
	confs := fmt.Sprint(describeConfs(c.Configurations))
	if confs != "[spark-defaults{spark.executor.memory=6g} hadoop-env{}[export{JAVA_HOME=/usr/lib/jvm/java-1.8.0}]]" {
		t.Errorf("configurations %s", confs)
	}
	tags := map[string]string{}
	for _, tg := range c.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["dpl:pipelineId"] != "df-EMRTEST" || tags["dpl:object"] != "MyCluster" || !strings.HasPrefix(tags["dpl:instance"], "@MyCluster_") || tags["dpl:run"] != "1" {
		t.Errorf("tags %v", tags)
	}

	igs, err := m.emr.ListInstanceGroups(ctx, &awsemr.ListInstanceGroupsInput{ClusterId: id})
	if err != nil {
		t.Fatal(err)
	}
	groups := map[emrtypes.InstanceGroupType]emrtypes.InstanceGroup{}
	for _, g := range igs.InstanceGroups {
		groups[g.InstanceGroupType] = g
	}
	if g := groups[emrtypes.InstanceGroupTypeMaster]; aws.ToString(g.InstanceType) != "m5.xlarge" || aws.ToInt32(g.RequestedInstanceCount) != 1 || g.Market != emrtypes.MarketTypeOnDemand {
		t.Errorf("master group %s x%d %s", aws.ToString(g.InstanceType), aws.ToInt32(g.RequestedInstanceCount), g.Market)
	}
	if g := groups[emrtypes.InstanceGroupTypeCore]; aws.ToString(g.InstanceType) != "r5.2xlarge" || aws.ToInt32(g.RequestedInstanceCount) != 2 {
		t.Errorf("core group %s x%d (want r5.2xlarge x2: coreInstanceCount from #{myCores})", aws.ToString(g.InstanceType), aws.ToInt32(g.RequestedInstanceCount))
	}
	if g := groups[emrtypes.InstanceGroupTypeTask]; aws.ToString(g.InstanceType) != "m5.2xlarge" || aws.ToInt32(g.RequestedInstanceCount) != 2 ||
		g.Market != emrtypes.MarketTypeSpot || aws.ToString(g.BidPrice) != "0.35" {
		t.Errorf("task group %s x%d %s bid %q", aws.ToString(g.InstanceType), aws.ToInt32(g.RequestedInstanceCount), g.Market, aws.ToString(g.BidPrice))
	}

	bas, err := m.emr.ListBootstrapActions(ctx, &awsemr.ListBootstrapActionsInput{ClusterId: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(bas.BootstrapActions) != 1 || aws.ToString(bas.BootstrapActions[0].ScriptPath) != "s3://"+m.bucket+"/bootstrap/install.sh" ||
		strings.Join(bas.BootstrapActions[0].Args, "|") != "--with|a,b" {
		t.Errorf("bootstrap actions %+v", bas.BootstrapActions)
	}

	// The steps moto received, in order: debugging, then Prepare's, then Report's.
	ls, err := m.emr.ListSteps(ctx, &awsemr.ListStepsInput{ClusterId: id})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(ls.Steps) - 1; i >= 0; i-- { // ListSteps is newest first
		s := ls.Steps[i]
		got = append(got, fmt.Sprintf("%s | %s %s | %s", stepKind(aws.ToString(s.Name)), aws.ToString(s.Config.Jar), strings.Join(s.Config.Args, " "), s.ActionOnFailure))
	}
	prefix := strings.TrimRight(info.LogURI, "/") + "/" + info.ClusterID + "/dpl-staging/"
	sr := "s3://us-east-1.elasticmapreduce/libs/script-runner/script-runner.jar"
	want := []string{
		"Setup hadoop debugging | command-runner.jar state-pusher-script | TERMINATE_CLUSTER",
		"preStepCommand 1 | " + sr + " " + prefix + "PREPARE/preStepCommand-1.sh | CONTINUE",
		"step 1 (command-runner.jar) | command-runner.jar spark-submit --deploy-mode cluster s3://" + m.bucket + "/jobs/prepare.py --day 2024-01-01 | CONTINUE",
		"step 2 (tool.jar) | s3://" + m.bucket + "/jars/tool.jar com.example.Tool a,b c | CONTINUE",
		"postStepCommand 1 | " + sr + " " + prefix + "PREPARE/postStepCommand-1.sh | CONTINUE",
		"Hive script | command-runner.jar hive-script --run-hive-script --args -f " + prefix + "REPORT/hive-script.q -d DAY=2024-01-01 -d input1=input1 -d output1=output1 --hiveconf mapreduce.job.queuename=etl | CONTINUE",
	}
	if len(got) != len(want) {
		t.Fatalf("steps moto received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		w := strings.ReplaceAll(want[i], "PREPARE/", attemptDir(t, eng, "@Prepare_"))
		w = strings.ReplaceAll(w, "REPORT/", attemptDir(t, eng, "@Report_"))
		if got[i] != w {
			t.Errorf("step %d:\n got  %s\n want %s", i+1, got[i], w)
		}
	}

	// The generated Hive script, uploaded before its step: staging tables
	// (dropped first: the metastore outlives one script), then the script.
	hiveURI := prefix + attemptDir(t, eng, "@Report_") + "hive-script.q"
	body := readS3(t, m, hiveURI)
	for _, want := range []string{
		"DROP TABLE IF EXISTS input1;\nDROP TABLE IF EXISTS output1;\n",
		"CREATE EXTERNAL TABLE input1 (`host` STRING, `bytes` STRING)\nROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION 's3://" + m.bucket + "/in';",
		"INSERT OVERWRITE TABLE ${output1} SELECT host, SUM(bytes) FROM ${input1}",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("hive script %s lacks %q:\n%s", hiveURI, want, body)
		}
	}
	if pre := readS3(t, m, prefix+attemptDir(t, eng, "@Prepare_")+"preStepCommand-1.sh"); !strings.Contains(pre, "echo preparing") {
		t.Errorf("preStepCommand script: %q", pre)
	}
	// emrStepLog is the attempt's runtime field, set by the runner.
	for _, i := range eng.Instances() {
		if strings.HasPrefix(i.ID, "@Report_") {
			as := eng.Attempts(i.ID)
			if len(as) == 0 || !strings.HasPrefix(as[0].EmrStepLog, info.LogURI+info.ClusterID+"/steps/s-") {
				t.Errorf("Report's attempts %+v: want emrStepLog under %s%s/steps/", as, info.LogURI, info.ClusterID)
			}
		}
	}
	// The attempt's log links the step logs (emrStepLog).
	report := lastAttempt(t, eng, "@Report_")
	if lg := readLog(t, state, "df-EMRTEST", report); !strings.Contains(lg, "dpl: emrStepLog "+info.LogURI+info.ClusterID+"/steps/s-") {
		t.Errorf("Report's log does not link its step log:\n%s", lg)
	}
}

// describeConfs prints configurations compactly: class{k=v}[nested].
func describeConfs(cs []emrtypes.Configuration) []string {
	var out []string
	for _, c := range cs {
		var props []string
		for k, v := range c.Properties {
			props = append(props, k+"="+v)
		}
		s := aws.ToString(c.Classification) + "{" + strings.Join(props, ",") + "}"
		if len(c.Configurations) > 0 {
			s += fmt.Sprint(describeConfs(c.Configurations))
		}
		out = append(out, s)
	}
	return out
}

// stepKind drops the "<activity> attempt N: " prefix of a step name.
func stepKind(name string) string {
	if _, after, ok := strings.Cut(name, ": "); ok {
		return after
	}
	return name
}

func lastAttempt(t *testing.T, eng *executor.Engine, prefix string) string {
	t.Helper()
	for _, i := range eng.Instances() {
		if strings.HasPrefix(i.ID, prefix) {
			as := eng.Attempts(i.ID)
			if len(as) > 0 {
				return as[len(as)-1].ID
			}
		}
	}
	t.Fatalf("no attempt of %s", prefix)
	return ""
}

// attemptDir is an attempt's staging folder name.
func attemptDir(t *testing.T, eng *executor.Engine, prefix string) string {
	id := lastAttempt(t, eng, prefix)
	return strings.NewReplacer("@", "", ":", "", "/", "_", " ", "_").Replace(id) + "/"
}

func readS3(t *testing.T, m *motoEnv, uri string) string {
	t.Helper()
	r, err := m.env.Store().Open(context.Background(), uri)
	if err != nil {
		t.Fatalf("read %s: %v", uri, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFailedStepFailsTheAttemptCancelsTheRestAndTerminatesTheClusterStandIn(t *testing.T) {
	m := newMoto(t)
	client := m.standIn()
	client.end = func(name string) emrtypes.StepState {
		if strings.Contains(name, "step 1 ") {
			return emrtypes.StepStateFailed
		}
		return emrtypes.StepStateCompleted
	}
	sum, p, eng, _ := m.run(t, "emr_hive.json", map[string][]string{"myRetries": {"1"}}, client)
	if sum.OK {
		t.Fatal("run OK, want Prepare failed")
	}
	errs := attemptErrors(eng, "@Prepare_")
	if len(errs) != 2 {
		t.Fatalf("Prepare attempts %v, want 2 (maximumRetries 1)", errs)
	}
	for _, e := range errs {
		if !strings.HasPrefix(e, "FAILED EMR_StepFailed ") || !strings.Contains(e, "FAILED: Unknown Error.; (stand-in) the script exited 1; log s3://logs/steps/") {
			t.Errorf("attempt error %q, want the step's failure details", e)
		}
	}
	// emrStepLog points at the step that failed.
	for _, i := range eng.Instances() {
		if !strings.HasPrefix(i.ID, "@Prepare_") {
			continue
		}
		for _, a := range eng.Attempts(i.ID) {
			parts := strings.Split(strings.TrimSuffix(a.EmrStepLog, "/"), "/")
			client.mu.Lock()
			name := client.names[parts[len(parts)-1]]
			client.mu.Unlock()
			if !strings.Contains(name, "step 1 (") {
				t.Errorf("%s emrStepLog %q is the log of %q, want the failed step 1", a.ID, a.EmrStepLog, name)
			}
		}
	}
	// Each attempt's later steps (step 2, postStepCommand) were canceled.
	client.mu.Lock()
	canceled := len(client.canceled)
	client.mu.Unlock()
	if canceled != 4 {
		t.Errorf("%d steps canceled, want 4 (step 2 and postStepCommand of both attempts)", canceled)
	}
	info := onlyCluster(t, p)
	if st := m.clusterState(t, info.ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s after the failed run, want TERMINATED", st)
	}
}

func TestAttemptTimeoutCancelsStepsStandIn(t *testing.T) {
	m := newMoto(t)
	client := m.standIn()
	client.hold = func(name string) bool { return strings.Contains(name, "Hive script") }
	src := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","maximumRetries":"0","pipelineLogUri":"s3://#{myBucket}/logs/"},
 {"id":"C","name":"C","type":"EmrCluster","releaseLabel":"emr-6.15.0"},
 {"id":"H","name":"H","type":"HiveActivity","runsOn":{"ref":"C"},"attemptTimeout":"1 seconds","stage":"false",
  "scriptUri":"s3://#{myBucket}/q.q"}],
 "parameters":[{"id":"myBucket","type":"String"}]}`
	sum, p, eng, _ := m.runSource(t, "timeout.json", []byte(src), nil, client)
	if sum.OK {
		t.Fatal("run OK, want H timed out")
	}
	errs := attemptErrors(eng, "@H_")
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "FAILED AttemptTimeout ") {
		t.Errorf("H attempts %v, want one FAILED by AttemptTimeout", errs)
	}
	client.mu.Lock()
	canceled := append([]string(nil), client.canceled...)
	client.mu.Unlock()
	if len(canceled) != 1 {
		t.Errorf("CancelSteps got %v, want the Hive step", canceled)
	}
	info := onlyCluster(t, p)
	if st := m.clusterState(t, info.ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s, want TERMINATED", st)
	}
}

func TestRejectedRunJobFlowFailsTheResourceNamingTheCall(t *testing.T) {
	m := newMoto(t)
	client := m.standIn()
	client.failRunJobFlow = &smithy.GenericAPIError{Code: "ValidationException", Message: "Service role DataPipelineDefaultRole has insufficient EMR permissions."}
	sum, p, eng, _ := m.run(t, "emr_hive.json", nil, client)
	if sum.OK {
		t.Fatal("run OK, want the cluster failed")
	}
	var msg string
	for _, i := range eng.Instances() {
		if strings.HasPrefix(i.ID, "@MyCluster_") {
			msg = i.Status + " " + i.ErrorMessage
		}
	}
	if !strings.HasPrefix(msg, "FAILED") || !strings.Contains(msg, "EMR RunJobFlow: ValidationException: Service role DataPipelineDefaultRole has insufficient EMR permissions.") {
		t.Errorf("cluster instance: %q, want FAILED naming RunJobFlow and AWS's message", msg)
	}
	if cs := p.Clusters(); len(cs) != 1 || cs[0].ClusterID != "" {
		t.Errorf("clusters %+v, want none created", cs)
	}
}

func TestRejectedStepFailsTheAttemptWithoutRetryAndTerminatesStandIn(t *testing.T) {
	m := newMoto(t)
	client := m.standIn()
	client.failAddSteps = &smithy.GenericAPIError{Code: "ValidationException", Message: "Step jar must not be empty."}
	sum, p, eng, _ := m.run(t, "emr_hive.json", map[string][]string{"myRetries": {"2"}}, client)
	if sum.OK {
		t.Fatal("run OK")
	}
	errs := attemptErrors(eng, "@Prepare_")
	if len(errs) != 1 || !strings.Contains(errs[0], task.ErrorIDInvalidTask) || !strings.Contains(errs[0], "EMR AddJobFlowSteps: ValidationException: Step jar must not be empty.") {
		t.Errorf("Prepare attempts %v, want one, failed naming AddJobFlowSteps (a rejected step is not retried)", errs)
	}
	info := onlyCluster(t, p)
	if st := m.clusterState(t, info.ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s, want TERMINATED", st)
	}
}

func TestTerminateAfterEndsTheClusterAndCancelsItsStepsStandIn(t *testing.T) {
	m := newMoto(t)
	client := m.standIn()
	client.hold = func(name string) bool { return strings.Contains(name, "Hive script") }
	src := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","maximumRetries":"0","pipelineLogUri":"s3://#{myBucket}/logs/"},
 {"id":"C","name":"C","type":"EmrCluster","releaseLabel":"emr-6.15.0","terminateAfter":"1 seconds"},
 {"id":"H","name":"H","type":"HiveActivity","runsOn":{"ref":"C"},"stage":"false","scriptUri":"s3://#{myBucket}/q.q"}],
 "parameters":[{"id":"myBucket","type":"String"}]}`
	sum, p, eng, _ := m.runSource(t, "terminate.json", []byte(src), nil, client)
	if sum.OK {
		t.Fatal("run OK, want C timed out")
	}
	var cst, hst string
	for _, i := range eng.Instances() {
		switch {
		case strings.HasPrefix(i.ID, "@C_"):
			cst = i.Status
		case strings.HasPrefix(i.ID, "@H_"):
			hst = i.Status
		}
	}
	if cst != string(executor.TimedOut) || hst != string(executor.Canceled) {
		t.Errorf("cluster %s, activity %s; want TIMEDOUT and CANCELED", cst, hst)
	}
	client.mu.Lock()
	canceled := len(client.canceled)
	client.mu.Unlock()
	if canceled != 1 {
		t.Errorf("%d steps canceled, want the running Hive step", canceled)
	}
	info := onlyCluster(t, p)
	if st := m.clusterState(t, info.ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s after terminateAfter, want TERMINATED", st)
	}
}

// A cluster that ends by itself under running work (STAND-IN: moto's
// cluster stays WAITING; the wrapper answers TERMINATED_WITH_ERRORS once
// the Hive step runs) fails the resource with EMR's reason, CANCELs the
// activity, cancels its step and terminates the cluster at moto.
func TestClusterLostWhileItsStepRunsFailsTheResourceStandIn(t *testing.T) {
	m := newMoto(t)
	client := m.standIn()
	client.hold = func(name string) bool { return strings.Contains(name, "Hive script") }
	client.endsWhenRunning = true
	src := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","maximumRetries":"2","pipelineLogUri":"s3://#{myBucket}/logs/"},
 {"id":"C","name":"C","type":"EmrCluster","releaseLabel":"emr-6.15.0"},
 {"id":"H","name":"H","type":"HiveActivity","runsOn":{"ref":"C"},"stage":"false","scriptUri":"s3://#{myBucket}/q.q"}],
 "parameters":[{"id":"myBucket","type":"String"}]}`
	sum, p, eng, _ := m.runSource(t, "lost.json", []byte(src), nil, client)
	if sum.OK {
		t.Fatal("run OK, want C failed")
	}
	info := onlyCluster(t, p)
	for _, i := range eng.Instances() {
		switch {
		case strings.HasPrefix(i.ID, "@C_"):
			want := "resource lost: EMR cluster " + info.ClusterID + " is TERMINATED_WITH_ERRORS: INSTANCE_FAILURE: (stand-in) the master node was lost"
			if i.Status != string(executor.Failed) || !strings.Contains(i.ErrorMessage, want) {
				t.Errorf("cluster %s %q, want FAILED with %q", i.Status, i.ErrorMessage, want)
			}
		case strings.HasPrefix(i.ID, "@H_"):
			if i.Status != string(executor.Canceled) {
				t.Errorf("activity %s, want CANCELED", i.Status)
			}
		}
	}
	client.mu.Lock()
	canceled := len(client.canceled)
	client.mu.Unlock()
	if canceled != 1 {
		t.Errorf("%d steps canceled, want the running Hive step", canceled)
	}
	if st := m.clusterState(t, info.ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s at moto, want TERMINATED", st)
	}
}

// countingRunJobFlow counts the clusters the provider asked moto for.
type countingRunJobFlow struct {
	*standInSteps
	mu   sync.Mutex
	runs int
}

func (c *countingRunJobFlow) RunJobFlow(ctx context.Context, in *awsemr.RunJobFlowInput, opts ...func(*awsemr.Options)) (*awsemr.RunJobFlowOutput, error) {
	c.mu.Lock()
	c.runs++
	c.mu.Unlock()
	return c.standInSteps.RunJobFlow(ctx, in, opts...)
}

func TestProvisionAfterACrashGoesOnWithTheTaggedCluster(t *testing.T) {
	m := newMoto(t)
	client := &countingRunJobFlow{standInSteps: m.standIn()}
	pipeline := fmt.Sprintf("df-CRASH%d", time.Now().UnixNano())
	run := "1"
	spec := provider.Spec{PipelineID: pipeline, Activation: 1, Object: "C", InstanceID: "@C_2024-01-01T00:00:00", Type: "EmrCluster",
		Objects: map[string]*task.Object{"@C_2024-01-01T00:00:00": {ID: "@C_2024-01-01T00:00:00"}}}
	provision := func() (*emr.Provider, string) {
		p := emr.New(emr.Options{Clients: func(string) emr.Client { return client }, PollInterval: time.Millisecond})
		p.Attach(nopAPI{})
		readyc := make(chan error, 1)
		if _, err := p.Provision(context.Background(), spec, func(err error) { readyc <- err }); err != nil {
			t.Fatal(err)
		}
		if err := <-readyc; err != nil {
			t.Fatal(err)
		}
		return p, p.Clusters()[0].ClusterID
	}
	// The first process makes the cluster and dies (no Terminate).
	_, first := provision()
	// The resumed process provisions the same instance: no second cluster.
	spec.Resumed = true
	p2, second := provision()
	if second != first || client.runs != 1 {
		t.Errorf("resumed provision used %s (first %s) after %d RunJobFlow calls; want the same cluster, 1 call", second, first, client.runs)
	}
	owned, err := emr.ListOwned(context.Background(), m.emr, map[string]string{emr.TagPipeline: pipeline, emr.TagRun: run})
	if err != nil || len(owned) != 1 || owned[0].ID != first {
		t.Errorf("ListOwned = %+v, %v; want the one cluster", owned, err)
	}
	if err := p2.TerminateAll(context.Background(), "test over"); err != nil {
		t.Fatal(err)
	}
	if st := m.clusterState(t, first); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s, want TERMINATED", st)
	}
	if owned, _ := emr.ListOwned(context.Background(), m.emr, map[string]string{emr.TagPipeline: pipeline}); len(owned) != 0 {
		t.Errorf("still live after TerminateAll: %+v", owned)
	}
}

// nopAPI is an engine with no work: the clusters' workers poll it idly.
type nopAPI struct{ executor.API }

func (nopAPI) PollForTask(ctx context.Context, _ executor.PollInput) (*task.Task, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A dpl process killed while its cluster works (simulated: the engine
// stops, nothing terminates the cluster), then resumed on the same state
// folder: the resumed run re-provisions the cluster instance with Resumed,
// goes on with the tagged cluster (no second RunJobFlow), runs the
// interrupted activity again and terminates the cluster at the end.
func TestKilledRunResumesOnTheSameClusterAndTerminatesItStandIn(t *testing.T) {
	m := newMoto(t)
	client := &countingRunJobFlow{standInSteps: m.standIn()}
	running := make(chan struct{}, 1)
	holding := true
	var hmu sync.Mutex
	client.hold = func(name string) bool {
		hmu.Lock()
		defer hmu.Unlock()
		if strings.Contains(name, "Hive script") && holding {
			select {
			case running <- struct{}{}:
			default:
			}
			return true
		}
		return false
	}
	src, err := os.ReadFile(filepath.Join("testdata", "emr_hive.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := definition.Parse("emr_hive.json", src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pipeline := fmt.Sprintf("df-RESUME%d", time.Now().UnixNano())
	engine := func() (*executor.Engine, *emr.Provider) {
		p := emr.New(emr.Options{Clients: func(string) emr.Client { return client }, Store: m.env.Store(),
			PollInterval: 5 * time.Millisecond, MaxPollInterval: 20 * time.Millisecond, Logf: t.Logf})
		reg := provider.NewRegistry()
		reg.RegisterProvider("EmrCluster", p)
		eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: pipeline, Store: db, StateDir: dir,
			Registry: reg, Params: map[string][]string{"myBucket": {m.bucket}}, RetryDelay: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		p.Attach(eng)
		return eng, p
	}
	eng1, p1 := engine()
	ctx1, kill := context.WithCancel(context.Background())
	done1 := make(chan struct{})
	go func() { defer close(done1); _, _ = eng1.Run(ctx1) }()
	select {
	case <-running:
	case <-time.After(time.Minute):
		t.Fatal("the Hive step never ran")
	}
	t.Log("killing the first run")
	kill()
	<-done1
	// What a killed process leaves: the cluster, no worker of its own.
	p1.Detach()
	t.Log("first run stopped")
	first := onlyCluster(t, p1).ClusterID
	if st := m.clusterState(t, first); st == emrtypes.ClusterStateTerminated {
		t.Fatalf("the killed run's cluster is already terminated: nothing to resume on")
	}
	hmu.Lock()
	holding = false
	hmu.Unlock()

	t.Log("resuming")
	eng2, p2 := engine()
	if !eng2.Resumed() {
		t.Fatal("the second engine did not resume the activation")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sum, err := eng2.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.OK {
		t.Fatalf("resumed run: %s %v\n%v", sum.Reason, sum.Counts, attemptErrors(eng2, "@"))
	}
	if err := p2.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := onlyCluster(t, p2).ClusterID; got != first || client.runs != 1 {
		t.Errorf("resumed run used cluster %s (first %s) after %d RunJobFlow calls; want the same one, 1 call", got, first, client.runs)
	}
	if st := m.clusterState(t, first); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s after the resumed run, want TERMINATED", st)
	}
}

// `dpl resources` and the end-of-run cleanup find clusters through
// awsprov's registered kinds: the emr-cluster kind lists a live tagged
// cluster and terminates it.
func TestLeftoverClustersAreListedAndTerminatedThroughAwsprov(t *testing.T) {
	m := newMoto(t)
	pipeline := fmt.Sprintf("df-LEFT%d", time.Now().UnixNano())
	spec := provider.Spec{PipelineID: pipeline, Activation: 3, Object: "C", InstanceID: "@C_2024-01-01T00:00:00", Type: "EmrCluster",
		Objects: map[string]*task.Object{"@C_2024-01-01T00:00:00": {ID: "@C_2024-01-01T00:00:00"}}}
	in, err := emr.RunJobFlowRequest(spec)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.emr.RunJobFlow(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	env := &awsprov.Env{AWS: m.env}
	owned, err := env.Leftovers(context.Background(), map[string]string{emr.TagPipeline: pipeline})
	if err != nil {
		t.Fatal(err)
	}
	if len(owned) != 1 || owned[0].Kind != emr.KindCluster || owned[0].ID != aws.ToString(out.JobFlowId) || owned[0].Tags[emr.TagRun] != "3" {
		t.Fatalf("leftovers %+v, want the one cluster", owned)
	}
	if err := env.Terminate(context.Background(), owned); err != nil {
		t.Fatal(err)
	}
	if st := m.clusterState(t, owned[0].ID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s after cleanup, want TERMINATED", st)
	}
}

func TestInitTimeoutTerminatesAClusterThatNeverGetsReadyStandIn(t *testing.T) {
	m := newMoto(t)
	client := m.standIn()
	client.starting = true
	src := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","maximumRetries":"0","pipelineLogUri":"s3://#{myBucket}/logs/"},
 {"id":"C","name":"C","type":"EmrCluster","releaseLabel":"emr-6.15.0","initTimeout":"1 seconds","actionOnResourceFailure":"retrynone"},
 {"id":"W","name":"W","type":"EmrActivity","runsOn":{"ref":"C"},"step":"command-runner.jar,true"}],
 "parameters":[{"id":"myBucket","type":"String"}]}`
	sum, p, eng, _ := m.runSource(t, "init.json", []byte(src), nil, client)
	if sum.OK {
		t.Fatal("run OK, want C failed")
	}
	var cst, wst string
	for _, i := range eng.Instances() {
		switch {
		case strings.HasPrefix(i.ID, "@C_"):
			cst = i.Status + " " + i.ErrorMessage
		case strings.HasPrefix(i.ID, "@W_"):
			wst = i.Status
		}
	}
	if !strings.HasPrefix(cst, "FAILED") || !strings.Contains(cst, "initTimeout") || wst != string(executor.Canceled) {
		t.Errorf("cluster %q, activity %s; want FAILED by initTimeout and CANCELED", cst, wst)
	}
	info := onlyCluster(t, p)
	if st := m.clusterState(t, info.ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s after initTimeout, want TERMINATED", st)
	}
}

func TestClusterFailingItsBootstrapFailsTheResourceWithEMRsReasonStandIn(t *testing.T) {
	m := newMoto(t)
	client := m.standIn()
	client.bootstrapFails = true
	sum, p, eng, _ := m.run(t, "emr_hive.json", nil, client)
	if sum.OK {
		t.Fatal("run OK, want the cluster failed")
	}
	var msg string
	for _, i := range eng.Instances() {
		if strings.HasPrefix(i.ID, "@MyCluster_") {
			msg = i.Status + " " + i.ErrorMessage
		}
	}
	if !strings.HasPrefix(msg, "FAILED") || !strings.Contains(msg, "TERMINATED_WITH_ERRORS before it was ready: BOOTSTRAP_FAILURE: (stand-in) bootstrap action 1 returned a non-zero return code") {
		t.Errorf("cluster instance %q, want FAILED with EMR's state change reason", msg)
	}
	info := onlyCluster(t, p)
	if st := m.clusterState(t, info.ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s (through moto), want TERMINATED", st)
	}
}

func TestThrottledDescribeStepIsRetriedThenFailsClearlyStandIn(t *testing.T) {
	m := newMoto(t)
	// A few throttled polls in a row: the run goes on.
	client := m.standIn()
	client.throttle = 3
	sum, p, eng, _ := m.run(t, "emr_hive.json", nil, client)
	if !sum.OK {
		t.Fatalf("run with 3 throttled polls: %s\n%v", sum.Reason, attemptErrors(eng, "@"))
	}
	if st := m.clusterState(t, onlyCluster(t, p).ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s, want TERMINATED", st)
	}
	// Throttled for good: the attempt fails naming the call, the cluster ends.
	client = m.standIn()
	client.throttle = 1000
	sum, p, eng, _ = m.run(t, "emr_hive.json", nil, client)
	if sum.OK {
		t.Fatal("run OK while every DescribeStep was throttled")
	}
	errs := attemptErrors(eng, "@Prepare_")
	if len(errs) != 1 || !strings.Contains(errs[0], "EMR_APIError") || !strings.Contains(errs[0], "EMR DescribeStep: ThrottlingException: Rate exceeded (5 times in a row)") {
		t.Errorf("Prepare attempts %v, want a failure naming DescribeStep and AWS's message", errs)
	}
	if st := m.clusterState(t, onlyCluster(t, p).ClusterID); st != emrtypes.ClusterStateTerminated {
		t.Errorf("cluster is %s, want TERMINATED", st)
	}
}
