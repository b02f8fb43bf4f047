package validate

import (
	"sync"

	"github.com/dpl-dev/dpl/definition"
)

// A Check is an extra rule over a whole definition, registered by the
// package that applies the rule at run time (an AWS provider's request
// builder), so that validate and the run cannot disagree about it and
// validate stays free of the executor. It returns positioned findings.
type Check func(d *definition.Definition, opts Options) []definition.Diagnostic

var (
	checksMu sync.RWMutex
	checks   []registeredCheck
)

type registeredCheck struct {
	name  string
	check Check
}

// Register adds a check run by Definition after the built-in ones (call
// it from an init function). name says whose rule it is, for Checks.
func Register(name string, c Check) {
	checksMu.Lock()
	defer checksMu.Unlock()
	checks = append(checks, registeredCheck{name, c})
}

// Checks lists the names of the registered checks, in registration order.
func Checks() []string {
	checksMu.RLock()
	defer checksMu.RUnlock()
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.name
	}
	return names
}

func (c *checker) runRegistered() {
	checksMu.RLock()
	defer checksMu.RUnlock()
	for _, rc := range checks {
		c.diags = append(c.diags, rc.check(c.d, c.opts)...)
	}
}
