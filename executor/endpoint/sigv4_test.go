package endpoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func signedRequest(tb testing.TB, body []byte, secret string, at time.Time) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8642/?b=2&a=1", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "DataPipeline.ListPipelines")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Custom", "  several   spaces  ")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AK", SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "datapipeline", "eu-west-1", at); err != nil {
		tb.Fatal(err)
	}
	return req
}

func TestVerifySigV4(t *testing.T) {
	creds := Credentials{"AK": "SK"}
	body := []byte(`{"marker":"x"}`)
	now := time.Now()
	if e := verifySigV4(signedRequest(t, body, "SK", now), body, creds, now); e != nil {
		t.Fatalf("a valid signature was refused: %v", e)
	}
	for name, c := range map[string]struct {
		req  *http.Request
		body []byte
		now  time.Time
		code string
	}{
		"wrong secret": {signedRequest(t, body, "other", now), body, now, CodeInvalidSignature},
		"body changed": {signedRequest(t, body, "SK", now), []byte(`{}`), now, CodeInvalidSignature},
		"clock skew":   {signedRequest(t, body, "SK", now), body, now.Add(20 * time.Minute), CodeInvalidSignature},
		"unsigned":     {httptest.NewRequest(http.MethodPost, "/", nil), nil, now, CodeMissingAuth},
	} {
		if name == "body changed" {
			c.req.Header.Del("X-Amz-Content-Sha256")
		}
		e := verifySigV4(c.req, c.body, creds, c.now)
		if e == nil || e.Code != c.code {
			t.Errorf("%s: got %v, want %s", name, e, c.code)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	p := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(p, []byte("[default]\naws_access_key_id = A1\naws_secret_access_key = S1\n\n# comment\n[ci]\naws_access_key_id=A2\naws_secret_access_key=S2\n"), 0o600)
	c, err := LoadCredentials(p)
	if err != nil || c["A1"] != "S1" || c["A2"] != "S2" || len(c) != 2 {
		t.Fatalf("LoadCredentials = %v, %v", c, err)
	}
	os.WriteFile(p, []byte("[default]\nregion = us-east-1\n"), 0o600)
	if _, err := LoadCredentials(p); err == nil {
		t.Fatal("a file without keys was accepted")
	}
}

func BenchmarkVerifySigV4(b *testing.B) {
	creds := Credentials{"AK": "SK"}
	body := bytes.Repeat([]byte("x"), 2048)
	now := time.Now()
	req := signedRequest(b, body, "SK", now)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if e := verifySigV4(req, body, creds, now); e != nil {
			b.Fatal(e)
		}
	}
}

// BenchmarkServeHTTP is the per-request overhead of a signed call.
func BenchmarkServeHTTP(b *testing.B) {
	s, err := New(Options{StateDir: b.TempDir(), Credentials: Credentials{"AK": "SK"}, Logf: func(string, ...any) {}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := []byte(`{}`)
	for b.Loop() {
		req := signedRequest(b, body, "SK", time.Now())
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
