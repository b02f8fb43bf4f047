package endpoint

import (
	"context"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/executor"
)

// QueryObjects pages.
const (
	defaultQueryLimit = 100
	// describeBatch is how many objects are described per engine call
	// while a query scans.
	describeBatch = 100
	// scanIndex is "every object" for the engine's unfiltered listing.
	scanIndex = 1 << 30
)

// matchObject reports whether o satisfies every selector. A selector may
// name any field of the object as DescribeObjects shows it: definition
// fields (type, runsOn, user fields, inherited ones), runtime fields
// (@status, @scheduledStartTime, ...) and name. A field with several
// values matches when one of them does. EQ compares string values, REF_EQ
// reference values (both accept either, as ids and refs are both plain
// ids on the wire); LE, GE and BETWEEN compare strings, which orders the
// service's yyyy-MM-ddTHH:mm:ss times. `*` fields are compared in their
// masked form, so that a query cannot probe a secret.
func matchObject(sels []executor.Selector, o PipelineObject) bool {
	for _, sel := range sels {
		if !matchSelector(sel, o) {
			return false
		}
	}
	return true
}

func matchSelector(sel executor.Selector, o PipelineObject) bool {
	switch sel.FieldName {
	case "name":
		return sel.Match(o.Name, true)
	case "id", "@id":
		return sel.Match(o.ID, true)
	}
	for _, f := range o.Fields {
		if f.Key != sel.FieldName {
			continue
		}
		var v string
		switch {
		case f.StringValue != nil:
			v = *f.StringValue
		case f.RefValue != nil:
			v = *f.RefValue
		}
		if sel.Match(v, true) {
			return true
		}
	}
	return false
}

func checkSelectors(sels []executor.Selector) error {
	if len(sels) > 10 {
		return invalid("1 validation error detected: Value at 'query.selectors' failed to satisfy constraint: Member must have at most 10 selectors")
	}
	for _, s := range sels {
		if s.FieldName == "" {
			return invalid("1 validation error detected: Value null at 'query.selectors.member.fieldName' failed to satisfy constraint: Member must not be null")
		}
		switch strings.ToUpper(s.Operator) {
		case executor.OpEQ, executor.OpRefEQ, executor.OpLE, executor.OpGE:
			if len(s.Values) == 0 {
				return invalid("selector on %q: operator %s needs a value", s.FieldName, s.Operator)
			}
		case executor.OpBetween:
			if len(s.Values) < 2 {
				return invalid("selector on %q: operator BETWEEN needs two values", s.FieldName)
			}
		default:
			return invalid("1 validation error detected: Value '%s' at 'query.selectors.member.operator.type' failed to satisfy constraint: Member must satisfy enum value set: [EQ, REF_EQ, LE, GE, BETWEEN]", s.Operator)
		}
	}
	return nil
}

// queryPage is one QueryObjects page. It filters, then pages: objects are
// scanned in order from the marker (an offset into the sphere) until
// limit match or the sphere ends, and the marker says where the scan
// stopped. So every page makes progress, a page is empty only when
// nothing further matches, and hasMoreResults is true only with a marker
// beyond the previous one.
type queryPage struct {
	IDs            []string `json:"ids"`
	Marker         string   `json:"marker,omitempty"`
	HasMoreResults bool     `json:"hasMoreResults"`
}

func parseQueryPaging(marker string, limit int) (int, int, error) {
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 {
			return 0, 0, invalid("invalid marker %q: pass the marker of the previous QueryObjects page", marker)
		}
		start = n
	}
	switch {
	case limit < 0:
		return 0, 0, invalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must be at least 0", limit)
	case limit == 0:
		limit = defaultQueryLimit
	}
	return start, limit, nil
}

// scan pages over n objects: describe returns objects [from, to).
func scan(n, start, limit int, sels []executor.Selector, describe func(from, to int) ([]PipelineObject, error)) (queryPage, error) {
	page := queryPage{IDs: []string{}}
	pos := min(start, n)
	for pos < n && len(page.IDs) < limit {
		end := min(pos+describeBatch, n)
		objs, err := describe(pos, end)
		if err != nil {
			return queryPage{}, err
		}
		for _, o := range objs {
			pos++
			if matchObject(sels, o) {
				page.IDs = append(page.IDs, o.ID)
				if len(page.IDs) == limit {
					break
				}
			}
		}
	}
	if pos < n {
		page.Marker, page.HasMoreResults = strconv.Itoa(pos), true
	}
	return page, nil
}

// queryEngine answers QueryObjects from an activated pipeline's engine:
// the engine lists the sphere, DescribeObjects gives each object's fields.
func (s *Server) queryEngine(ctx context.Context, eng *executor.Engine, pipelineID string, sphere executor.Sphere, sels []executor.Selector, start, limit int) (queryPage, error) {
	all, err := eng.QueryObjects(ctx, executor.QueryInput{PipelineID: pipelineID, Sphere: sphere, Limit: scanIndex})
	if err != nil {
		return queryPage{}, err
	}
	if len(sels) == 0 {
		return scan(len(all.IDs), start, limit, nil, func(from, to int) ([]PipelineObject, error) {
			out := make([]PipelineObject, 0, to-from)
			for _, id := range all.IDs[from:to] {
				out = append(out, PipelineObject{ID: id})
			}
			return out, nil
		})
	}
	secrets := s.secretsOf(pipelineID)
	return scan(len(all.IDs), start, limit, sels, func(from, to int) ([]PipelineObject, error) {
		res, err := eng.DescribeObjects(ctx, executor.DescribeInput{PipelineID: pipelineID, ObjectIDs: all.IDs[from:to]})
		if err != nil {
			return nil, err
		}
		out := make([]PipelineObject, 0, len(res.Objects))
		for _, o := range res.Objects {
			out = append(out, secrets.maskObject(toWire(o)))
		}
		return out, nil
	})
}
