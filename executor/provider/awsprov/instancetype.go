package awsprov

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/validate"
)

// `dpl validate` knows the EC2 instance types offline: the SDK's
// InstanceType enum (the types EC2 published when the SDK was built) is
// the list, so that a mistyped instanceType is a positioned finding
// instead of a RunInstances or RunJobFlow failure minutes into a run. It
// is a warning, not an error: EC2 adds types after the SDK is built, and a
// newer type must not stop a definition that uses it. The check is
// registered with validate from here so that definition/ stays free of
// the executor and of the SDK.
func init() {
	validate.Register("awsprov: EC2 instance types of Ec2Resource and EmrCluster", checkInstanceTypes)
}

// InstanceTypeFields are the fields, by resource type, that name an EC2
// instance type.
var InstanceTypeFields = map[string][]string{
	"Ec2Resource": {"instanceType"},
	"EmrCluster":  {"masterInstanceType", "coreInstanceType", "taskInstanceType"},
}

var (
	knownTypes = func() map[string]bool {
		m := map[string]bool{}
		for _, t := range types.InstanceType("").Values() {
			m[string(t)] = true
		}
		return m
	}()
	// typeNames are the known types sorted, for suggestions.
	typeNames = func() []string {
		out := make([]string, 0, len(knownTypes))
		for t := range knownTypes {
			out = append(out, t)
		}
		sort.Strings(out)
		return out
	}()
)

// KnownInstanceType reports whether EC2 (as the SDK knows it) has the
// instance type.
func KnownInstanceType(t string) bool { return knownTypes[t] }

// SuggestInstanceType is the known instance type closest to t, or "" when
// none is close: the same type in another case, else one within a couple
// of edits, else the known size of the same family closest in name.
func SuggestInstanceType(t string) string {
	lower := strings.ToLower(strings.TrimSpace(t))
	if knownTypes[lower] {
		return lower
	}
	best, bestD := "", 1<<30
	for _, c := range typeNames {
		if d := definition.EditDistance(lower, c); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(lower)/4) {
		return best
	}
	return ""
}

// judged reports whether a written value is a plain instance type name
// (not a parameter, an expression or a template placeholder, whose value
// is known only when the definition is instantiated or run).
func judged(s string) bool {
	return !strings.Contains(s, "#{") && !strings.Contains(s, "${") && !strings.Contains(s, "{{")
}

// checkInstanceTypes reports each written instance type field of an
// Ec2Resource or EmrCluster whose value EC2 does not know, at the field
// (once per written field, also when several resources inherit it).
func checkInstanceTypes(d *definition.Definition, _ validate.Options) []definition.Diagnostic {
	var out []definition.Diagnostic
	seen := map[definition.Pos]bool{}
	for _, o := range d.Objects {
		eff := d.Effective(o)
		for _, key := range InstanceTypeFields[eff.Type] {
			f := eff.Get(key)
			if f == nil || f.IsSecret() || len(f.Values) != 1 || f.Values[0].IsRef {
				continue // other checks report refs and lists
			}
			v := f.Values[0].Str
			t := strings.TrimSpace(v)
			if t == "" || !judged(t) || knownTypes[t] {
				continue
			}
			pos := f.Pos
			if !pos.IsValid() {
				pos = o.Pos
			}
			if seen[pos] {
				continue
			}
			seen[pos] = true
			owner := f.Owner
			if owner == "" {
				owner = o.ID
			}
			msg := fmt.Sprintf("%q is not an EC2 instance type dpl knows (%d types, as of its AWS SDK)", v, len(knownTypes))
			if owner != o.ID {
				msg += fmt.Sprintf(" (%s %s inherits it)", eff.Type, o.ID)
			}
			hint := "unless it is newer than dpl, RunInstances will refuse it"
			if eff.Type == "EmrCluster" {
				hint = "unless it is newer than dpl, RunJobFlow will refuse it"
			}
			if s := SuggestInstanceType(t); s != "" && s != v {
				hint = fmt.Sprintf("did you mean %q? %s", s, strings.Replace(hint, "unless", "Unless", 1))
			}
			out = append(out, definition.Diagnostic{Severity: definition.SeverityWarning, Code: "INVALID_FIELD_VALUE",
				ObjectID: owner, Field: key, Message: msg, Hint: hint, Pos: pos})
		}
	}
	return out
}
