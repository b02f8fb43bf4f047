package awsx_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/objstore"
)

const crossRegionSample = "../../../shared/corpus/files/awslabs-data-pipeline-samples/samples__dynamodb-to-dynamodb-crossregion__pipeline.json"

// TestCrossRegionSampleSteps runs the steps of the published cross-region
// sample as written, with their #{...} expressions replaced by the values
// the engine computes for them, against moto with two regions. It pins
// down what the engine must supply; the full `dpl run` is the engine's
// test.
func TestCrossRegionSampleSteps(t *testing.T) {
	data, err := os.ReadFile(crossRegionSample)
	if err != nil {
		t.Skipf("corpus sample not present: %v", err)
	}
	var def struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(data, &def); err != nil {
		t.Fatal(err)
	}
	objects := map[string]map[string]any{}
	for _, o := range def.Objects {
		objects[o["id"].(string)] = o
	}
	stepOf := func(id string) string {
		return objects[id]["step"].([]any)[0].(string)
	}

	env := motoEnv(t)
	ctx := context.Background()
	store, bucket := newBucket(t, env)
	const srcRegion, dstRegion = "us-east-1", "eu-west-1"
	src, dst := unique("SrcTable"), unique("DstTable")
	createTable(t, env.DynamoDB(srcRegion), src, false)
	createTable(t, env.DynamoDB(dstRegion), dst, true)
	var items []map[string]types.AttributeValue
	for i := 0; i < 120; i++ {
		items = append(items, typedItem(i))
	}
	putItems(t, env.DynamoDB(srcRegion), src, items)

	// Values of the expressions the two steps use (S3TempLocation's
	// directoryPath is #{myTempS3Folder}/#{format(@scheduledStartTime,...)}).
	tempDir := "s3://" + bucket + "/ddb-temp/2024-01-01-00-00-00"
	values := map[string]string{
		"#{myDDBSourceRegion}":             srcRegion,
		"#{myDDBDestinationRegion}":        dstRegion,
		"#{output.directoryPath}":          tempDir,
		"#{input.directoryPath}":           tempDir,
		"#{input.tableName}":               src,
		"#{output.tableName}":              dst,
		"#{input.readThroughputPercent}":   "0.25", // parameter default
		"#{output.writeThroughputPercent}": "0.25",
	}
	eval := func(s string) string {
		for k, v := range values {
			s = strings.ReplaceAll(s, k, v)
		}
		if strings.Contains(s, "#{") {
			t.Fatalf("unevaluated expression left in %q", s)
		}
		return s
	}
	regionOf := func(activity string) string {
		// EmrCluster.region of the activity's runsOn; the DynamoDB nodes
		// of this sample carry no region field.
		cluster := objects[activity]["runsOn"].(map[string]any)["ref"].(string)
		return eval(objects[cluster]["region"].(string))
	}
	for _, id := range []string{"TableBackupActivity", "TableLoadActivity"} {
		ts, ok := awsx.ParseDynamoDBToolStep(eval(stepOf(id)))
		if !ok || ts.Err != nil {
			t.Fatalf("%s: step not runnable natively: ok=%v err=%v", id, ok, ts.Err)
		}
		if region := regionOf(id); region != ts.JarRegion {
			t.Errorf("%s: cluster region %s, jar region %s", id, region, ts.JarRegion)
		}
		if err := env.RunToolStep(ctx, ts, regionOf(id), store, t.Logf); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if got, want := scanAll(t, env.DynamoDB(dstRegion), dst), scanAll(t, env.DynamoDB(srcRegion), src); len(got) != 120 || !reflect.DeepEqual(got, want) {
		t.Fatalf("destination differs from source (%d vs %d items)", len(got), len(want))
	}

	// S3CleanupActivity: its `sudo yum` part assumes an EMR host. With the
	// child environment the aws CLI part alone works against moto.
	cleanup := objects["S3CleanupActivity"]["command"].(string)
	if !strings.Contains(cleanup, "sudo yum") {
		t.Fatalf("cleanup command changed: %q", cleanup)
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not on PATH; cleanup command not tried")
	}
	rm := strings.TrimSuffix(strings.SplitN(eval(cleanup), "&& (", 2)[1], ")")
	cmd := exec.Command("/bin/sh", "-c", rm)
	cmd.Env = append(os.Environ(), env.ChildEnv()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", rm, err, out)
	}
	if left, _ := objstore.PrefixNotEmpty(ctx, store, tempDir+"/"); left {
		t.Fatal("aws s3 rm --recursive left objects behind")
	}
}
