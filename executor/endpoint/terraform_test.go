package endpoint_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
)

// tfPlugins is where the AWS provider is mirrored for offline use.
const tfPlugins = "/opt/tf-plugins"

// TestTerraform (issue 18): Terraform's AWS provider against dpl serve —
// apply an aws_datapipeline_pipeline with its definition, plan shows no
// changes (-detailed-exitcode 0), a changed command applies and is what
// GetPipelineDefinition answers, plan is clean again, destroy deletes the
// pipeline. The provider comes from the filesystem mirror; without
// terraform or the mirror the test skips, saying why.
func TestTerraform(t *testing.T) {
	if testing.Short() {
		t.Skip("runs terraform (tens of seconds); skipped with -short")
	}
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("SKIPPED: terraform is not installed; install terraform 1.11 and mirror hashicorp/aws 5.100 under " + tfPlugins + " to run the Terraform check")
	}
	if _, err := os.Stat(filepath.Join(tfPlugins, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		t.Skip("SKIPPED: the AWS provider is not mirrored under " + tfPlugins + " (terraform runs offline here)")
	}
	h := startServer(t, nil)
	dp := h.sdk()
	ctx := context.Background()
	dir := t.TempDir()
	cli := filepath.Join(dir, "terraform.rc")
	writeText(t, cli, `provider_installation {
  filesystem_mirror {
    path    = "`+tfPlugins+`"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
`)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1",
		"TF_DATA_DIR="+filepath.Join(dir, ".terraform"), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(tf, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return string(out), 0
		case errors.As(err, &ee):
			return string(out), ee.ExitCode()
		}
		t.Fatalf("terraform %s: %v", strings.Join(args, " "), err)
		return "", 0
	}
	must := func(args ...string) string {
		t.Helper()
		out, code := run(args...)
		if code != 0 {
			t.Fatalf("terraform %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}
	config := func(command string) {
		writeText(t, filepath.Join(dir, "main.tf"), `provider "aws" {
  region                      = "us-east-1"
  access_key                  = "`+testKey+`"
  secret_key                  = "`+testSecret+`"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    datapipeline = "`+h.url+`"
  }
}

resource "aws_datapipeline_pipeline" "p" {
  name        = "tf-pipeline"
  description = "made by terraform"
  tags = {
    team = "data"
  }
}

resource "aws_datapipeline_pipeline_definition" "d" {
  pipeline_id = aws_datapipeline_pipeline.p.id
  pipeline_object {
    id   = "Default"
    name = "Default"
    field {
      key          = "scheduleType"
      string_value = "ondemand"
    }
    field {
      key          = "failureAndRerunMode"
      string_value = "CASCADE"
    }
  }
  pipeline_object {
    id   = "Hello"
    name = "Hello"
    field {
      key          = "type"
      string_value = "ShellCommandActivity"
    }
    field {
      key          = "command"
      string_value = "`+command+`"
    }
    field {
      key          = "workerGroup"
      string_value = "tf"
    }
  }
}
`)
	}
	config("echo hello")
	must("init", "-input=false", "-no-color")
	must("apply", "-auto-approve", "-input=false", "-no-color")
	out, code := run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if code != 0 {
		t.Fatalf("plan after apply: exit %d, want 0 (no changes)\n%s", code, out)
	}
	list, err := dp.ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
	if err != nil || len(list.PipelineIdList) != 1 || aws.ToString(list.PipelineIdList[0].Name) != "tf-pipeline" {
		t.Fatalf("pipelines after apply: %+v, %v", list, err)
	}
	id := list.PipelineIdList[0].Id
	command := func() string {
		g, err := dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range g.PipelineObjects {
			for _, f := range o.Fields {
				if aws.ToString(o.Id) == "Hello" && aws.ToString(f.Key) == "command" {
					return aws.ToString(f.StringValue)
				}
			}
		}
		return ""
	}
	if got := command(); got != "echo hello" {
		t.Fatalf("command after apply %q", got)
	}

	config("echo changed")
	out, code = run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if code != 2 {
		t.Fatalf("plan after a change: exit %d, want 2 (changes)\n%s", code, out)
	}
	must("apply", "-auto-approve", "-input=false", "-no-color")
	if got := command(); got != "echo changed" {
		t.Fatalf("command after the changed apply %q", got)
	}
	if out, code := run("plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("plan after the changed apply: exit %d, want 0\n%s", code, out)
	}

	must("destroy", "-auto-approve", "-input=false", "-no-color")
	list, err = dp.ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
	if err != nil || len(list.PipelineIdList) != 0 {
		t.Fatalf("pipelines after destroy: %+v, %v", list, err)
	}
}

func writeText(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
