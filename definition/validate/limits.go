package validate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/definition/period"
)

// The service's limits (format.md §4.3). Most are adjustable on request,
// so they are warnings unless Options.Strict.
const (
	maxObjects     = 100
	maxFields      = 50
	maxValueBytes  = 10240
	maxObjectBytes = 15360
	maxIDBytes     = 256
	maxStepValues  = 255
	maxRetries     = 5
)

// stepFields may be repeated up to 255 times: the limit is the number of
// values of the field ("to specify multiple steps, up to 255, add multiple
// step fields"), not a length; each value is an ordinary field value
// (format.md §4.3).
var stepFields = []string{"step", "bootstrapAction", "preStepCommand", "postStepCommand"}

func (c *checker) limit(w at, format string, args ...any) {
	if c.opts.Strict {
		c.errorf(w, codeLimit, format, args...)
		return
	}
	w.hint = joinHint(w.hint, "an error with --strict")
	c.warnf(w, codeLimit, format, args...)
}

func (c *checker) checkLimits() {
	if n := len(c.d.Objects); n > maxObjects {
		o := c.d.Objects[maxObjects]
		c.limit(objAt(o, ""), "the definition has %d objects; the service allows %d per pipeline", n, maxObjects)
	}
	for _, o := range c.d.Objects {
		if len(o.ID) > maxIDBytes {
			c.limit(objAt(o, "id"), "the id is %d bytes long; the service allows %d", len(o.ID), maxIDBytes)
		}
		if n := len(o.Fields); n > maxFields {
			c.limit(at{pos: o.Fields[maxFields].Pos, id: o.ID, field: o.Fields[maxFields].Key},
				"the object has %d fields; the service allows %d", n, maxFields)
		}
		size := len(o.ID) + len(o.Name)
		for _, f := range o.Fields {
			if len(f.Key) > maxIDBytes {
				c.limit(at{pos: f.Pos, id: o.ID, field: f.Key[:32] + "..."}, "the field name is %d bytes long; the service allows %d", len(f.Key), maxIDBytes)
			}
			for _, v := range f.Values {
				n := len(v.Str) + len(v.Ref)
				size += len(f.Key) + n
				if n > maxValueBytes {
					c.limit(at{pos: v.Pos, id: o.ID, field: f.Key}, "the value is %d bytes long; the service allows %d", n, maxValueBytes)
				}
			}
			if n := len(f.Values); n > maxStepValues && containsKey(stepFields, f.Key) {
				c.limit(at{pos: f.Values[maxStepValues].Pos, id: o.ID, field: f.Key}, "has %d values; the service allows up to %d %s values per object", n, maxStepValues, f.Key)
			}
		}
		if size > maxObjectBytes {
			c.limit(objAt(o, ""), "the object is %d bytes (field names and values); the service allows %d", size, maxObjectBytes)
		}
		if f := o.Field("maximumRetries"); f != nil {
			if n, err := strconv.Atoi(strings.TrimSpace(f.First().Str)); err == nil && n > maxRetries {
				c.limit(at{pos: f.Pos, id: o.ID, field: f.Key}, "is %d; the service retries a task at most %d times", n, maxRetries)
			}
		}
		if f := o.Field("retryDelay"); f != nil {
			if p, err := period.Parse(f.First().Str); err == nil && p.Approx().Minutes() < 2 {
				c.limit(at{pos: f.Pos, id: o.ID, field: f.Key}, "is %s; the minimum delay between retries is 2 minutes", fmt.Sprint(p))
			}
		}
	}
}

func containsKey(list []string, k string) bool { return contains(list, k) }
