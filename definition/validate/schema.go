package validate

import "github.com/dpl-dev/dpl/definition"

// checkSchema applies the per-type catalogue (schemas/) to an object's
// effective fields: unknown fields, value kinds, ref targets, required
// fields, one-of groups, exclusive pairs and deprecations. It is the single
// place the schema layer plugs in.
func (c *checker) checkSchema(o *definition.Object, e *definition.Effective, typ string) {}

// deprecatedType returns why a type is deprecated ("" when it is not).
func deprecatedType(typ string) string {
	if typ == "MySqlDataNode" {
		return "use SqlDataNode"
	}
	return ""
}

// functionNames lists the expression functions, or nil when unknown (the
// check is then skipped).
func functionNames() []string { return nil }
