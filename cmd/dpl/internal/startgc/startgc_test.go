package startgc

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

func TestInitHoldsAndDoneRestores(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: init leaves the collector alone")
	}
	if !held {
		t.Fatal("init did not hold the collector")
	}
	if limit := debug.SetMemoryLimit(-1); limit != 64<<20 {
		t.Errorf("memory limit during init = %d, want %d", limit, 64<<20)
	}
	Done()
	if pct := debug.SetGCPercent(100); pct != 100 {
		t.Errorf("GC percent after Done = %d, want 100", pct)
	}
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		t.Errorf("memory limit after Done = %d, want none", limit)
	}
	Done() // a second call changes nothing
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		t.Errorf("memory limit after a second Done = %d", limit)
	}
}
