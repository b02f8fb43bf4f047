package validate

import (
	"strings"

	"github.com/dpl-dev/dpl/schemas"
)

// Families of object types (format.md §3), from the schemas catalogue;
// the semantic rules depend on what an object is.
const (
	famActivity     = string(schemas.FamilyActivity)
	famDataNode     = string(schemas.FamilyDataNode)
	famResource     = string(schemas.FamilyResource)
	famPrecondition = string(schemas.FamilyPrecondition)
	famSchedule     = string(schemas.FamilySchedule)
)

// familyOf returns the family of a type name ("" when unknown).
func familyOf(typ string) string {
	if t, ok := schemas.TypeInfo(typ); ok {
		return string(t.Family)
	}
	return ""
}

// schedulable reports whether objects of the family need a schedule.
func schedulable(fam string) bool {
	return fam == famActivity || fam == famDataNode || fam == famResource
}

var typeNames = schemas.TypeNames()

// allFieldNames is every writable field of every type, for objects
// without a type (Default, templates), whose fields go to any object.
var allFieldNames = schemas.AllFieldNames()

func knownAnywhere(key string) bool { return len(schemas.TypesWithField(key)) > 0 || key == "parent" }

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
