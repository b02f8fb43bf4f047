package store

// DB is the badger-backed store.
type DB struct{}
