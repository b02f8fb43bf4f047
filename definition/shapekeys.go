package definition

import (
	"fmt"
	"strings"
)

// checkMembers reports the members of an API or CloudFormation shape
// object that the shape does not have. The reader would otherwise drop a
// mistyped key silently (`tringValue`, `RefValu`, `parameterObject`), so a
// key close to a known one is an error with a did-you-mean, like any other
// unknown name; one close to nothing is a warning. It returns whether it
// reported an error.
func (b *builder) checkMembers(n *jnode, owner, field string, known ...string) bool {
	if n == nil || n.kind != jObject {
		return false
	}
	reported := false
	for _, m := range n.keys {
		if containsString(known, m.key) {
			continue
		}
		shown := m.key
		cands := known
		if b.d.Format == FormatCloudFormation {
			shown = capitalize(m.key) // lowerKeys lowered what the template wrote
			cands = make([]string, len(known))
			for i, k := range known {
				cands[i] = capitalize(k)
			}
		}
		where := field
		if where == "" {
			where = m.key
		}
		if s := closestName(shown, cands); s != "" {
			b.d.Diagnostics = append(b.d.Diagnostics, Diagnostic{Severity: SeverityError, Code: "UNKNOWN_KEY", ObjectID: owner,
				Field: where, Message: fmt.Sprintf("%q is not a member here (%s); it is ignored", shown, strings.Join(cands, ", ")),
				Hint: fmt.Sprintf("did you mean %q?", s), Pos: b.at(m.keyPos)})
			reported = true
			continue
		}
		b.warnf(m.keyPos, owner, where, "UNKNOWN_KEY", "%q is not a member here (%s); it is ignored", shown, strings.Join(cands, ", "))
	}
	return reported
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// closestName returns the candidate closest to name: equal ignoring case,
// else within an edit distance of a third of its length (at least 2); ""
// when none is close. Ties go to the earlier candidate.
func closestName(name string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
		if d := EditDistance(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	return ""
}
