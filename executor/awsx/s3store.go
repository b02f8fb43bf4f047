package awsx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// Upload tuning: objects above PartSize go multipart; at most
// PartSize*Concurrency bytes are buffered per upload.
const (
	uploadPartSize    = 8 << 20
	uploadConcurrency = 4
)

// S3Store implements storage.Store over the S3 API. Reads stream the
// response body, writes stream through the SDK's upload manager (multipart
// above 8 MiB), and every request uses the SDK's retrying client.
type S3Store struct {
	client *s3.Client

	// regional, when set, gives the client of a region: buckets are then
	// looked up once (HEAD bucket, X-Amz-Bucket-Region) and addressed in
	// their own region, since the SDK does not follow S3's cross-region
	// redirects. Only used against AWS itself.
	regional func(region string) *s3.Client
	mu       sync.Mutex
	buckets  map[string]*s3.Client
}

var _ objstore.Store = (*S3Store)(nil)

// NewS3Store builds a store from cfg. When a custom endpoint is configured
// (cfg.BaseEndpoint, AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3) it uses
// path-style addressing, which moto and most S3-compatible servers need.
func NewS3Store(cfg aws.Config, optFns ...func(*s3.Options)) *S3Store {
	custom := cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	fns := append([]func(*s3.Options){func(o *s3.Options) {
		if custom {
			applyCustomEndpointS3(o)
		}
	}}, optFns...)
	return newS3Store(s3.NewFromConfig(cfg, fns...))
}

// applyCustomEndpointS3 sets what non-AWS endpoints need: path-style
// URLs, and checksums only where the API requires them (emulators lag
// behind the SDK's default trailing CRC checksums).
func applyCustomEndpointS3(o *s3.Options) {
	o.UsePathStyle = true
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
}

func newS3Store(c *s3.Client) *S3Store {
	return &S3Store{client: c, buckets: map[string]*s3.Client{}}
}

// clientFor returns the client to use for bucket.
func (s *S3Store) clientFor(ctx context.Context, bucket string) *s3.Client {
	if s.regional == nil {
		return s.client
	}
	s.mu.Lock()
	c, ok := s.buckets[bucket]
	s.mu.Unlock()
	if ok {
		return c
	}
	c = s.client
	if region, err := manager.GetBucketRegion(ctx, s.client, bucket); err == nil && region != "" && region != s.client.Options().Region {
		c = s.regional(region)
	}
	s.mu.Lock()
	s.buckets[bucket] = c
	s.mu.Unlock()
	return c
}

// Client exposes the underlying SDK client.
func (s *S3Store) Client() *s3.Client { return s.client }

// Describe implements storage.Store.
func (s *S3Store) Describe() string {
	o := s.client.Options()
	ep := "AWS default endpoint"
	if o.BaseEndpoint != nil {
		ep = *o.BaseEndpoint
	}
	return fmt.Sprintf("S3 (%s, region %s)", ep, o.Region)
}

// notFound reports whether err is S3's "no such key/bucket" in any form.
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var nsb *types.NoSuchBucket
	if errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &nsb) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return true
		}
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

func wrapErr(op, uri string, err error) error {
	if notFound(err) {
		return fmt.Errorf("s3 %s %s: %w (%v)", op, uri, objstore.ErrNotExist, err)
	}
	return fmt.Errorf("s3 %s %s: %w", op, uri, err)
}

// Open implements storage.Store.
func (s *S3Store) Open(ctx context.Context, uri string) (io.ReadCloser, error) {
	bucket, key, err := objstore.ParseURI(uri)
	if err != nil {
		return nil, err
	}
	out, err := s.clientFor(ctx, bucket).GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, wrapErr("get", uri, err)
	}
	return out.Body, nil
}

// Stat implements storage.Store.
func (s *S3Store) Stat(ctx context.Context, uri string) (objstore.Info, error) {
	bucket, key, err := objstore.ParseURI(uri)
	if err != nil {
		return objstore.Info{}, err
	}
	out, err := s.clientFor(ctx, bucket).HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return objstore.Info{}, wrapErr("head", uri, err)
	}
	info := objstore.Info{URI: objstore.URI(bucket, key), Bucket: bucket, Key: key, Size: aws.ToInt64(out.ContentLength)}
	if out.LastModified != nil {
		info.ModTime = *out.LastModified
	}
	return info, nil
}

// List implements storage.Store (ListObjectsV2, all pages, key order).
func (s *S3Store) List(ctx context.Context, prefixURI string, fn func(objstore.Info) error) error {
	bucket, prefix, err := objstore.ParseURI(prefixURI)
	if err != nil {
		return err
	}
	p := s3.NewListObjectsV2Paginator(s.clientFor(ctx, bucket), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapErr("list", prefixURI, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			info := objstore.Info{URI: objstore.URI(bucket, key), Bucket: bucket, Key: key, Size: aws.ToInt64(o.Size)}
			if o.LastModified != nil {
				info.ModTime = *o.LastModified
			}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete implements storage.Store.
func (s *S3Store) Delete(ctx context.Context, uri string) error {
	bucket, key, err := objstore.ParseURI(uri)
	if err != nil {
		return err
	}
	if _, err := s.clientFor(ctx, bucket).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil && !notFound(err) {
		return wrapErr("delete", uri, err)
	}
	return nil
}

// EnsureBucket creates bucket if it does not exist (for emulators and
// tests; real pipelines expect their buckets to exist).
func (s *S3Store) EnsureBucket(ctx context.Context, bucket string) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}); err == nil {
		return nil
	}
	in := &s3.CreateBucketInput{Bucket: &bucket}
	if r := s.client.Options().Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(r)}
	}
	if _, err := s.client.CreateBucket(ctx, in); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		if errors.As(err, &owned) {
			return nil
		}
		return fmt.Errorf("s3 create bucket %s: %w", bucket, err)
	}
	return nil
}

// Create implements storage.Store. Bytes written flow through a pipe into
// the upload manager, which sends one PutObject for small objects and a
// multipart upload (aborted on failure) for large ones.
func (s *S3Store) Create(ctx context.Context, uri string) (io.WriteCloser, error) {
	bucket, key, err := objstore.ParseURI(uri)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("s3 put %s: no object key", uri)
	}
	uploader := transfermanager.New(s.clientFor(ctx, bucket), func(o *transfermanager.Options) {
		o.PartSizeBytes = uploadPartSize
		o.Concurrency = uploadConcurrency
	})
	pr, pw := io.Pipe()
	w := &s3Writer{pw: pw, uri: uri, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		_, err := uploader.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: &bucket, Key: &key, Body: pr})
		if err != nil {
			w.err = wrapErr("put", uri, err)
		}
		// Unblock a writer still pushing data after a failed upload.
		pr.CloseWithError(errUploadEnded(w.err))
	}()
	return w, nil
}

func errUploadEnded(err error) error {
	if err != nil {
		return err
	}
	return errors.New("upload already finished")
}

type s3Writer struct {
	pw   *io.PipeWriter
	uri  string
	done chan struct{}
	err  error
	once sync.Once
}

func (w *s3Writer) Write(p []byte) (int, error) { return w.pw.Write(p) }

// Close finishes the upload and reports its outcome.
func (w *s3Writer) Close() error {
	w.once.Do(func() { w.pw.Close() })
	<-w.done
	return w.err
}

// Abort fails the upload; the manager aborts any multipart upload so no
// object (and no orphaned parts) remain.
func (w *s3Writer) Abort(err error) {
	if err == nil {
		err = errors.New("aborted")
	}
	w.once.Do(func() { w.pw.CloseWithError(err) })
	<-w.done
}
