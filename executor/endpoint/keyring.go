package endpoint

import (
	"strings"
	"sync"
)

// KeyRing holds access keys issued and revoked while serving: the
// per-resource keys `dpl run --resources aws` gives the task runner on each
// EC2 instance it starts, accepted from issue until the resource is
// terminated. It is safe for concurrent use.
type KeyRing struct {
	mu   sync.RWMutex
	keys map[string]ringKey
}

type ringKey struct {
	secret, owner string
	used          chan struct{} // closed at the key's first verified request
}

// Issue makes a new key pair for owner (a resource instance id) and
// accepts it from now on.
func (k *KeyRing) Issue(owner string) (accessKeyID, secret string, err error) {
	id, secret, err := newKeyPair()
	if err != nil {
		return "", "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[string]ringKey{}
	}
	k.keys[id] = ringKey{secret, owner, make(chan struct{})}
	return id, secret, nil
}

// Used returns a channel closed when a request signed with the key was
// first accepted (a runner's first poll or heartbeat); nil for a key the
// ring does not hold.
func (k *KeyRing) Used(accessKeyID string) <-chan struct{} {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if e, ok := k.keys[accessKeyID]; ok {
		return e.used
	}
	return nil
}

// markUsed notes that a request signed with the key was accepted.
func (k *KeyRing) markUsed(accessKeyID string) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.keys[accessKeyID]; ok {
		select {
		case <-e.used:
		default:
			close(e.used)
		}
	}
}

// signingKeyID is the access key id of a SigV4 Authorization header.
func signingKeyID(auth string) string {
	_, rest, _ := strings.Cut(auth, "Credential=")
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// Revoke stops accepting a key.
func (k *KeyRing) Revoke(accessKeyID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, accessKeyID)
}

// Len is how many keys are accepted.
func (k *KeyRing) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.keys)
}

func (k *KeyRing) secretFor(id string) (string, bool) {
	if k == nil {
		return "", false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	e, ok := k.keys[id]
	return e.secret, ok
}

// keySource finds the secret of an access key id.
type keySource interface {
	secretFor(accessKeyID string) (string, bool)
}

func (c Credentials) secretFor(id string) (string, bool) {
	s, ok := c[id]
	return s, ok
}

// serverKeys are the fixed credentials and the key ring together.
type serverKeys struct {
	creds Credentials
	ring  *KeyRing
}

func (s serverKeys) secretFor(id string) (string, bool) {
	if v, ok := s.creds[id]; ok {
		return v, true
	}
	return s.ring.secretFor(id)
}
