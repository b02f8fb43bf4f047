package emr

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsemr "github.com/aws/aws-sdk-go-v2/service/emr"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emr/types"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	"github.com/dpl-dev/dpl/executor/task"
)

// Defaults the service applied when an EmrCluster leaves a field out.
const (
	// DefaultReleaseLabel is used when neither releaseLabel nor amiVersion
	// is set (the last emr-5 release: Hive 2 and Pig, as the service ran).
	DefaultReleaseLabel = "emr-5.36.2"
	// DefaultInstanceType is the master, core and task type when not set.
	DefaultInstanceType = "m5.xlarge"
	// DefaultRole and DefaultResourceRole are the roles the service's
	// console and templates create; an EmrCluster without role or
	// resourceRole (and no Default to inherit them from) uses them.
	DefaultRole         = "DataPipelineDefaultRole"
	DefaultResourceRole = "DataPipelineDefaultResourceRole"
)

// Tag keys of the resources dpl creates (ownership: crash cleanup and
// `dpl resources` find them by these).
const (
	TagPipeline = awsprov.TagPipeline
	TagRun      = awsprov.TagRun
	TagObject   = awsprov.TagObject
	TagInstance = awsprov.TagInstance
)

// cluster is what RunJobFlow is built from: the resource object and the
// objects it refers to.
type cluster struct {
	spec provider.Spec
	obj  *task.Object
}

func newCluster(spec provider.Spec) (*cluster, error) {
	if spec.Objects == nil {
		spec.Objects = objectsFromValues(spec)
	}
	obj := spec.Objects[spec.InstanceID]
	if obj == nil {
		return nil, fmt.Errorf("%s: the engine gave no fields for the resource (its fields do not evaluate?)", spec.InstanceID)
	}
	return &cluster{spec: spec, obj: obj}, nil
}

func (c *cluster) get(key string) string { return strings.TrimSpace(c.obj.Get(key)) }

func (c *cluster) ref(o *task.Object, key string) *task.Object {
	for _, id := range o.Refs(key) {
		if r := c.spec.Objects[id]; r != nil {
			return r
		}
	}
	return nil
}

