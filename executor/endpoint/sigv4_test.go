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
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

func signedRequest(tb testing.TB, body []byte, secret string, at time.Time) *http.Request {
	return signedFor(tb, body, secret, "eu-west-1", "datapipeline", at)
}

func signedFor(tb testing.TB, body []byte, secret, region, service string, at time.Time) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8642/?b=2&a=1", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "DataPipeline.ListPipelines")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Custom", "  several   spaces  ")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AK", SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		tb.Fatal(err)
	}
	return req
}

func TestVerifySigV4(t *testing.T) {
	creds := Credentials{"AK": "SK"}
	body := []byte(`{"marker":"x"}`)
	now := time.Now()
	if e := verifySigV4(signedRequest(t, body, "SK", now), body, creds, "eu-west-1", now); e != nil {
		t.Fatalf("a valid signature was refused: %v", e)
	}
	for name, c := range map[string]struct {
		req       *http.Request
		body      []byte
		now       time.Time
		code      string
		inMessage string
	}{
		"wrong secret":         {signedRequest(t, body, "other", now), body, now, CodeInvalidSignature, "does not match"},
		"body changed":         {signedRequest(t, body, "SK", now), []byte(`{}`), now, CodeInvalidSignature, "does not match"},
		"signed too long ago":  {signedRequest(t, body, "SK", now), body, now.Add(20 * time.Minute), CodeInvalidSignature, "Signature expired"},
		"signed in the future": {signedRequest(t, body, "SK", now.Add(20*time.Minute)), body, now, CodeInvalidSignature, "not yet valid"},
		"other region":         {signedFor(t, body, "SK", "us-west-2", "datapipeline", now), body, now, CodeInvalidSignature, "not 'us-west-2'"},
		"other service":        {signedFor(t, body, "SK", "eu-west-1", "dynamodb", now), body, now, CodeInvalidSignature, "correct service: 'datapipeline'"},
		"unknown key":          {signedRequest(t, body, "SK", now), body, now, CodeUnrecognized, "security token"},
		"unsigned":             {httptest.NewRequest(http.MethodPost, "/", nil), nil, now, CodeMissingAuth, "Missing Authentication Token"},
	} {
		if name == "body changed" {
			c.req.Header.Del("X-Amz-Content-Sha256")
		}
		cr := creds
		if name == "unknown key" {
			cr = Credentials{"OTHER": "SK"}
		}
		e := verifySigV4(c.req, c.body, cr, "eu-west-1", c.now)
		if e == nil || e.Code != c.code || e.Status != http.StatusForbidden || !strings.Contains(e.Message, c.inMessage) {
			t.Errorf("%s: got %+v, want 403 %s mentioning %q", name, e, c.code, c.inMessage)
		}
	}
}

func TestEnsureCredentials(t *testing.T) {
	p := filepath.Join(t.TempDir(), "serve", "credentials")
	creds, created, err := EnsureCredentials(p, GeneratedProfile)
	if err != nil || !created || len(creds) != 1 {
		t.Fatalf("first start: %v created=%v %v", creds, created, err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	data, _ := os.ReadFile(p)
	if !strings.Contains(string(data), "["+GeneratedProfile+"]") {
		t.Fatalf("no [%s] profile in\n%s", GeneratedProfile, data)
	}
	again, created, err := EnsureCredentials(p, GeneratedProfile)
	if err != nil || created || len(again) != 1 {
		t.Fatalf("second start: %v created=%v %v", again, created, err)
	}
	for id, secret := range creds {
		if again[id] != secret || len(id) != 20 || len(secret) != 40 {
			t.Fatalf("second start reads %v, first generated %s=%s", again, id, secret)
		}
	}
	// The pair works with the SDK's own shared-credentials reader.
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", p)
	t.Setenv("AWS_PROFILE", GeneratedProfile)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || again[c.AccessKeyID] != c.SecretAccessKey {
		t.Fatalf("the SDK read %v (%v) from the generated profile", c, err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := EnsureCredentials(p, GeneratedProfile); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable credentials file was accepted: %v", err)
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
		if e := verifySigV4(req, body, creds, "eu-west-1", now); e != nil {
			b.Fatal(e)
		}
	}
}

// BenchmarkServeHTTP is the per-request overhead of a signed call.
func BenchmarkServeHTTP(b *testing.B) {
	s, err := New(Options{StateDir: b.TempDir(), Credentials: Credentials{"AK": "SK"}, Region: "eu-west-1", Logf: func(string, ...any) {}})
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
