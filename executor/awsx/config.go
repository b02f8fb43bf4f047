// Package awsx is the executor's AWS backend: configuration loading with the
// standard SDK chain plus the CLI shortcuts, per-region client caches, the
// S3 implementation of storage.Store, DynamoDB preconditions and the native
// equivalents of the EMR DynamoDB export/import tools, and SNS publishing.
// Everything goes through aws-sdk-go-v2, so the same code talks to AWS or to
// any compatible endpoint (moto in tests).
package awsx

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// DefaultRegion is used when neither flags, environment nor profile name
// one; it is also Data Pipeline's default region.
const DefaultRegion = "us-east-1"

// Options are the CLI shortcuts layered over the standard SDK chain. Empty
// fields leave the chain's choice in place.
type Options struct {
	Region   string // --region: overrides AWS_REGION / profile region
	Endpoint string // --aws-endpoint: one URL for every service
	Profile  string // --profile: shared config/credentials profile

	// Explicit static credentials (flags or tests). When set they are
	// also handed to child processes by ChildEnv.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string

	// RetryMaxAttempts overrides the SDK's default (3) when > 0.
	RetryMaxAttempts int
}

// Env is a loaded AWS configuration plus per-region client caches. It is
// safe for concurrent use.
type Env struct {
	cfg  aws.Config
	opts Options

	mu      sync.Mutex
	clients map[clientKey]any
}

type clientKey struct{ service, region string }

// LoadConfig resolves configuration with the SDK's standard chain
// (environment, shared config and credentials files, profiles,
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, region) and applies the
// shortcuts in opts on top.
func LoadConfig(ctx context.Context, opts Options) (*Env, error) {
	var lo []func(*config.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(NormalizeRegion(opts.Region)))
	}
	if opts.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Endpoint != "" {
		lo = append(lo, config.WithBaseEndpoint(opts.Endpoint))
	}
	if opts.AccessKeyID != "" || opts.SecretAccessKey != "" {
		if opts.AccessKeyID == "" || opts.SecretAccessKey == "" {
			return nil, fmt.Errorf("aws credentials: both access key id and secret access key are needed")
		}
		lo = append(lo, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			opts.AccessKeyID, opts.SecretAccessKey, opts.SessionToken)))
	}
	if opts.RetryMaxAttempts > 0 {
		lo = append(lo, config.WithRetryMaxAttempts(opts.RetryMaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return &Env{cfg: cfg, opts: opts, clients: map[clientKey]any{}}, nil
}

// Config returns the resolved base configuration (default region).
func (e *Env) Config() aws.Config { return e.cfg }

// Region is the default region.
func (e *Env) Region() string { return e.cfg.Region }

// NormalizeRegion accepts the underscore spelling seen in some Data
// Pipeline examples ("us_west_1") and trims blanks.
func NormalizeRegion(r string) string {
	return strings.ReplaceAll(strings.TrimSpace(r), "_", "-")
}

func (e *Env) regionOr(r string) string {
	if r = NormalizeRegion(r); r != "" {
		return r
	}
	return e.cfg.Region
}

// client returns the cached client for service in region, building it once.
func client[T any](e *Env, service, region string, build func(aws.Config) T) T {
	key := clientKey{service, e.regionOr(region)}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.clients[key]; ok {
		return c.(T)
	}
	cfg := e.cfg.Copy()
	cfg.Region = key.region
	c := build(cfg)
	e.clients[key] = c
	return c
}

// S3 returns the S3 client for region ("" = default).
func (e *Env) S3(region string) *s3.Client {
	return client(e, "s3", region, func(cfg aws.Config) *s3.Client {
		return s3.NewFromConfig(cfg, e.s3Options)
	})
}

func (e *Env) s3Options(o *s3.Options) {
	if e.opts.Endpoint != "" {
		o.BaseEndpoint = aws.String(e.opts.Endpoint)
	}
	if e.endpointFor("S3") != "" {
		applyCustomEndpointS3(o)
	}
}

// DynamoDB returns the DynamoDB client for region ("" = default).
func (e *Env) DynamoDB(region string) *dynamodb.Client {
	return client(e, "dynamodb", region, func(cfg aws.Config) *dynamodb.Client {
		return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			if e.opts.Endpoint != "" {
				o.BaseEndpoint = aws.String(e.opts.Endpoint)
			}
		})
	})
}

// SNS returns the SNS client for region ("" = default).
func (e *Env) SNS(region string) *sns.Client {
	return client(e, "sns", region, func(cfg aws.Config) *sns.Client {
		return sns.NewFromConfig(cfg, func(o *sns.Options) {
			if e.opts.Endpoint != "" {
				o.BaseEndpoint = aws.String(e.opts.Endpoint)
			}
		})
	})
}

