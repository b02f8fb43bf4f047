package endpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/validate"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/task"
)

// operations are the 19 operations of the service, by name.
var operations map[string]operation

func init() {
	operations = map[string]operation{
		"CreatePipeline":             (*Server).createPipeline,
		"DeletePipeline":             (*Server).deletePipeline,
		"ListPipelines":              (*Server).listPipelines,
		"DescribePipelines":          (*Server).describePipelines,
		"PutPipelineDefinition":      (*Server).putDefinition,
		"ValidatePipelineDefinition": (*Server).validateDefinition,
		"GetPipelineDefinition":      (*Server).getDefinition,
		"ActivatePipeline":           (*Server).activatePipeline,
		"DeactivatePipeline":         (*Server).deactivatePipeline,
		"DescribeObjects":            (*Server).describeObjects,
		"QueryObjects":               (*Server).queryObjects,
		"SetStatus":                  (*Server).setStatus,
		"EvaluateExpression":         (*Server).evaluateExpression,
		"AddTags":                    (*Server).addTags,
		"RemoveTags":                 (*Server).removeTags,
		"PollForTask":                (*Server).pollForTask,
		"ReportTaskProgress":         (*Server).reportTaskProgress,
		"ReportTaskRunnerHeartbeat":  (*Server).heartbeat,
		"SetTaskStatus":              (*Server).setTaskStatus,
	}
}

// Operations lists the operation names the server answers.
func Operations() []string {
	out := make([]string, 0, len(operations))
	for k := range operations {
		out = append(out, k)
	}
	return out
}

func required(name, v string) error {
	if v == "" {
		return invalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", name)
	}
	return nil
}

func checkLen(name, v string, lo, hi int) error {
	if n := utf8.RuneCountInString(v); n < lo || n > hi {
		return invalid("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length between %d and %d", name, lo, hi)
	}
	return nil
}

func checkTags(tags []Tag) error {
	if len(tags) > 10 {
		return invalid("a pipeline has at most 10 tags; %d given", len(tags))
	}
	for _, t := range tags {
		if err := checkLen("tag.key", t.Key, 1, 128); err != nil {
			return err
		}
		if err := checkLen("tag.value", t.Value, 0, 256); err != nil {
			return err
		}
	}
	return nil
}

// CreatePipeline.

func (s *Server) createPipeline(_ context.Context, body []byte) (any, error) {
	var in struct {
		Name, UniqueID, Description string
		Tags                        []Tag
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("name", in.Name); err != nil {
		return nil, err
	}
	if err := required("uniqueId", in.UniqueID); err != nil {
		return nil, err
	}
	if err := checkLen("name", in.Name, 1, 1024); err != nil {
		return nil, err
	}
	if err := checkLen("uniqueId", in.UniqueID, 1, 1024); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	id, err := s.reg.create(in.Name, in.UniqueID, in.Description, in.Tags, s.now())
	if err != nil {
		return nil, err
	}
	return map[string]string{"pipelineId": id}, nil
}

func (s *Server) now() time.Time { return s.opts.Clock.Now().UTC() }

type pipelineIDInput struct {
	PipelineID string `json:"pipelineId"`
}

func (s *Server) deletePipeline(_ context.Context, body []byte) (any, error) {
	var in pipelineIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return nil, err
	}
	// DeletePipeline's model has no PipelineDeletedException: a pipeline
	// deleted before is not found.
	if _, err := s.reg.get(in.PipelineID); err != nil {
		var ae *apiError
		if asAPI(err, &ae) && ae.Code == CodePipelineDeleted {
			return nil, notFound(in.PipelineID)
		}
		return nil, err
	}
	if err := s.reg.update(in.PipelineID, func(p *Pipeline) error {
		p.Deleted = true
		p.Latest, p.Active = nil, nil
		return nil
	}); err != nil {
		return nil, err
	}
	s.dropRun(in.PipelineID)
	if s.db != nil && !s.attached {
		// The run is stopped: its instances, attempts and events go too.
		if err := s.db.DeletePipeline(in.PipelineID); err != nil {
			s.opts.Logf("endpoint: delete %s: %v", in.PipelineID, err)
		}
	}
	return struct{}{}, nil
}