func (c *cluster) refs(o *task.Object, key string) []*task.Object {
	var out []*task.Object
	for _, id := range o.Refs(key) {
		if r := c.spec.Objects[id]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

// component is the EmrCluster object's id (the instance's @componentParent).
func (c *cluster) component() string {
	if p := c.obj.Refs("@componentParent"); len(p) > 0 {
		return p[0]
	}
	id := strings.TrimPrefix(c.spec.InstanceID, "@")
	if i := strings.LastIndex(id, "_"); i > 0 {
		id = id[:i]
	}
	return id
}

// region is the cluster's own region field, else "" (the SDK's).
func (c *cluster) region() string { return awsx.NormalizeRegion(c.get("region")) }

// releaseBased reports whether the cluster uses a release label (EMR 4+:
// command-runner.jar and applications) rather than an AMI version.
func (c *cluster) releaseBased() bool { return c.get("amiVersion") == "" }

// logURI is where EMR writes the cluster's logs: emrLogUri, else a folder
// of the pipeline's pipelineLogUri for this resource instance, else none.
func (c *cluster) logURI() string {
	if u := c.get("emrLogUri"); u != "" {
		return strings.TrimRight(u, "/") + "/"
	}
	if u := c.get("pipelineLogUri"); u != "" {
		return strings.TrimRight(u, "/") + "/" + c.spec.PipelineID + "/" + c.component() + "/" + safeName(c.spec.InstanceID) + "/"
	}
	return ""
}

// safeName turns an instance or attempt id into one S3 key segment.
func safeName(id string) string {
	return strings.NewReplacer("@", "", ":", "", "/", "_", " ", "_").Replace(id)
}

// FieldError is an EmrCluster field that cannot become a RunJobFlow
// request; Object and Field position it.
type FieldError struct {
	Object, Field, Message string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: field %s: %s", e.Object, e.Field, e.Message)
}

func (c *cluster) fieldErr(obj *task.Object, field, format string, args ...any) error {
	id := obj.ID
	if obj == c.obj {
		id = c.component()
	}
	return &FieldError{Object: id, Field: field, Message: fmt.Sprintf(format, args...)}
}

func (c *cluster) intField(obj *task.Object, key string, def int32) (int32, error) {
	v := strings.TrimSpace(obj.Get(key))
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0, c.fieldErr(obj, key, "%q is not a count (a whole number, 0 or more)", v)
	}
	return int32(n), nil
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

func isTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// RunJobFlowRequest is the request dpl sends to create the cluster of
// spec (an EmrCluster instance): what `dpl plan --resources aws` shows and
// what Provision sends.
func RunJobFlowRequest(spec provider.Spec) (*awsemr.RunJobFlowInput, error) {
	c, err := newCluster(spec)
	if err != nil {
		return nil, err
	}
	return c.request()
}

func (c *cluster) request() (*awsemr.RunJobFlowInput, error) {
	in := &awsemr.RunJobFlowInput{
		Name:              aws.String(clusterName(c.spec)),
		VisibleToAllUsers: aws.Bool(true),
		ServiceRole:       aws.String(orDefault(c.get("role"), DefaultRole)),
		JobFlowRole:       aws.String(orDefault(c.get("resourceRole"), DefaultResourceRole)),
		Tags:              tags(c.spec, c.component()),
	}
	rel, ami := c.get("releaseLabel"), c.get("amiVersion")
	switch {
	case rel != "" && ami != "":
		return nil, c.fieldErr(c.obj, "amiVersion", "set releaseLabel or amiVersion, not both")
	case ami != "":
		in.AmiVersion = aws.String(ami)
	default:
		in.ReleaseLabel = aws.String(orDefault(rel, DefaultReleaseLabel))
	}
	if u := c.logURI(); u != "" {
		in.LogUri = aws.String(u)
	}
	apps := splitList(c.obj.All("applications"))
	if len(apps) > 0 && !c.releaseBased() {
		return nil, c.fieldErr(c.obj, "applications", "applications need a releaseLabel cluster (EMR 4+), not amiVersion %s", ami)
	}
	if c.releaseBased() && len(apps) == 0 {
		// The service installed Hive and Pig when applications was not set.
		apps = []string{"Hive", "Pig"}
	}
	for _, a := range apps {
		in.Applications = append(in.Applications, emrtypes.Application{Name: aws.String(a)})
	}
	confs, err := c.configurations(c.obj, "configuration", 0)
	if err != nil {
		return nil, err
	}
	if len(confs) > 0 && !c.releaseBased() {
		return nil, c.fieldErr(c.obj, "configuration", "configuration needs a releaseLabel cluster (EMR 4+), not amiVersion %s", ami)
	}
	in.Configurations = confs
	sched, err := c.schedulerClass()
	if err != nil {
		return nil, err
	}
	if sched != "" && c.releaseBased() {
		in.Configurations = withSchedulerClass(in.Configurations, sched)
	}
	if sp := splitList(c.obj.All("supportedProducts")); len(sp) > 0 {
		in.SupportedProducts = sp
	}
	inst, err := c.instances()
	if err != nil {
		return nil, err
	}
	in.Instances = inst
	if sched != "" && !c.releaseBased() {
		// AMI clusters take Hadoop settings from EMR's configure-hadoop
		// bootstrap action (-y: yarn-site.xml); it runs first.
		if major, _, _ := strings.Cut(ami, "."); atoiOr(major, 3) < 3 {
			return nil, c.fieldErr(c.obj, "hadoopSchedulerType", "AMI %s runs Hadoop 1 (no YARN scheduler to choose): use amiVersion 3 or later, or a releaseLabel", ami)
		}
		in.BootstrapActions = append(in.BootstrapActions, emrtypes.BootstrapActionConfig{
			Name: aws.String("Configure Hadoop scheduler: " + path.Ext(sched)[1:]),
			ScriptBootstrapAction: &emrtypes.ScriptBootstrapActionConfig{
				Path: aws.String(regionalBucket(c.region(), "bootstrap-actions/configure-hadoop")),
				Args: []string{"-y", schedulerClassKey + "=" + sched}},
		})
	}
	for i, b := range c.obj.All("bootstrapAction") {
		parts := awsx.SplitStep(b)
		if strings.TrimSpace(parts[0]) == "" {
			return nil, c.fieldErr(c.obj, "bootstrapAction", "value %d %q has no script (want script,arg1,arg2,...)", i+1, b)
		}
		in.BootstrapActions = append(in.BootstrapActions, emrtypes.BootstrapActionConfig{
			Name: aws.String(fmt.Sprintf("bootstrapAction %d: %s", i+1, path.Base(parts[0]))),
			ScriptBootstrapAction: &emrtypes.ScriptBootstrapActionConfig{
				Path: aws.String(parts[0]), Args: parts[1:]},
		})
	}
	if isTrue(c.get("enableDebugging")) {
		if in.LogUri == nil {
			return nil, c.fieldErr(c.obj, "enableDebugging", "debugging needs a log location: set pipelineLogUri (on Default) or emrLogUri")
		}
		in.Steps = append(in.Steps, c.debuggingStep())
	}
	if v := c.get("installHive"); v != "" && !c.releaseBased() {
		// AMI clusters come without Hive: the service installed the
		// version installHive names with a first step.
		in.Steps = append(in.Steps, emrtypes.StepConfig{Name: aws.String("Install Hive " + v), ActionOnFailure: emrtypes.ActionOnFailureTerminateCluster,
			HadoopJarStep: &emrtypes.HadoopJarStepConfig{Jar: aws.String(regionalLib(c.region(), "script-runner/script-runner.jar")),
				Args: []string{regionalLib(c.region(), "hive/hive-script"), "--base-path", regionalLib(c.region(), "hive/"),
					"--install-hive", "--hive-versions", v}}})
	}
	return in, nil
}

// YARN's scheduler classes, as hadoopSchedulerType selects them.
const (
	schedulerClassKey = "yarn.resourcemanager.scheduler.class"
	fairScheduler     = "org.apache.hadoop.yarn.server.resourcemanager.scheduler.fair.FairScheduler"
	capacityScheduler = "org.apache.hadoop.yarn.server.resourcemanager.scheduler.capacity.CapacityScheduler"
)

// schedulerClass is the YARN scheduler hadoopSchedulerType selects: the
// fair or the capacity scheduler; "" for DEFAULT_SCHEDULER or no value
// (the cluster keeps its own default, EMR's capacity scheduler).
func (c *cluster) schedulerClass() (string, error) {
	v := c.get("hadoopSchedulerType")
	switch strings.ToUpper(v) {
	case "", "DEFAULT_SCHEDULER":
		return "", nil
	case "PARALLEL_FAIR_SCHEDULING":
		return fairScheduler, nil
	case "PARALLEL_CAPACITY_SCHEDULING":
		return capacityScheduler, nil
	}
	return "", c.fieldErr(c.obj, "hadoopSchedulerType", "%q: want PARALLEL_FAIR_SCHEDULING, PARALLEL_CAPACITY_SCHEDULING or DEFAULT_SCHEDULER", v)
}

// withSchedulerClass sets the scheduler class in the cluster's yarn-site
// configuration (adding one when there is none); a class the definition's
// own yarn-site configuration sets wins.
func withSchedulerClass(confs []emrtypes.Configuration, class string) []emrtypes.Configuration {
	for i := range confs {
		if aws.ToString(confs[i].Classification) != "yarn-site" {
			continue
		}
		if _, set := confs[i].Properties[schedulerClassKey]; !set {
			if confs[i].Properties == nil {
				confs[i].Properties = map[string]string{}
			}
			confs[i].Properties[schedulerClassKey] = class
		}
		return confs
	}
	return append(confs, emrtypes.Configuration{Classification: aws.String("yarn-site"), Properties: map[string]string{schedulerClassKey: class}})
}

// Unsupported lists the EmrCluster fields of spec that RunJobFlowRequest
// does not send, each with why: dpl validate warns about them and
// Provision logs them, so that no field is dropped silently.
func Unsupported(spec provider.Spec) []*FieldError {
	c, err := newCluster(spec)
	if err != nil {
		return nil
	}
	var out []*FieldError
	if c.get("httpProxy") != "" || len(c.obj.Refs("httpProxy")) > 0 {
		out = append(out, &FieldError{Object: c.component(), Field: "httpProxy",
			Message: "not supported on EMR: the service's Task Runner on the master used the proxy to reach Data Pipeline, but dpl submits the steps itself, and RunJobFlow has no proxy setting for the cluster's applications; the field is ignored (give the subnet a route out, or set the proxy with a bootstrapAction or an EmrConfiguration)"})
	}
	if c.get("installHive") != "" && c.releaseBased() {
		out = append(out, &FieldError{Object: c.component(), Field: "installHive",
			Message: "ignored on a releaseLabel cluster (installHive is for amiVersion clusters): Hive comes from applications (installed unless applications leaves it out)"})
	}
	return out
}

// regionalBucket is a file of EMR's public bucket for region.
func regionalBucket(region, file string) string {
	if region == "" {
		region = awsx.DefaultRegion
	}
	return "s3://" + region + ".elasticmapreduce/" + file
}

// debuggingStep is EMR's "Setup hadoop debugging" step (state pusher).
func (c *cluster) debuggingStep() emrtypes.StepConfig {
	step := emrtypes.StepConfig{Name: aws.String("Setup hadoop debugging"), ActionOnFailure: emrtypes.ActionOnFailureTerminateCluster}
	if c.releaseBased() {
		step.HadoopJarStep = &emrtypes.HadoopJarStepConfig{Jar: aws.String("command-runner.jar"), Args: []string{"state-pusher-script"}}
	} else {
		step.HadoopJarStep = &emrtypes.HadoopJarStepConfig{Jar: aws.String(regionalLib(c.region(), "script-runner/script-runner.jar")),
			Args: []string{regionalLib(c.region(), "state-pusher/0.1/fetch")}}
	}
	return step
}

// regionalLib is a file of EMR's public libs bucket for region.
func regionalLib(region, file string) string { return regionalBucket(region, "libs/"+file) }

func clusterName(spec provider.Spec) string {
	n := spec.PipelineID + " " + spec.InstanceID
	if len(n) > 256 {
		n = n[:256]
	}
	return n
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// splitList flattens multi-valued fields whose values may be comma lists
// ("spark,hive").
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// tags are the ownership tags (awsprov.Tags), sorted.
func tags(spec provider.Spec, component string) []emrtypes.Tag {
	m := awsprov.Tags(spec)
	if m[TagObject] == "" {
		m[TagObject] = component
	}
	out := make([]emrtypes.Tag, 0, len(m))
	for _, k := range awsprov.SortedKeys(m) {
		out = append(out, emrtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// configurations turns EmrConfiguration objects (classification, property
// refs to Property key/value objects, nested configuration refs) into EMR
// configurations.
func (c *cluster) configurations(o *task.Object, key string, depth int) ([]emrtypes.Configuration, error) {
	if depth > 8 {
		return nil, c.fieldErr(o, key, "configurations nested more than 8 deep (a cycle?)")
	}
	ids := o.Refs(key)
	var out []emrtypes.Configuration
	for _, id := range ids {
		conf := c.spec.Objects[id]
		if conf == nil {
			return nil, c.fieldErr(o, key, "refers to %s, which is not an object of the pipeline", id)
		}
		cl := strings.TrimSpace(conf.Get("classification"))
		if cl == "" {
			return nil, c.fieldErr(conf, "classification", "an EmrConfiguration needs a classification (e.g. hive-site)")
		}
		ec := emrtypes.Configuration{Classification: aws.String(cl)}
		for _, p := range c.refs(conf, "property") {
			k := strings.TrimSpace(p.Get("key"))
			if k == "" {
				return nil, c.fieldErr(p, "key", "a Property needs a key")
			}
			if ec.Properties == nil {
				ec.Properties = map[string]string{}
			}
			ec.Properties[k] = p.Get("value")
		}
		nested, err := c.configurations(conf, "configuration", depth+1)
		if err != nil {
			return nil, err
		}
		ec.Configurations = nested
		out = append(out, ec)
	}
	return out, nil
}

// instances builds the instance groups and the network settings.
func (c *cluster) instances() (*emrtypes.JobFlowInstancesConfig, error) {
	inst := &emrtypes.JobFlowInstancesConfig{
		// dpl ends the cluster itself once its work is done.
		KeepJobFlowAliveWhenNoSteps: aws.Bool(true),
		TerminationProtected:        aws.Bool(false),
	}
	coreCount, err := c.intField(c.obj, "coreInstanceCount", 1)
	if err != nil {
		return nil, err
	}
	taskCount, err := c.intField(c.obj, "taskInstanceCount", 0)
	if err != nil {
		return nil, err
	}
	if c.get("coreInstanceBidPrice") != "" && c.get("coreInstanceCount") == "" {
		return nil, c.fieldErr(c.obj, "coreInstanceBidPrice", "a core bid price needs coreInstanceCount")
	}
	// The last start of a cluster with useOnDemandOnLastAttempt drops
	// the bid prices, as Ec2Resource's spotBidPrice.
	onDemand := isTrue(c.get("useOnDemandOnLastAttempt")) && c.spec.Failures >= c.spec.MaximumRetries
	groups := []struct {
		role  emrtypes.InstanceRoleType
		name  string
		count int32
	}{{emrtypes.InstanceRoleTypeMaster, "master", 1}, {emrtypes.InstanceRoleTypeCore, "core", coreCount}, {emrtypes.InstanceRoleTypeTask, "task", taskCount}}
	for _, g := range groups {
		if g.count == 0 {
			continue
		}
		ig := emrtypes.InstanceGroupConfig{
			Name:          aws.String(g.name),
			InstanceRole:  g.role,
			InstanceType:  aws.String(orDefault(c.get(g.name+"InstanceType"), DefaultInstanceType)),
			InstanceCount: aws.Int32(g.count),
			Market:        emrtypes.MarketTypeOnDemand,
		}
		if bid := c.get(g.name + "InstanceBidPrice"); bid != "" {
			ig.Market = emrtypes.MarketTypeSpot
			if onDemand {
				// useOnDemandOnLastAttempt: the last start is on demand
				// (the bid is still checked).
				ig.Market = emrtypes.MarketTypeOnDemand
			}
			if !strings.EqualFold(bid, "OnDemandPrice") {
				f, err := strconv.ParseFloat(bid, 64)
				if err != nil || f <= 0 || f >= 20 {
					return nil, c.fieldErr(c.obj, g.name+"InstanceBidPrice", "%q: want a price in dollars above 0 and below 20.00, or OnDemandPrice", bid)
				}
				if !onDemand {
					ig.BidPrice = aws.String(bid)
				}
			} // else EMR bids the on-demand price (its default, 100%)
		}
		if conf := c.ref(c.obj, g.name+"GroupConfiguration"); conf != nil {
			confs, err := c.configurations(c.obj, g.name+"GroupConfiguration", 0)
			if err != nil {
				return nil, err
			}
			ig.Configurations = confs
		}
		if ebs := c.ref(c.obj, g.name+"EbsConfiguration"); ebs != nil {
			e, err := c.ebs(ebs)
			if err != nil {
				return nil, err
			}
			ig.EbsConfiguration = e
		}
		inst.InstanceGroups = append(inst.InstanceGroups, ig)
	}
	if v := c.get("subnetId"); v != "" {
		inst.Ec2SubnetId = aws.String(v)
	}
	if v := c.get("keyPair"); v != "" {
		inst.Ec2KeyName = aws.String(v)
	}
	if v := c.get("availabilityZone"); v != "" {
		if inst.Ec2SubnetId != nil {
			return nil, c.fieldErr(c.obj, "availabilityZone", "set subnetId or availabilityZone, not both (a subnet has its zone)")
		}
		inst.Placement = &emrtypes.PlacementType{AvailabilityZone: aws.String(v)}
	}
	if v := c.get("emrManagedMasterSecurityGroupId"); v != "" {
		inst.EmrManagedMasterSecurityGroup = aws.String(v)
	}
	if v := c.get("emrManagedSlaveSecurityGroupId"); v != "" {
		inst.EmrManagedSlaveSecurityGroup = aws.String(v)
	}
	if v := c.get("serviceAccessSecurityGroupId"); v != "" {
		inst.ServiceAccessSecurityGroup = aws.String(v)
	}
	inst.AdditionalMasterSecurityGroups = splitList(c.obj.All("additionalMasterSecurityGroupIds"))
	inst.AdditionalSlaveSecurityGroups = splitList(c.obj.All("additionalSlaveSecurityGroupIds"))
	if c.get("hadoopVersion") != "" && !c.releaseBased() {
		inst.HadoopVersion = aws.String(c.get("hadoopVersion"))
	}
	return inst, nil
}

// ebs turns an EbsConfiguration (ebsOptimized, ebsBlockDeviceConfig ->
// volumesPerInstance, volumeSpecification -> volumeType, sizeInGB, iops).
func (c *cluster) ebs(o *task.Object) (*emrtypes.EbsConfiguration, error) {
	e := &emrtypes.EbsConfiguration{}
	if v := o.Get("ebsOptimized"); v != "" {
		e.EbsOptimized = aws.Bool(isTrue(v))
	}
	for _, bd := range c.refs(o, "ebsBlockDeviceConfig") {
		per, err := c.intField(bd, "volumesPerInstance", 1)
		if err != nil {
			return nil, err
		}
		vs := c.ref(bd, "volumeSpecification")
		if vs == nil {
			return nil, c.fieldErr(bd, "volumeSpecification", "an EbsBlockDeviceConfig needs a volumeSpecification")
		}
		size, err := c.intField(vs, "sizeInGB", 0)
		if err != nil {
			return nil, err
		}
		if size == 0 {
			return nil, c.fieldErr(vs, "sizeInGB", "a VolumeSpecification needs sizeInGB")
		}
		typ := strings.TrimSpace(vs.Get("volumeType"))
		if typ == "" {
			return nil, c.fieldErr(vs, "volumeType", "a VolumeSpecification needs volumeType (gp2, gp3, io1, st1, sc1, standard)")
		}
		spec := &emrtypes.VolumeSpecification{VolumeType: aws.String(typ), SizeInGB: aws.Int32(size)}
		if vs.Get("iops") != "" {
			iops, err := c.intField(vs, "iops", 0)
			if err != nil {
				return nil, err
			}
			spec.Iops = aws.Int32(iops)
		}
		e.EbsBlockDeviceConfigs = append(e.EbsBlockDeviceConfigs, emrtypes.EbsBlockDeviceConfig{VolumeSpecification: spec, VolumesPerInstance: aws.Int32(per)})
	}
	return e, nil
}
