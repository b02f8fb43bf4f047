package schedule

import "strings"

// Kind is the scheduling family of an object type.
type Kind int

const (
	KindOther        Kind = iota // databases, data formats, utilities, unknown types: not scheduled
	KindActivity                 // scheduled; waits on inputs, dependsOn, preconditions
	KindDataNode                 // scheduled; waits on its producer and preconditions
	KindResource                 // scheduled; created at the interval start whatever the scheduleType
	KindPrecondition             // evaluated per referring instance, not scheduled
	KindAction                   // fired per referring instance, not scheduled
	KindSchedule                 // the Schedule object itself
)

var kindNames = [...]string{"other", "activity", "datanode", "resource", "precondition", "action", "schedule"}

func (k Kind) String() string { return kindNames[k] }

// Schedulable reports whether objects of this kind get instances.
func (k Kind) Schedulable() bool { return k == KindActivity || k == KindDataNode || k == KindResource }

// kinds maps the documented type names (format.md §3) to their family.
var kinds = map[string]Kind{
	"CopyActivity": KindActivity, "ShellCommandActivity": KindActivity, "SqlActivity": KindActivity,
	"EmrActivity": KindActivity, "HadoopActivity": KindActivity, "HiveActivity": KindActivity,
	"HiveCopyActivity": KindActivity, "PigActivity": KindActivity, "RedshiftCopyActivity": KindActivity,
	"S3DataNode": KindDataNode, "SqlDataNode": KindDataNode, "MySqlDataNode": KindDataNode,
	"DynamoDBDataNode": KindDataNode, "RedshiftDataNode": KindDataNode,
	"Ec2Resource": KindResource, "EmrCluster": KindResource,
	"DynamoDBDataExists": KindPrecondition, "DynamoDBTableExists": KindPrecondition,
	"S3KeyExists": KindPrecondition, "S3PrefixNotEmpty": KindPrecondition,
	"ShellCommandPrecondition": KindPrecondition, "Exists": KindPrecondition,
	"SnsAlarm": KindAction, "Terminate": KindAction,
	"Schedule": KindSchedule,
}

// KindOf returns the family of a type name. Type names are case-sensitive
// as in the service; an unknown name ending in Activity or DataNode is
// classified by its suffix so that new types still get scheduled.
func KindOf(typeName string) Kind {
	if k, ok := kinds[typeName]; ok {
		return k
	}
	switch {
	case strings.HasSuffix(typeName, "Activity"):
		return KindActivity
	case strings.HasSuffix(typeName, "DataNode"):
		return KindDataNode
	}
	return KindOther
}

// Component is one schedulable object with its effective schedule and the
// components it links to (ids of schedulable components only).
type Component struct {
	ID           string
	Type         string
	Kind         Kind
	Schedule     *Schedule // nil when the object has no usable schedule: no instances
	ScheduleType Type      // effective scheduleType (resources keep it but ignore it)
	Order        int       // position in the topological order of the component graph

	Inputs        []string // input data nodes
	Outputs       []string // output data nodes
	DependsOn     []string // dependsOn targets
	Producers     []string // data nodes: the activities naming this node as output
	RunsOn        string   // resource, "" when none
	Preconditions []string // precondition objects (not scheduled)

	waits []*Component // inputs, dependsOn and producers, deduplicated, in that order
	runs  *Component
}
