package awsprov

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/provider"
)

func TestRecordOpenAfterCreatedAndTerminated(t *testing.T) {
	dir := t.TempDir()
	r := OpenRecord(dir)
	a := Owned{Kind: "ec2-instance", Region: "eu-west-1", ID: "i-1", Tags: map[string]string{TagPipeline: "df-A"}}
	b := Owned{Kind: "ec2-instance", Region: "us-east-1", ID: "i-2", Tags: map[string]string{TagPipeline: "df-A"}}
	for _, err := range []error{r.Created(a), r.Created(b), r.Terminated(a)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A crash while writing leaves a torn last line: it is skipped.
	f, err := os.OpenFile(RecordFile(dir), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"op":"created","kind":"ec2-inst`)
	f.Close()
	open, err := OpenRecord(dir).Open()
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].ID != "i-2" || open[0].Time.IsZero() {
		t.Fatalf("open = %+v, want only i-2 with a time", open)
	}
	if got := r.Regions(); !reflect.DeepEqual(got, []string{"us-east-1"}) {
		t.Fatalf("regions = %v", got)
	}
	if open, err := OpenRecord(filepath.Join(dir, "none")).Open(); err != nil || open != nil {
		t.Fatalf("missing record: %v %v", open, err)
	}
}

func TestParseRouting(t *testing.T) {
	for _, c := range []struct {
		resources string
		per       []string
		awsFor    map[string]bool
		err       string
	}{
		{"", nil, map[string]bool{"Box": false}, ""},
		{"aws", nil, map[string]bool{"Box": true, "Other": true}, ""},
		{"aws", []string{"Box=local"}, map[string]bool{"Box": false, "Other": true}, ""},
		{"local", []string{"Box=aws"}, map[string]bool{"Box": true, "Other": false}, ""},
		{"cloud", nil, nil, `--resources "cloud": want local or aws`},
		{"local", []string{"Box"}, nil, `want ID=aws or ID=local`},
		{"local", []string{"Box=gcp"}, nil, `want ID=aws or ID=local`},
	} {
		r, err := ParseRouting(c.resources, c.per)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q %v: error %v, want %q", c.resources, c.per, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range c.awsFor {
			if r.OnAWS(id) != want {
				t.Errorf("%q %v: OnAWS(%s) = %v", c.resources, c.per, id, !want)
			}
		}
	}
}

// fakeProvider stands in for an AWS provider: it records what reached it.
type fakeProvider struct{ got *[]string }

func (p fakeProvider) Provision(_ context.Context, spec provider.Spec, ready func(error)) (provider.Resource, error) {
	*p.got = append(*p.got, spec.Object)
	ready(nil)
	return nil, nil
}

func (fakeProvider) Plan(env *Env, spec provider.Spec) ([]Request, error) {
	pw, _ := spec.Field("*password")
	it, _ := spec.Field("instanceType")
	return []Request{{API: "RunInstances", Region: env.Region(spec),
		Input: map[string]any{"InstanceType": it, "Password": pw, "Tags": Tags(spec)}}}, nil
}

func TestRegistryRoutesPerObject(t *testing.T) {
	var got []string
	Register("TestFakeResource", func(*Env) provider.Provider { return fakeProvider{&got} })
	t.Cleanup(func() { mu.Lock(); delete(factories, "TestFakeResource"); mu.Unlock() })
	reg := (&Env{}).Registry(provider.NewRegistry(), Routing{Objects: map[string]string{"A": "aws"}})
	p, ok := reg.Provider("TestFakeResource")
	if !ok {
		t.Fatal("no provider registered for the type")
	}
	for _, obj := range []string{"A", "B"} {
		if _, err := p.Provision(context.Background(), provider.Spec{Object: obj, WorkDir: t.TempDir()}, func(error) {}); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got, []string{"A"}) {
		t.Fatalf("the AWS provider got %v, want only A (B goes to the local worker)", got)
	}
}

func TestPlanMasksSecretsAndTagsEachInstance(t *testing.T) {
	var got []string
	// The plan looks at resource types only; Ec2Resource's real provider
	// is not linked into this test binary.
	Register("Ec2Resource", func(*Env) provider.Provider { return fakeProvider{&got} })
	t.Cleanup(func() { mu.Lock(); delete(factories, "Ec2Resource"); mu.Unlock() })
	src := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand"},
 {"id":"Box","type":"Ec2Resource","instanceType":"#{myType}","region":"eu-west-1","*password":"hunter2"},
 {"id":"Work","type":"ShellCommandActivity","command":"true","runsOn":{"ref":"Box"}}],
 "parameters":[{"id":"myType","type":"String","default":"m5.large"}]}`
	d, err := definition.Parse("p.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	planned, _, err := Plan(d, PlanOptions{PipelineID: "df-P", Routing: Routing{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(planned) != 1 || planned[0].Object != "Box" || len(planned[0].Requests) != 1 {
		t.Fatalf("planned = %+v", planned)
	}
	var b strings.Builder
	if err := WritePlan(&b, planned, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"RunInstances in eu-west-1", `"InstanceType": "m5.large"`, `"dpl:object": "Box"`, `"dpl:pipelineId": "df-P"`, definition.Mask} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Fatalf("plan shows a secret:\n%s", out)
	}
}
