package endpoint

import (
	"regexp"
	"sort"
	"strings"
)

// secretMask replaces a secret wherever the API shows pipeline objects to
// viewers (DescribeObjects, QueryObjects' selectors, EvaluateExpression).
// Tasks handed to runners carry the real values: runners need them.
//
// Reading of the service's documentation: a field whose name starts with
// `*` ("Special Characters": encrypted in transit and at rest) and a
// parameter whose id starts with `*` (masked in the console) are secrets.
// GetPipelineDefinition "retrieves the pipeline definition that you
// provided using PutPipelineDefinition", and the AWS CLI's
// get-pipeline-definition/put-pipeline-definition round trip depends on
// it, so that operation returns them as put — to signed callers only,
// which is why `dpl serve` requires signatures by default. Run-time views
// never show them, also not inside evaluated expressions.
const secretMask = "********"

// minSecretLen is the shortest secret replaced inside other text: shorter
// ones would garble every value while hiding nothing worth hiding. Fields
// named `*…` and expressions that read one are masked whatever the length.
const minSecretLen = 3

// secretRef finds an expression that reads a `*` field or parameter.
var secretRef = regexp.MustCompile(`#\{[^}]*\*`)

// secretSet is the secret values of one pipeline, longest first.
type secretSet []string

// secretsOf collects pid's secrets: `*` field values of the active and
// latest definitions and the values of `*` parameters (declared defaults,
// definition values and the activation's values).
func (s *Server) secretsOf(pid string) secretSet {
	p, err := s.reg.get(pid)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	add := func(v string) {
		if len(v) >= minSecretLen {
			seen[v] = true
		}
	}
	for _, d := range []*Definition{p.Active, p.Latest} {
		if d == nil {
			continue
		}
		for _, o := range d.PipelineObjects {
			for _, f := range o.Fields {
				if strings.HasPrefix(f.Key, "*") && f.StringValue != nil {
					add(*f.StringValue)
				}
			}
		}
		secretParams := map[string]bool{}
		for _, po := range d.ParameterObjects {
			if strings.HasPrefix(po.ID, "*") {
				secretParams[po.ID] = true
				for _, a := range po.Attributes {
					if a.Key == "default" {
						add(a.StringValue)
					}
				}
			}
		}
		for _, v := range d.ParameterValues {
			if secretParams[v.ID] || strings.HasPrefix(v.ID, "*") {
				add(v.StringValue)
			}
		}
	}
	for id, vs := range p.ActiveParams {
		if strings.HasPrefix(id, "*") {
			for _, v := range vs {
				add(v)
			}
		}
	}
	out := make(secretSet, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) || len(out[i]) == len(out[j]) && out[i] < out[j] })
	return out
}

// mask replaces every secret inside v.
func (ss secretSet) mask(v string) string {
	for _, sec := range ss {
		if strings.Contains(v, sec) {
			v = strings.ReplaceAll(v, sec, secretMask)
		}
	}
	return v
}

// maskObject returns o with `*` fields masked and secrets inside other
// string values replaced. o's fields are not modified.
func (ss secretSet) maskObject(o PipelineObject) PipelineObject {
	fs := make([]Field, len(o.Fields))
	for i, f := range o.Fields {
		if f.StringValue != nil {
			v := *f.StringValue
			if strings.HasPrefix(f.Key, "*") {
				v = secretMask
			} else {
				v = ss.mask(v)
			}
			f.StringValue = &v
		}
		fs[i] = f
	}
	o.Fields = fs
	return o
}

// maskExpression masks an EvaluateExpression result: wholly when the
// expression reads a `*` field or parameter, else the secrets inside it.
func (ss secretSet) maskExpression(expression, result string) string {
	if secretRef.MatchString(expression) {
		return secretMask
	}
	return ss.mask(result)
}
