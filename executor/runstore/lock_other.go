//go:build !unix

package runstore

// sharedLock is a no-op where badger's read-only mode is unsupported
// (OpenReadOnly fails there before it is needed).
func sharedLock(string) (func(), error) { return func() {}, nil }
