package validate

import (
	"sort"
	"strings"
)

// Families of object types (format.md §3), used by the semantic rules that
// depend on what an object is rather than on its fields.
const (
	famActivity     = "activity"
	famDataNode     = "datanode"
	famResource     = "resource"
	famPrecondition = "precondition"
	famDatabase     = "database"
	famDataFormat   = "dataformat"
	famAction       = "action"
	famSchedule     = "schedule"
	famUtility      = "utility"
)

var families = map[string]string{
	"S3DataNode": famDataNode, "SqlDataNode": famDataNode, "MySqlDataNode": famDataNode,
	"DynamoDBDataNode": famDataNode, "RedshiftDataNode": famDataNode,
	"CopyActivity": famActivity, "ShellCommandActivity": famActivity, "SqlActivity": famActivity,
	"EmrActivity": famActivity, "HadoopActivity": famActivity, "HiveActivity": famActivity,
	"HiveCopyActivity": famActivity, "PigActivity": famActivity, "RedshiftCopyActivity": famActivity,
	"Ec2Resource": famResource, "EmrCluster": famResource,
	"DynamoDBDataExists": famPrecondition, "DynamoDBTableExists": famPrecondition, "S3KeyExists": famPrecondition,
	"S3PrefixNotEmpty": famPrecondition, "ShellCommandPrecondition": famPrecondition, "Exists": famPrecondition,
	"JdbcDatabase": famDatabase, "RdsDatabase": famDatabase, "RedshiftDatabase": famDatabase,
	"CSV": famDataFormat, "TSV": famDataFormat, "Custom": famDataFormat, "RegEx": famDataFormat,
	"DynamoDBDataFormat": famDataFormat, "DynamoDBExportDataFormat": famDataFormat,
	"SnsAlarm": famAction, "Terminate": famAction,
	"Schedule":  famSchedule,
	"HttpProxy": famUtility, "ShellScriptConfig": famUtility, "EmrConfiguration": famUtility, "Property": famUtility,
	"EbsConfiguration": famUtility, "EbsBlockDeviceConfig": famUtility, "VolumeSpecification": famUtility,
}

// familyOf returns the family of a type name ("" when unknown).
func familyOf(typ string) string { return families[typ] }

// schedulable reports whether objects of the family need a schedule.
func schedulable(fam string) bool {
	return fam == famActivity || fam == famDataNode || fam == famResource
}

var typeNames = func() []string {
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}()

// suggest returns the candidate closest to name ("" when none is close):
// a case-insensitive match first, then the smallest edit distance within
// a third of the name's length.
func suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