// SQS returns the SQS client for region ("" = default); used by tests to
// read SNS deliveries back.
func (e *Env) SQS(region string) *sqs.Client {
	return client(e, "sqs", region, func(cfg aws.Config) *sqs.Client {
		return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
			if e.opts.Endpoint != "" {
				o.BaseEndpoint = aws.String(e.opts.Endpoint)
			}
		})
	})
}

// Store returns the S3-backed storage.Store in the default region.
func (e *Env) Store() *S3Store {
	st := newS3Store(e.S3(""))
	if e.endpointFor("S3") == "" {
		st.regional = e.S3
	}
	return st
}

// envServiceIDs maps our service names to the SDK's AWS_ENDPOINT_URL_<ID>
// suffixes.
var envServiceIDs = map[string]string{"S3": "S3", "DynamoDB": "DYNAMODB", "SNS": "SNS", "SQS": "SQS"}

// endpointFor returns the custom endpoint in effect for service, "" for
// the AWS default. The precedence mirrors the SDK's: --aws-endpoint (set
// per client), AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL or the
// profile's endpoint_url (both land in cfg.BaseEndpoint).
func (e *Env) endpointFor(service string) string {
	if e.opts.Endpoint != "" {
		return e.opts.Endpoint
	}
	if os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true" {
		return ""
	}
	if v := os.Getenv("AWS_ENDPOINT_URL_" + envServiceIDs[service]); v != "" {
		return v
	}
	if e.cfg.BaseEndpoint != nil {
		return *e.cfg.BaseEndpoint
	}
	return ""
}

// Describe says which backend, region, endpoints and credential source are
// in use; the CLI prints it once at start. It never prints secrets.
func (e *Env) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backend aws: region %s", e.cfg.Region)
	if e.opts.Profile != "" {
		fmt.Fprintf(&b, ", profile %s", e.opts.Profile)
	} else if p := os.Getenv("AWS_PROFILE"); p != "" {
		fmt.Fprintf(&b, ", profile %s (AWS_PROFILE)", p)
	}
	b.WriteString("; credentials ")
	b.WriteString(e.credentialSource())
	services := make([]string, 0, len(envServiceIDs))
	for s := range envServiceIDs {
		services = append(services, s)
	}
	sort.Strings(services)
	b.WriteString("; endpoints")
	for i, s := range services {
		sep := ", "
		if i == 0 {
			sep = " "
		}
		ep := e.endpointFor(s)
		if ep == "" {
			ep = "AWS default"
		} else if s == "S3" {
			ep += " (path-style)"
		}
		fmt.Fprintf(&b, "%s%s=%s", sep, strings.ToLower(s), ep)
	}
	return b.String()
}

func (e *Env) credentialSource() string {
	switch {
	case e.opts.AccessKeyID != "":
		return "from flags (static)"
	case os.Getenv("AWS_ACCESS_KEY_ID") != "":
		return "from environment (AWS_ACCESS_KEY_ID)"
	case e.opts.Profile != "" || os.Getenv("AWS_PROFILE") != "":
		return "from the shared profile"
	default:
		return "from the default chain (shared files, SSO, container or instance role)"
	}
}

// ChildEnv returns KEY=VALUE pairs to append to os.Environ() for shell
// commands, so that the aws CLI and SDKs inside them use the same region,
// endpoint, profile and (flag-given) credentials as the executor. Settings
// that came from the environment itself are inherited and not repeated.
func (e *Env) ChildEnv() []string { return e.ChildEnvIn("") }

// ChildEnvIn is ChildEnv with the region of the resource the command runs
// on (e.g. the EmrCluster or Ec2Resource "region" field); "" = default.
func (e *Env) ChildEnvIn(region string) []string {
	r := e.regionOr(region)
	env := []string{
		"AWS_REGION=" + r,
		"AWS_DEFAULT_REGION=" + r,
	}
	if e.opts.Endpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL="+e.opts.Endpoint)
	}
	if e.opts.Profile != "" {
		env = append(env, "AWS_PROFILE="+e.opts.Profile)
	}
	if e.opts.AccessKeyID != "" {
		env = append(env,
			"AWS_ACCESS_KEY_ID="+e.opts.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY="+e.opts.SecretAccessKey)
		if e.opts.SessionToken != "" {
			env = append(env, "AWS_SESSION_TOKEN="+e.opts.SessionToken)
		}
	}
	return env
}

// ConfigFor returns a copy of the base configuration for region ("" = the
// default) with --aws-endpoint applied to every service, for packages that
// build their own clients (the EC2 and EMR resource providers).
func (e *Env) ConfigFor(region string) aws.Config {
	cfg := e.cfg.Copy()
	cfg.Region = e.regionOr(region)
	if e.opts.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(e.opts.Endpoint)
	}
	return cfg
}

// Options returns the shortcuts the configuration was loaded with.
func (e *Env) Options() Options { return e.opts }
