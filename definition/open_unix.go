//go:build unix

package definition

import (
	"os"
	"syscall"
)

// openNonblocking opens path for reading without blocking: a FIFO that
// replaced a checked file between Stat and open would otherwise wait for
// a writer forever.
func openNonblocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
