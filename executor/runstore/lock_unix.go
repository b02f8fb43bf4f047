//go:build unix

package runstore

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// sharedLock takes the lock badger's read-only mode takes on dir (a
// shared flock), failing at once while a writer holds it.
func sharedLock(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot lock %s: another process is using this store: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
