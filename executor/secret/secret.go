// Package secret seals what the state store must not hold in clear: the
// definition (its `*` fields and parameter values) and the values of `*`
// parameters. Sealing is AES-256-GCM with a key from DPL_SECRET_KEY or,
// when that is unset, from <state-dir>/secret.key (32 random bytes, mode
// 0600, created on first use). It sits above the store backends, so the
// badger and PostgreSQL stores both only ever see sealed bytes.
package secret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvKey names the environment variable that gives the key: 64 hex digits
// (the key itself) or any passphrase (its SHA-256 is the key).
const EnvKey = "DPL_SECRET_KEY"

// KeyFile is the key's file in the state folder.
const KeyFile = "secret.key"

// prefix marks sealed values; anything else is read as written (stores
// from before sealing).
const prefix = "dpl-sealed:v1:"

// Sealer seals and opens values with one key.
type Sealer struct{ aead cipher.AEAD }

// ErrOpen is returned for a sealed value that the key does not open.
var ErrOpen = errors.New("cannot decrypt the state store's secrets (DPL_SECRET_KEY or secret.key differ from the ones the run was stored with)")

// ForStateDir returns the sealer of a state folder, creating its key file
// when neither DPL_SECRET_KEY nor the file exists and create is set.
func ForStateDir(stateDir string, create bool) (*Sealer, error) {
	if env := os.Getenv(EnvKey); env != "" {
		key, err := hex.DecodeString(env)
		if err != nil || len(key) != 32 {
			sum := sha256.Sum256([]byte(env))
			key = sum[:]
		}
		return New(key)
	}
	path := filepath.Join(stateDir, KeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		if err := os.MkdirAll(stateDir, 0o700); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return ForStateDir(stateDir, false) // created meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		_, werr := f.Write(key)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("secret key %s: %w", path, werr)
		}
		return New(key)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // nothing was ever sealed here
	}
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key %s: %d bytes, want 32", path, len(key))
	}
	return New(key)
}

// New returns a sealer for a 32-byte key.
func New(key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts b; a nil Sealer returns b unchanged.
func (s *Sealer) Seal(b []byte) []byte {
	if s == nil {
		return b
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct := s.aead.Seal(nonce, nonce, b, nil)
	out := make([]byte, 0, len(prefix)+base64.RawStdEncoding.EncodedLen(len(ct)))
	out = append(out, prefix...)
	return base64.RawStdEncoding.AppendEncode(out, ct)
}

// Open decrypts what Seal wrote; other bytes are returned unchanged.
func (s *Sealer) Open(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return b, nil
	}
	if s == nil {
		return nil, ErrOpen
	}
	ct, err := base64.RawStdEncoding.DecodeString(string(b[len(prefix):]))
	n := s.aead.NonceSize()
	if err != nil || len(ct) < n {
		return nil, fmt.Errorf("%w: damaged value", ErrOpen)
	}
	pt, err := s.aead.Open(nil, ct[:n], ct[n:], nil)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// SealString and OpenString are Seal and Open for strings.
func (s *Sealer) SealString(v string) string { return string(s.Seal([]byte(v))) }

// OpenString is Open for strings.
func (s *Sealer) OpenString(v string) (string, error) {
	if !strings.HasPrefix(v, prefix) {
		return v, nil
	}
	b, err := s.Open([]byte(v))
	return string(b), err
}

// SealParams returns params with the values of `*` ids sealed.
func (s *Sealer) SealParams(params map[string][]string) map[string][]string {
	if s == nil || params == nil {
		return params
	}
	out := make(map[string][]string, len(params))
	for id, vs := range params {
		if strings.HasPrefix(id, "*") {
			sealed := make([]string, len(vs))
			for k, v := range vs {
				sealed[k] = s.SealString(v)
			}
			vs = sealed
		}
		out[id] = vs
	}
	return out
}

// OpenParams reverses SealParams.
func (s *Sealer) OpenParams(params map[string][]string) (map[string][]string, error) {
	out := make(map[string][]string, len(params))
	for id, vs := range params {
		opened := make([]string, len(vs))
		for k, v := range vs {
			o, err := s.OpenString(v)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", id, err)
			}
			opened[k] = o
		}
		out[id] = opened
	}
	return out, nil
}
