package validate

import (
	"strings"

	"github.com/dpl-dev/dpl/definition"
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
		d := definition.EditDistance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	return ""
}
