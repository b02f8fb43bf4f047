package runstore_test

import (
	"testing"

	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/runstore/storetest"
)

// TestBadgerConformance runs the runstore.Backend suite on the badger DB, on
// disk as dpl uses it.
func TestBadgerConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) runstore.Backend {
		db, err := runstore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
