package awsprov

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// The endpoint key of a task runner on a resource travels through SSM
// Parameter Store, never through user-data: dpl writes "ID:SECRET" as a
// SecureString parameter (tagged with the ownership tags), user-data names
// only the parameter, and the runner reads it with the instance's role
// (resourceRole needs ssm:GetParameter on /dpl/*), re-reading it every
// minute so that a resumed run's new key reaches a runner it reuses. The
// parameter is deleted and the key revoked when the resource terminates.

// RunnerKeyRefresh is how often a runner re-reads its key parameter.
const RunnerKeyRefresh = time.Minute

// RunnerKeyCheck is how often a runner checks that its key parameter
// still exists (WaitDeleted).
const RunnerKeyCheck = 15 * time.Second

var unsafeParamChars = regexp.MustCompile(`[^a-zA-Z0-9_.\-/]`)

// RunnerKeyParameter is the SSM parameter name of a resource instance's
// runner key: /dpl/<pipeline>/<run>/<instance, made safe>-<hash>.
func RunnerKeyParameter(pipelineID string, activation int, instanceID string) string {
	sum := sha256.Sum256([]byte(instanceID))
	safe := strings.Trim(unsafeParamChars.ReplaceAllString(instanceID, "-"), "-")
	if len(safe) > 120 {
		safe = safe[:120]
	}
	return fmt.Sprintf("/dpl/%s/%d/%s-%s", unsafeParamChars.ReplaceAllString(pipelineID, "-"), activation, safe, hex.EncodeToString(sum[:4]))
}

// SSMAPI is the part of the SSM client the providers use.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, optFns ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// PutRunnerKey stores a runner key (overwriting an earlier one: a resumed
// run re-keys a reused instance). Tags go on a new parameter only (SSM
// refuses tags with overwrite), so a first put creates, a re-key
// overwrites.
func PutRunnerKey(ctx context.Context, c SSMAPI, name, accessKeyID, secret string, tags map[string]string) error {
	in := &ssm.PutParameterInput{Name: aws.String(name), Type: ssmtypes.ParameterTypeSecureString,
		Value:       aws.String(accessKeyID + ":" + secret),
		Description: aws.String("dpl task runner key for the run's endpoint; deleted when the resource terminates")}
	for _, k := range SortedKeys(tags) {
		in.Tags = append(in.Tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := c.PutParameter(ctx, in)
	var exists *ssmtypes.ParameterAlreadyExists
	if errors.As(err, &exists) {
		in.Tags, in.Overwrite = nil, aws.Bool(true)
		_, err = c.PutParameter(ctx, in)
	}
	if err != nil {
		return fmt.Errorf("ssm PutParameter %s: %w", name, err)
	}
	return nil
}

// DeleteRunnerKey removes a runner key parameter; one already gone is fine.
func DeleteRunnerKey(ctx context.Context, c SSMAPI, name string) error {
	_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
	var nf *ssmtypes.ParameterNotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("ssm DeleteParameter %s: %w", name, err)
	}
	return nil
}

// RunnerKeyCredentials is the credentials provider of `dpl taskrunner
// --endpoint-credentials-ssm NAME`: the key in the parameter, re-read
// every RunnerKeyRefresh (wrap it in aws.NewCredentialsCache).
type RunnerKeyCredentials struct {
	SSM  SSMAPI
	Name string
}

// Retrieve reads the parameter.
func (r RunnerKeyCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	out, err := r.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(r.Name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("reading the endpoint key: ssm GetParameter %s: %w", r.Name, err)
	}
	id, secret, ok := strings.Cut(aws.ToString(out.Parameter.Value), ":")
	if !ok || id == "" || secret == "" {
		return aws.Credentials{}, fmt.Errorf("reading the endpoint key: parameter %s does not hold ID:SECRET", r.Name)
	}
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, Source: "ssm:" + r.Name,
		CanExpire: true, Expires: time.Now().Add(RunnerKeyRefresh)}, nil
}

// WaitDeleted checks every interval whether the parameter still exists
// and reports true once SSM says it does not (the resource was
// terminated), false when ctx ends first. Other errors are retried.
func (r RunnerKeyCredentials) WaitDeleted(ctx context.Context, interval time.Duration) bool {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		_, err := r.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(r.Name)})
		var nf *ssmtypes.ParameterNotFound
		if errors.As(err, &nf) {
			return true
		}
	}
}
