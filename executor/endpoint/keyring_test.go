package endpoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func signedWith(t *testing.T, body []byte, id, secret string, at time.Time) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8642/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "DataPipeline.PollForTask")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), signingService, DefaultRegion, at); err != nil {
		t.Fatal(err)
	}
	return req
}

// A key issued by the ring is accepted beside the fixed credentials until
// it is revoked; a revoked key is refused as unknown.
func TestKeyRingIssueAndRevoke(t *testing.T) {
	ring := &KeyRing{}
	id, secret, err := ring.Issue("@Box_2024-01-01T00:00:00")
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 20 || len(secret) < 30 || ring.Len() != 1 {
		t.Fatalf("issued %q/%d chars, ring holds %d", id, len(secret), ring.Len())
	}
	keys := serverKeys{Credentials{"AK": "SK"}, ring}
	body := []byte(`{"workerGroup":"@Box_2024-01-01T00:00:00"}`)
	now := time.Now()
	if e := verifySigV4(signedWith(t, body, id, secret, now), body, keys, DefaultRegion, now); e != nil {
		t.Fatalf("an issued key was refused: %v", e)
	}
	if e := verifySigV4(signedWith(t, body, "AK", "SK", now), body, keys, DefaultRegion, now); e != nil {
		t.Fatalf("the fixed credentials stopped working beside the ring: %v", e)
	}
	if e := verifySigV4(signedWith(t, body, id, "guessed", now), body, keys, DefaultRegion, now); e == nil || e.Code != CodeInvalidSignature {
		t.Fatalf("a wrong secret for an issued id: %v, want %s", e, CodeInvalidSignature)
	}
	select {
	case <-ring.Used(id):
		t.Fatal("Used closed before any request reached the server")
	default:
	}
	ring.markUsed(signingKeyID(signedWith(t, body, id, secret, now).Header.Get("Authorization")))
	select {
	case <-ring.Used(id):
	default:
		t.Fatal("Used not closed after a verified request")
	}
	ring.markUsed(id) // twice is fine
	ring.Revoke(id)
	if e := verifySigV4(signedWith(t, body, id, secret, now), body, keys, DefaultRegion, now); e == nil || e.Code != CodeUnrecognized {
		t.Fatalf("a revoked key: %v, want %s", e, CodeUnrecognized)
	}
}
