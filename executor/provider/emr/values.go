package emr

import (
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/task"
)

// The fields the request is built from, per object type: strings and
// references. objectsFromValues reads exactly these through Spec.Values
// when the spec carries no Objects (an offline plan).
var (
	clusterStrings = []string{"releaseLabel", "amiVersion", "applications", "role", "resourceRole",
		"emrLogUri", "pipelineLogUri", "supportedProducts", "bootstrapAction", "enableDebugging", "region",
		"masterInstanceType", "coreInstanceType", "taskInstanceType", "coreInstanceCount", "taskInstanceCount",
		"masterInstanceBidPrice", "coreInstanceBidPrice", "taskInstanceBidPrice",
		"subnetId", "keyPair", "availabilityZone", "emrManagedMasterSecurityGroupId", "emrManagedSlaveSecurityGroupId",
		"serviceAccessSecurityGroupId", "additionalMasterSecurityGroupIds", "additionalSlaveSecurityGroupIds", "hadoopVersion",
		"hadoopSchedulerType", "installHive", "useOnDemandOnLastAttempt"}
	clusterRefs = []string{"configuration", "masterGroupConfiguration", "coreGroupConfiguration", "taskGroupConfiguration",
		"masterEbsConfiguration", "coreEbsConfiguration", "taskEbsConfiguration", "httpProxy"}
	// Referenced objects: their string fields and reference fields.
	helperStrings = []string{"classification", "key", "value", "ebsOptimized", "volumesPerInstance", "volumeType", "sizeInGB", "iops"}
	helperRefs    = []string{"configuration", "property", "ebsBlockDeviceConfig", "volumeSpecification"}
)

// objectsFromValues builds the resource object and the objects it refers
// to from spec.Values (or spec.Field alone, without references).
func objectsFromValues(spec provider.Spec) map[string]*task.Object {
	values := spec.Values
	if values == nil {
		values = func(id, key string) []string {
			if id != "" || spec.Field == nil {
				return nil
			}
			if v, ok := spec.Field(key); ok {
				return []string{v}
			}
			return nil
		}
	}
	objs := map[string]*task.Object{}
	var add func(id, valuesID string, strs, refs []string, depth int)
	add = func(id, valuesID string, strs, refs []string, depth int) {
		if objs[id] != nil || depth > 8 {
			return
		}
		o := &task.Object{ID: id, Name: id}
		objs[id] = o
		for _, k := range strs {
			for _, v := range values(valuesID, k) {
				o.Fields = append(o.Fields, task.Field{Key: k, StringValue: &v})
			}
		}
		for _, k := range refs {
			for _, v := range values(valuesID, k) {
				o.Fields = append(o.Fields, task.Field{Key: k, RefValue: &v})
				add(v, v, helperStrings, helperRefs, depth+1)
			}
		}
	}
	add(spec.InstanceID, "", clusterStrings, clusterRefs, 0)
	if spec.Object != "" && len(objs[spec.InstanceID].Refs("@componentParent")) == 0 {
		obj := spec.Object
		objs[spec.InstanceID].Fields = append(objs[spec.InstanceID].Fields, task.Field{Key: "@componentParent", RefValue: &obj})
	}
	return objs
}
