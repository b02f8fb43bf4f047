package awsx

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3StoreAddressesBucketsInTheirRegion checks that, against AWS (where
// the SDK does not follow cross-region redirects), the store asks for a
// bucket's region once and signs its requests for that region.
func TestS3StoreAddressesBucketsInTheirRegion(t *testing.T) {
	var mu sync.Mutex
	var scopes []string
	heads := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodHead && r.URL.Path == "/far-bucket" {
			heads++
			w.Header().Set("X-Amz-Bucket-Region", "ap-southeast-2")
			return
		}
		// Credential=AKID/20240101/<region>/s3/aws4_request
		auth := r.Header.Get("Authorization")
		if i := strings.Index(auth, "Credential="); i >= 0 {
			parts := strings.Split(auth[i:], "/")
			if len(parts) > 2 {
				scopes = append(scopes, parts[2])
			}
		}
		io.WriteString(w, "content")
	}))
	defer srv.Close()

	build := func(region string) *s3.Client {
		return s3.New(s3.Options{
			Region:       region,
			BaseEndpoint: aws.String(srv.URL),
			UsePathStyle: true,
			Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		})
	}
	st := newS3Store(build("us-east-1"))
	st.regional = build
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		r, err := st.Open(ctx, "s3://far-bucket/key")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if string(b) != "content" {
			t.Fatalf("read %q", b)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if heads != 1 {
		t.Errorf("bucket region looked up %d times, want once", heads)
	}
	if len(scopes) != 2 || scopes[0] != "ap-southeast-2" || scopes[1] != "ap-southeast-2" {
		t.Errorf("requests signed for regions %v, want ap-southeast-2", scopes)
	}
}