func (s *Server) listPipelines(_ context.Context, body []byte) (any, error) {
	var in struct{ Marker string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	all := s.reg.list()
	start := 0
	if in.Marker != "" {
		n, err := strconv.Atoi(in.Marker)
		if err != nil || n < 0 || n > len(all) {
			return nil, invalid("invalid marker %q", in.Marker)
		}
		start = n
	}
	end := min(start+listPageSize, len(all))
	out := struct {
		PipelineIDList []PipelineIDName `json:"pipelineIdList"`
		Marker         string           `json:"marker,omitempty"`
		HasMoreResults bool             `json:"hasMoreResults"`
	}{PipelineIDList: []PipelineIDName{}}
	for _, p := range all[start:end] {
		out.PipelineIDList = append(out.PipelineIDList, PipelineIDName{ID: p.ID, Name: p.Name})
	}
	if end < len(all) {
		out.Marker, out.HasMoreResults = strconv.Itoa(end), true
	}
	return out, nil
}

func str(k, v string) Field { return Field{Key: k, StringValue: &v} }

const timeLayout = "2006-01-02T15:04:05"

func (s *Server) describePipelines(_ context.Context, body []byte) (any, error) {
	var in struct{ PipelineIDs []string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.PipelineIDs) == 0 {
		return nil, required("pipelineIds", "")
	}
	if len(in.PipelineIDs) > 25 {
		return nil, invalid("at most 25 pipeline ids per DescribePipelines call; %d given", len(in.PipelineIDs))
	}
	out := struct {
		PipelineDescriptionList []PipelineDescription `json:"pipelineDescriptionList"`
	}{PipelineDescriptionList: []PipelineDescription{}}
	for _, id := range in.PipelineIDs {
		p, err := s.reg.get(id)
		if err != nil {
			return nil, err
		}
		out.PipelineDescriptionList = append(out.PipelineDescriptionList, s.describe(p))
	}
	return out, nil
}

// describe builds DescribePipelines' fields (runtime.md §7.2).
func (s *Server) describe(p Pipeline) PipelineDescription {
	fs := []Field{
		str("@pipelineState", p.State),
		str("name", p.Name),
		str("@creationTime", p.Created.UTC().Format(timeLayout)),
		str("@id", p.ID),
		str("@sphere", "PIPELINE"),
		str("@version", strconv.Itoa(p.Version)),
		str("@userId", s.opts.AccountID),
		str("@accountId", s.opts.AccountID),
		str("uniqueId", p.UniqueID),
		str("pipelineCreator", s.opts.AccountID),
	}
	if p.Description != "" {
		fs = append(fs, str("description", p.Description))
	}
	if !p.LastActivation.IsZero() {
		fs = append(fs, str("@lastActivationTime", p.LastActivation.UTC().Format(timeLayout)))
		fs = append(fs, str("@latestRunTime", p.LastActivation.UTC().Format(timeLayout)))
	}
	if p.Health != "" {
		fs = append(fs, str("@healthStatus", p.Health))
	}
	return PipelineDescription{PipelineID: p.ID, Name: p.Name, Fields: fs, Description: p.Description, Tags: p.Tags}
}

// Definitions.

type definitionInput struct {
	PipelineID string `json:"pipelineId"`
	Definition
}

// checkFatal applies the checks that refuse a save outright (format.md
// §4.2): missing id or name, a field without a value, too many objects.
func (s *Server) checkFatal(d *Definition) error {
	var errs []string
	if len(d.PipelineObjects) > s.opts.MaxObjects {
		errs = append(errs, fmt.Sprintf("LIMIT_EXCEEDED: the definition has %d objects; at most %d are allowed", len(d.PipelineObjects), s.opts.MaxObjects))
	}
	for i, o := range d.PipelineObjects {
		if o.ID == "" {
			errs = append(errs, fmt.Sprintf("object %d: MISSING_ID: an object needs an id", i+1))
			continue
		}
		if o.Name == "" {
			errs = append(errs, fmt.Sprintf("%s: MISSING_NAME: an object needs a name", o.ID))
		}
		if err := checkLen("pipelineObject.id", o.ID, 1, 1024); err != nil {
			return err
		}
		for _, f := range o.Fields {
			switch {
			case f.Key == "":
				errs = append(errs, fmt.Sprintf("%s: EMPTY_KEY: a field has no key", o.ID))
			case (f.StringValue == nil) == (f.RefValue == nil):
				errs = append(errs, fmt.Sprintf("%s: INVALID_FIELD_VALUE: '%s' needs exactly one of stringValue and refValue", o.ID, f.Key))
			case f.StringValue != nil && *f.StringValue == "", f.RefValue != nil && *f.RefValue == "":
				errs = append(errs, fmt.Sprintf("%s: EMPTY_VALUE: '%s' is empty", o.ID, f.Key))
			case f.StringValue != nil && len(*f.StringValue) > 10240:
				errs = append(errs, fmt.Sprintf("%s: INVALID_FIELD_VALUE: '%s' is longer than 10240 bytes", o.ID, f.Key))
			}
		}
	}
	if len(errs) > 0 {
		return invalid("Pipeline definition has errors: Could not save the pipeline definition due to FATAL errors: [%s] Please call Validate to validate your pipeline", strings.Join(errs, ", "))
	}
	return nil
}

type validationOutput struct {
	Errored            bool                `json:"errored"`
	ValidationErrors   []ValidationError   `json:"validationErrors,omitempty"`
	ValidationWarnings []ValidationWarning `json:"validationWarnings,omitempty"`
}

// runValidator validates an API-shaped definition with dpl's validator.
// Messages are in the API's terms: hints that name dpl's command-line
// flags are reworded or dropped.
func runValidator(name string, d *Definition, values map[string][]string) (validationOutput, error) {
	src, err := json.Marshal(d)
	if err != nil {
		return validationOutput{}, err
	}
	res, err := validate.Bytes(name, src, validate.Options{Values: values})
	if err != nil {
		return validationOutput{}, invalid("%v", err)
	}
	diags := make([]definition.Diagnostic, len(res.Diagnostics))
	for i, dg := range res.Diagnostics {
		dg.Hint = apiHint(dg.Hint)
		diags[i] = dg
	}
	res.Diagnostics = diags
	rep := res.Report()
	out := validationOutput{Errored: rep.Errored}
	out.ValidationErrors, out.ValidationWarnings = rep.ValidationErrors, rep.ValidationWarnings
	return out, nil
}

// apiHint rewords a validator hint for API callers, who have no dpl flags.
func apiHint(hint string) string {
	if !strings.Contains(hint, "--") {
		return hint
	}
	var keep []string
	for _, part := range strings.Split(hint, "; ") {
		switch {
		case strings.Contains(part, "--strict"):
			continue // the service's limits are warnings through the API
		case strings.HasPrefix(part, "give one with --param "):
			part = "give one in parameterValues"
		default:
			part = strings.ReplaceAll(part, "--parameter-objects", "parameterObjects")
		}
		if strings.Contains(part, "--") {
			continue
		}
		keep = append(keep, part)
	}
	return strings.Join(keep, "; ")
}

// definitionRequest decodes a Put/ValidatePipelineDefinition request and
// finds its pipeline.
func (s *Server) definitionRequest(body []byte) (definitionInput, Pipeline, error) {
	var in definitionInput
	if err := decode(body, &in); err != nil {
		return in, Pipeline{}, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return in, Pipeline{}, err
	}
	if in.PipelineObjects == nil {
		return in, Pipeline{}, required("pipelineObjects", "")
	}
	p, err := s.reg.get(in.PipelineID)
	return in, p, err
}

func (s *Server) putDefinition(_ context.Context, body []byte) (any, error) {
	in, p, err := s.definitionRequest(body)
	if err != nil {
		return nil, err
	}
	if p.State == StateFinished {
		return nil, invalid("Pipeline %s is FINISHED; its definition cannot be changed", p.ID)
	}
	if err := s.checkFatal(&in.Definition); err != nil {
		return nil, err
	}
	out, err := runValidator(p.Name+".json", &in.Definition, nil)
	if err != nil {
		return nil, err
	}
	def := in.Definition
	err = s.reg.update(in.PipelineID, func(p *Pipeline) error {
		p.Latest, p.LatestErrored = &def, out.Errored
		p.Version++
		return nil
	})
	return out, err
}

func (s *Server) validateDefinition(_ context.Context, body []byte) (any, error) {
	in, p, err := s.definitionRequest(body)
	if err != nil {
		return nil, err
	}
	if err := s.checkFatal(&in.Definition); err != nil {
		var ae *apiError
		if ok := asAPI(err, &ae); ok {
			return validationOutput{Errored: true, ValidationErrors: []ValidationError{{ID: "", Errors: []string{ae.Message}}}}, nil
		}
		return nil, err
	}
	return runValidator(p.Name+".json", &in.Definition, nil)
}

func (s *Server) getDefinition(_ context.Context, body []byte) (any, error) {
	var in struct {
		PipelineID string `json:"pipelineId"`
		Version    string `json:"version"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return nil, err
	}
	p, err := s.reg.get(in.PipelineID)
	if err != nil {
		return nil, err
	}
	var d *Definition
	switch in.Version {
	case "", "latest":
		d = p.Latest
	case "active":
		if d = p.Active; d != nil && p.ActiveParams != nil {
			// The values the pipeline was activated with.
			ad := *d
			ad.ParameterValues = activationValues(p.ActiveParams)
			d = &ad
		}
	default:
		return nil, invalid("1 validation error detected: Value '%s' at 'version' failed to satisfy constraint: Member must be latest or active", in.Version)
	}
	if d == nil {
		return Definition{PipelineObjects: []PipelineObject{}}, nil
	}
	return d, nil
}

// activationValues lists an activation's parameter values in id order.
func activationValues(params map[string][]string) []ParameterValue {
	ids := make([]string, 0, len(params))
	for id := range params {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []ParameterValue
	for _, id := range ids {
		for _, v := range params[id] {
			out = append(out, ParameterValue{ID: id, StringValue: v})
		}
	}
	return out
}

// Activation.

func paramMap(vs []ParameterValue) map[string][]string {
	if len(vs) == 0 {
		return nil
	}
	m := map[string][]string{}
	for _, v := range vs {
		m[v.ID] = append(m[v.ID], v.StringValue)
	}
	return m
}

func (s *Server) activatePipeline(ctx context.Context, body []byte) (any, error) {
	var in struct {
		PipelineID      string           `json:"pipelineId"`
		ParameterValues []ParameterValue `json:"parameterValues"`
		StartTimestamp  *float64         `json:"startTimestamp"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return nil, err
	}
	var start time.Time
	if in.StartTimestamp != nil {
		var err error
		if start, err = startTime(*in.StartTimestamp); err != nil {
			return nil, err
		}
	}
	return struct{}{}, s.activate(ctx, in.PipelineID, paramMap(in.ParameterValues), start)
}

// startTime reads ActivatePipeline's startTimestamp: epoch seconds, which
// the Java and Go SDKs send with milliseconds (1717000000.123). Instances
// are identified by whole seconds, so the fraction is dropped: a
// fractional start activates exactly like the integer one.
func startTime(sec float64) (time.Time, error) {
	if math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 || sec > 253402300799 {
		return time.Time{}, invalid("startTimestamp %v is not a time between 1970 and 9999", sec)
	}
	return time.Unix(int64(math.Floor(sec+1e-6)), 0).UTC(), nil
}

func (s *Server) deactivatePipeline(_ context.Context, body []byte) (any, error) {
	var in struct {
		PipelineID   string `json:"pipelineId"`
		CancelActive *bool  `json:"cancelActive"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return nil, err
	}
	cancelActive := in.CancelActive == nil || *in.CancelActive
	return struct{}{}, s.deactivate(in.PipelineID, cancelActive)
}

// Objects.

func toWire(o *task.Object) PipelineObject {
	fs := make([]Field, len(o.Fields))
	for i, f := range o.Fields {
		fs[i] = Field{Key: f.Key, StringValue: f.StringValue, RefValue: f.RefValue}
	}
	return PipelineObject{ID: o.ID, Name: o.Name, Fields: fs}
}

func (s *Server) describeObjects(ctx context.Context, body []byte) (any, error) {
	var in struct {
		PipelineID          string   `json:"pipelineId"`
		ObjectIDs           []string `json:"objectIds"`
		EvaluateExpressions bool     `json:"evaluateExpressions"`
		Marker              string   `json:"marker"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return nil, err
	}
	if len(in.ObjectIDs) == 0 {
		return nil, required("objectIds", "")
	}
	if len(in.ObjectIDs) > 1000 {
		return nil, invalid("at most 1000 object ids per call")
	}
	p, err := s.reg.get(in.PipelineID)
	if err != nil {
		return nil, err
	}
	out := struct {
		PipelineObjects []PipelineObject `json:"pipelineObjects"`
		Marker          string           `json:"marker,omitempty"`
		HasMoreResults  bool             `json:"hasMoreResults"`
	}{PipelineObjects: []PipelineObject{}}
	eng := s.engine(p.ID)
	if eng == nil {
		// Not activated yet: components of the latest definition.
		objs := definitionObjects(p)
		secrets := s.secretsOf(p.ID)
		for _, id := range in.ObjectIDs {
			o, ok := objs[id]
			if !ok {
				return nil, invalid("no object %q in pipeline %s", id, p.ID)
			}
			out.PipelineObjects = append(out.PipelineObjects, secrets.maskObject(o))
		}
		return out, nil
	}
	res, err := eng.DescribeObjects(ctx, executor.DescribeInput{PipelineID: p.ID, ObjectIDs: in.ObjectIDs, EvaluateExpressions: in.EvaluateExpressions, Marker: in.Marker})
	if err != nil {
		return nil, err
	}
	secrets := s.secretsOf(p.ID)
	for _, o := range res.Objects {
		out.PipelineObjects = append(out.PipelineObjects, secrets.maskObject(toWire(o)))
	}
	out.Marker, out.HasMoreResults = res.Marker, res.HasMoreResults
	return out, nil
}

// definitionObjects are the latest definition's objects as components.
func definitionObjects(p Pipeline) map[string]PipelineObject {
	m := map[string]PipelineObject{}
	if p.Latest == nil {
		return m
	}
	for _, o := range p.Latest.PipelineObjects {
		fs := append([]Field(nil), o.Fields...)
		fs = append(fs, str("@sphere", string(executor.SphereComponent)), str("@pipelineId", p.ID))
		m[o.ID] = PipelineObject{ID: o.ID, Name: o.Name, Fields: fs}
	}
	return m
}

func (s *Server) queryObjects(ctx context.Context, body []byte) (any, error) {
	var in struct {
		PipelineID string `json:"pipelineId"`
		Sphere     string `json:"sphere"`
		Query      *Query `json:"query"`
		Marker     string `json:"marker"`
		Limit      int    `json:"limit"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return nil, err
	}
	if err := required("sphere", in.Sphere); err != nil {
		return nil, err
	}
	sphere := executor.Sphere(strings.ToUpper(in.Sphere))
	switch sphere {
	case executor.SphereComponent, executor.SphereInstance, executor.SphereAttempt:
	default:
		return nil, invalid("sphere %q: want COMPONENT, INSTANCE or ATTEMPT", in.Sphere)
	}
	p, err := s.reg.get(in.PipelineID)
	if err != nil {
		return nil, err
	}
	var sels []executor.Selector
	if in.Query != nil {
		for _, sel := range in.Query.Selectors {
			sels = append(sels, executor.Selector{FieldName: sel.FieldName, Operator: sel.Operator.Type, Values: sel.Operator.Values})
		}
	}
	if err := checkSelectors(sels); err != nil {
		return nil, err
	}
	start, limit, err := parseQueryPaging(in.Marker, in.Limit)
	if err != nil {
		return nil, err
	}
	if eng := s.engine(p.ID); eng != nil {
		return s.queryEngine(ctx, eng, p.ID, sphere, sels, start, limit)
	}
	// Not activated: only components, those of the latest definition.
	var comps []PipelineObject
	if sphere == executor.SphereComponent && p.Latest != nil {
		objs, secrets := definitionObjects(p), s.secretsOf(p.ID)
		for _, o := range p.Latest.PipelineObjects {
			comps = append(comps, secrets.maskObject(objs[o.ID]))
		}
	}
	return scan(len(comps), start, limit, sels, func(from, to int) ([]PipelineObject, error) { return comps[from:to], nil })
}

func (s *Server) setStatus(ctx context.Context, body []byte) (any, error) {
	var in struct {
		PipelineID string   `json:"pipelineId"`
		ObjectIDs  []string `json:"objectIds"`
		Status     string   `json:"status"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return nil, err
	}
	if err := required("status", in.Status); err != nil {
		return nil, err
	}
	if len(in.ObjectIDs) == 0 {
		return nil, required("objectIds", "")
	}
	return struct{}{}, s.setObjectStatus(ctx, in.PipelineID, in.ObjectIDs, in.Status)
}

func (s *Server) evaluateExpression(ctx context.Context, body []byte) (any, error) {
	var in struct {
		PipelineID string `json:"pipelineId"`
		ObjectID   string `json:"objectId"`
		Expression string `json:"expression"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	for k, v := range map[string]string{"pipelineId": in.PipelineID, "objectId": in.ObjectID} {
		if err := required(k, v); err != nil {
			return nil, err
		}
	}
	p, err := s.reg.get(in.PipelineID)
	if err != nil {
		return nil, err
	}
	eng := s.engine(p.ID)
	if eng == nil {
		return nil, invalid("pipeline %s has not been activated; expressions are evaluated in the context of its running objects", p.ID)
	}
	v, err := eng.EvaluateExpression(ctx, p.ID, in.ObjectID, in.Expression)
	if err != nil {
		return nil, err
	}
	return map[string]string{"evaluatedExpression": s.secretsOf(p.ID).maskExpression(in.Expression, v)}, nil
}

func (s *Server) addTags(_ context.Context, body []byte) (any, error) {
	var in struct {
		PipelineID string `json:"pipelineId"`
		Tags       []Tag  `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, s.reg.update(in.PipelineID, func(p *Pipeline) error {
		tags := append([]Tag(nil), p.Tags...)
		for _, t := range in.Tags {
			found := false
			for i := range tags {
				if tags[i].Key == t.Key {
					tags[i].Value, found = t.Value, true
				}
			}
			if !found {
				tags = append(tags, t)
			}
		}
		if len(tags) > 10 {
			return invalid("a pipeline has at most 10 tags; this would make %d", len(tags))
		}
		p.Tags = tags
		return nil
	})
}

func (s *Server) removeTags(_ context.Context, body []byte) (any, error) {
	var in struct {
		PipelineID string   `json:"pipelineId"`
		TagKeys    []string `json:"tagKeys"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("pipelineId", in.PipelineID); err != nil {
		return nil, err
	}
	return struct{}{}, s.reg.update(in.PipelineID, func(p *Pipeline) error {
		var keep []Tag
		for _, t := range p.Tags {
			drop := false
			for _, k := range in.TagKeys {
				drop = drop || k == t.Key
			}
			if !drop {
				keep = append(keep, t)
			}
		}
		p.Tags = keep
		return nil
	})
}

// Task runner protocol.

func (s *Server) pollForTask(ctx context.Context, body []byte) (any, error) {
	var in struct {
		WorkerGroup string `json:"workerGroup"`
		Hostname    string `json:"hostname"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("workerGroup", in.WorkerGroup); err != nil {
		return nil, err
	}
	t, err := s.Poll(ctx, in.WorkerGroup, in.Hostname)
	if err != nil || t == nil {
		return struct{}{}, err
	}
	to := TaskObject{TaskID: t.TaskID, PipelineID: t.PipelineID, AttemptID: t.AttemptID, Objects: map[string]PipelineObject{}}
	for id, o := range t.Objects {
		to.Objects[id] = toWire(o)
	}
	return map[string]any{"taskObject": to}, nil
}

func wireFields(fs []Field) []task.Field {
	out := make([]task.Field, len(fs))
	for i, f := range fs {
		out[i] = task.Field{Key: f.Key, StringValue: f.StringValue, RefValue: f.RefValue}
	}
	return out
}

func (s *Server) reportTaskProgress(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TaskID string  `json:"taskId"`
		Fields []Field `json:"fields"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("taskId", in.TaskID); err != nil {
		return nil, err
	}
	canceled, err := s.Progress(ctx, in.TaskID, wireFields(in.Fields))
	if err != nil {
		return nil, err
	}
	return map[string]bool{"canceled": canceled}, nil
}

func (s *Server) heartbeat(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TaskrunnerID string `json:"taskrunnerId"`
		WorkerGroup  string `json:"workerGroup"`
		Hostname     string `json:"hostname"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("taskrunnerId", in.TaskrunnerID); err != nil {
		return nil, err
	}
	terminate := s.Heartbeat(executor.HeartbeatInput{TaskRunnerID: in.TaskrunnerID, WorkerGroup: in.WorkerGroup, Hostname: in.Hostname})
	return map[string]bool{"terminate": terminate}, nil
}

func (s *Server) setTaskStatus(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TaskID          string `json:"taskId"`
		TaskStatus      string `json:"taskStatus"`
		ErrorID         string `json:"errorId"`
		ErrorMessage    string `json:"errorMessage"`
		ErrorStackTrace string `json:"errorStackTrace"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("taskId", in.TaskID); err != nil {
		return nil, err
	}
	st := task.Status(in.TaskStatus)
	switch st {
	case task.Finished, task.Failed, task.False:
	default:
		return nil, invalid("taskStatus %q: want FINISHED, FAILED or FALSE", in.TaskStatus)
	}
	if strings.HasPrefix(in.ErrorID, "Service_") {
		return nil, invalid("errorId %q: the Service_ prefix is reserved", in.ErrorID)
	}
	return struct{}{}, s.Complete(ctx, in.TaskID, task.Result{Status: st, ErrorID: in.ErrorID, ErrorMessage: in.ErrorMessage, ErrorStackTrace: in.ErrorStackTrace})
}
