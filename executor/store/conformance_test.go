package store_test

import (
	"testing"

	"github.com/dpl-dev/dpl/executor/store"
	"github.com/dpl-dev/dpl/executor/store/storetest"
)

// TestBadgerConformance runs the store.Backend suite on the badger DB, on
// disk as dpl uses it.
func TestBadgerConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		db, err := store.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
