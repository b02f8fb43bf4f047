package session

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/dpl-dev/dpl/executor/errcode"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// PendingStore is a state store being opened in the background.
type PendingStore struct {
	stateDir string
	created  bool // the state folder did not exist before
	ch       chan openedStore
	once     sync.Once
	res      openedStore
}

type openedStore struct {
	db  *runstore.DB
	err error
}

// OpenStore starts opening (creating) the store under stateDir for a run,
// which takes its lock. Opening costs milliseconds of file creation and
// syncing, which the caller overlaps with validation.
func OpenStore(stateDir string) *PendingStore {
	_, statErr := os.Stat(stateDir)
	p := &PendingStore{stateDir: stateDir, created: errors.Is(statErr, fs.ErrNotExist), ch: make(chan openedStore, 1)}
	go func() {
		if err := os.MkdirAll(stateDir, 0o700); err != nil {
			p.ch <- openedStore{err: errcode.Wrap(errcode.IO, fmt.Errorf("state folder: %w", err))}
			return
		}
		db, err := runstore.Open(stateDir)
		if err != nil {
			// The store's error says what happened (locked by PID, permission, damaged).
			err = errcode.Wrap(errcode.IO, err)
		}
		p.ch <- openedStore{db, err}
	}()
	return p
}

// Wait returns the opened store.
func (p *PendingStore) Wait() (*runstore.DB, error) {
	p.once.Do(func() { p.res = <-p.ch })
	return p.res.db, p.res.err
}

// Discard closes the store and removes the state folder if OpenStore
// created it: for runs refused before they start.
func (p *PendingStore) Discard() {
	if db, err := p.Wait(); err == nil {
		db.Close()
	}
	if p.created {
		os.RemoveAll(p.stateDir)
	}
}
