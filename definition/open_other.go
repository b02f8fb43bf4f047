//go:build !unix

package definition

import "os"

// openNonblocking opens path for reading (FIFOs cannot block open() here).
func openNonblocking(path string) (*os.File, error) { return os.Open(path) }
