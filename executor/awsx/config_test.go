package awsx

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// clearAWSEnv isolates a test from the machine's AWS settings.
func clearAWSEnv(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
		"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_SQS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
}

func TestLoadConfigShortcutsAndChildEnv(t *testing.T) {
	clearAWSEnv(t)
	env, err := LoadConfig(context.Background(), Options{Region: "us_west_2", Endpoint: "http://127.0.0.1:9", AccessKeyID: "AKID", SecretAccessKey: "SECRET"})
	if err != nil {
		t.Fatal(err)
	}
	if env.Region() != "us-west-2" {
		t.Errorf("region %q", env.Region())
	}
	d := env.Describe()
	for _, want := range []string{"backend aws", "region us-west-2", "s3=http://127.0.0.1:9 (path-style)", "dynamodb=http://127.0.0.1:9", "from flags"} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, missing %q", d, want)
		}
	}
	if strings.Contains(d, "SECRET") {
		t.Error("Describe leaks the secret key")
	}
	ce := env.ChildEnv()
	for _, want := range []string{"AWS_REGION=us-west-2", "AWS_DEFAULT_REGION=us-west-2", "AWS_ENDPOINT_URL=http://127.0.0.1:9", "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SECRET"} {
		if !slices.Contains(ce, want) {
			t.Errorf("ChildEnv() = %q, missing %q", ce, want)
		}
	}
	if ce := env.ChildEnvIn("eu_central_1"); ce[0] != "AWS_REGION=eu-central-1" || ce[1] != "AWS_DEFAULT_REGION=eu-central-1" {
		t.Errorf("ChildEnvIn = %q", ce)
	}
	s3o := env.S3("").Options()
	if !s3o.UsePathStyle || s3o.BaseEndpoint == nil || *s3o.BaseEndpoint != "http://127.0.0.1:9" {
		t.Errorf("S3 client options: path-style %v endpoint %v", s3o.UsePathStyle, s3o.BaseEndpoint)
	}
	if env.DynamoDB("eu-west-1") != env.DynamoDB("eu_west_1") || env.DynamoDB("eu-west-1") == env.DynamoDB("") {
		t.Error("per-region client cache does not key by normalised region")
	}
	if got := env.DynamoDB("eu-west-1").Options().Region; got != "eu-west-1" {
		t.Errorf("regional client region %q", got)
	}
}

func TestLoadConfigStandardChain(t *testing.T) {
	clearAWSEnv(t)
	t.Setenv("AWS_REGION", "ca-central-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://global.example:1")
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://s3.example:2")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	env, err := LoadConfig(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := env.Describe()
	for _, want := range []string{"region ca-central-1", "s3=http://s3.example:2 (path-style)", "sns=http://global.example:1", "from environment"} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, missing %q", d, want)
		}
	}
	// Flags were not used, so nothing is re-exported to children except
	// the region (the rest is inherited from this environment).
	if ce := env.ChildEnv(); len(ce) != 2 {
		t.Errorf("ChildEnv() = %q", ce)
	}
	if !env.S3("").Options().UsePathStyle {
		t.Error("custom S3 endpoint from AWS_ENDPOINT_URL_S3 without path-style")
	}
	if env.Store() == nil {
		t.Fatal("no store")
	}
}

func TestLoadConfigDefaultsRegion(t *testing.T) {
	clearAWSEnv(t)
	env, err := LoadConfig(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if env.Region() != DefaultRegion {
		t.Errorf("region %q", env.Region())
	}
	if d := env.Describe(); !strings.Contains(d, "s3=AWS default") {
		t.Errorf("Describe() = %q", d)
	}
	if env.S3("").Options().UsePathStyle {
		t.Error("path-style used against AWS itself")
	}
	if _, err := LoadConfig(context.Background(), Options{AccessKeyID: "only-id"}); err == nil {
		t.Error("half credentials accepted")
	}
}
