package endpoint

import "sync"

// KeyRing holds access keys issued and revoked while serving: the
// per-resource keys `dpl run --resources aws` gives the task runner on each
// EC2 instance it starts, accepted from issue until the resource is
// terminated. It is safe for concurrent use.
type KeyRing struct {
	mu   sync.RWMutex
	keys map[string]ringKey
}

type ringKey struct{ secret, owner string }

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
	k.keys[id] = ringKey{secret, owner}
	return id, secret, nil
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
