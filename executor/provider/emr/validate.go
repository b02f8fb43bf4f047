package emr

import (
	"errors"
	"strings"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/validate"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/schedule"
)

// The RunJobFlow rules are checked by validate through a registered check
// rather than copied into definition as data: RunJobFlowRequest stays the
// one place that knows them, so `dpl validate` reports exactly what a run
// would refuse, and definition/validate does not import the executor.
func init() {
	validate.Register("emr: EmrCluster fields RunJobFlow is built from", checkClusters)
}

// codeRequest files the findings: a field that cannot become the cluster's
// RunJobFlow request.
const codeRequest = "INVALID_FIELD_VALUE"

// codeUnsupported files the warnings: a field dpl does not send to EMR.
const codeUnsupported = "UNSUPPORTED_FIELD"

// checkClusters builds each EmrCluster's RunJobFlow request offline, its
// fields evaluated with the parameters only, and reports the field error
// the run would raise, at the field (or its object when the field is
// missing). Fields whose value depends on run-time expressions (or on a
// secret parameter) are passed as written and never reported themselves.
// The builder stops at the first error: one finding per cluster.
func checkClusters(d *definition.Definition, opts validate.Options) []definition.Diagnostic {
	var out []definition.Diagnostic
	ev := &schedule.Evaluator{Def: d, Params: opts.Values}
	for _, o := range d.Objects {
		if d.Effective(o).Type != "EmrCluster" {
			continue
		}
		type fieldKey struct{ object, key string }
		dynamic := map[fieldKey]bool{}
		values := func(objectID, key string) []string {
			if objectID == "" {
				objectID = o.ID
			}
			obj := d.Object(objectID)
			if obj == nil {
				return nil
			}
			f := d.Effective(obj).Get(key)
			if f == nil {
				return nil
			}
			var vs []string
			for _, v := range f.Values {
				switch {
				case f.IsSecret():
					vs = append(vs, definition.Mask)
				case v.IsRef:
					vs = append(vs, v.Ref)
				case strings.Contains(v.Str, "#{*"):
					dynamic[fieldKey{objectID, key}] = true
					vs = append(vs, v.Str)
				default:
					s, err := ev.Expand(objectID, key, v.Str)
					if err != nil {
						dynamic[fieldKey{objectID, key}] = true
						s = v.Str
					}
					vs = append(vs, s)
				}
			}
			return vs
		}
		spec := provider.Spec{PipelineID: "df-VALIDATE", Activation: 1, Object: o.ID, InstanceID: "@" + o.ID + "_validate",
			Type: "EmrCluster", Values: values}
		for _, u := range Unsupported(spec) {
			if diag := positioned(d, u, definition.SeverityWarning, codeUnsupported, "dpl does not send it to EMR"); diag != nil {
				out = append(out, *diag)
			}
		}
		_, err := RunJobFlowRequest(spec)
		var fe *FieldError
		if !errors.As(err, &fe) || dynamic[fieldKey{fe.Object, fe.Field}] {
			continue
		}
		if diag := positioned(d, fe, definition.SeverityError, codeRequest, "the EMR cluster's RunJobFlow request cannot be built from it"); diag != nil {
			out = append(out, *diag)
		}
	}
	return out
}

// positioned is fe as a diagnostic at its field (else its object); nil
// when the object is gone or the field refers to a missing object
// (validate reports MISSING_REF).
func positioned(d *definition.Definition, fe *FieldError, sev definition.Severity, code, hint string) *definition.Diagnostic {
	obj := d.Object(fe.Object)
	if obj == nil {
		return nil
	}
	pos := obj.Pos
	if f := d.Effective(obj).Get(fe.Field); f != nil {
		if missingRef(d, f) {
			return nil
		}
		if f.Pos.IsValid() {
			pos = f.Pos
		}
	}
	return &definition.Diagnostic{Severity: sev, Code: code, ObjectID: fe.Object, Field: fe.Field, Message: fe.Message, Hint: hint, Pos: pos}
}

func missingRef(d *definition.Definition, f *definition.Field) bool {
	for _, v := range f.Values {
		if v.IsRef && d.Object(v.Ref) == nil {
			return true
		}
	}
	return false
}
