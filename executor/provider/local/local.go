// Package local is the resource provider of the local runner: a resource
// is a working folder under the state folder, ready at once, whose work
// the engine's local worker runs. It serves every resource type that has
// no other provider.
package local

import (
	"context"
	"fmt"
	"os"

	"github.com/dpl-dev/dpl/executor/provider"
)

// Provider provisions local worker slots.
type Provider struct{}

var _ provider.Provider = Provider{}

// Provision creates the working folder and is ready at once.
func (Provider) Provision(_ context.Context, spec provider.Spec, ready func(error)) (provider.Resource, error) {
	if spec.WorkDir != "" {
		if err := os.MkdirAll(spec.WorkDir, 0o755); err != nil {
			return nil, fmt.Errorf("working folder: %w", err)
		}
	}
	ready(nil)
	return slot{}, nil
}

type slot struct{}

// WorkerGroup is the engine's local worker.
func (slot) WorkerGroup() string { return "" }

// Terminate has nothing to stop: the folder stays for the logs.
func (slot) Terminate(context.Context, string) error { return nil }
