package main

import (
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
)

// --serve is needed only when an Ec2Resource goes to AWS (its task runner
// polls the run's API); EmrClusters on EMR and local resources run without
// it. The message names the object(s).
func TestNeedServeOnlyForEc2ResourcesOnAWS(t *testing.T) {
	src := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand"},
 {"id":"Cluster","name":"Cluster","type":"EmrCluster","releaseLabel":"emr-6.15.0"},
 {"id":"Box","name":"Box","type":"Ec2Resource"},
 {"id":"BoxBase","name":"BoxBase","type":"Ec2Resource"},
 {"id":"Child","name":"Child","parent":{"ref":"BoxBase"}}]}`
	d, err := definition.Parse("need-serve.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	emrOnly := `{"objects":[{"id":"Default","name":"Default","scheduleType":"ondemand"},
 {"id":"Cluster","name":"Cluster","type":"EmrCluster","releaseLabel":"emr-6.15.0"}]}`
	de, err := definition.Parse("emr-only.json", []byte(emrOnly))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		d       *definition.Definition
		routing awsprov.Routing
		serve   string
		want    string // "" = no error
	}{
		{"only EmrClusters on AWS", de, awsprov.Routing{All: true}, "", ""},
		{"EmrCluster routed alone", d, awsprov.Routing{Objects: map[string]string{"Cluster": "aws"}}, "", ""},
		{"Ec2Resources kept local", d, awsprov.Routing{All: true, Objects: map[string]string{"Box": "local", "BoxBase": "local", "Child": "local"}}, "", ""},
		{"nothing on AWS", d, awsprov.Routing{}, "", ""},
		{"every Ec2Resource on AWS, one inheriting its type", d, awsprov.Routing{All: true}, "", "need-serve.json: Ec2Resources Box, BoxBase, Child go to AWS"},
		{"one Ec2Resource routed", d, awsprov.Routing{Objects: map[string]string{"Box": "aws"}}, "", "need-serve.json: Ec2Resource Box goes to AWS"},
		{"with --serve", d, awsprov.Routing{All: true}, "127.0.0.1:8998", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := needServe(tc.d.File, tc.d, tc.routing, tc.serve)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("needServe: %v, want no error", err)
			case tc.want != "" && err == nil:
				t.Fatalf("needServe: no error, want %q", tc.want)
			case tc.want != "" && (!strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), "--serve ADDR")):
				t.Fatalf("needServe: %v, want it to start with %q and ask for --serve ADDR", err, tc.want)
			}
		})
	}
}
