package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/dpl-dev/dpl/executor/errcode"
	"github.com/dpl-dev/dpl/executor/remote"
)

func TestServeRefusesUnsafeAuthSettings(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"--no-auth on a non-loopback address", []string{"--no-auth", "--listen", "0.0.0.0:0"}},
		{"--no-auth with --credentials", []string{"--no-auth", "--credentials", filepath.Join(dir, "c")}},
		{"a missing credentials file", []string{"--credentials", filepath.Join(dir, "missing")}},
		{"a credentials file without keys", []string{"--listen", "0.0.0.0:0", "--credentials", writeFile(t, dir, "empty", "[default]\n")}},
	} {
		if _, code := runCLI(t, append([]string{"serve", "--state-dir", dir}, c.args...)...); code != errcode.ExitUsage {
			t.Errorf("serve with %s: exit %d, want %d", c.name, code, errcode.ExitUsage)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// servedProcess is a `dpl serve` child and what it printed at start.
type servedProcess struct {
	url    string
	export map[string]string // the variables of its export line
	stop   func()            // interrupts it and waits
}

// startServeProcess runs the real binary with args and reads its start-up
// lines: the export line (when credentials are generated) and the address.
func startServeProcess(t *testing.T, args ...string) servedProcess {
	t.Helper()
	bin := dplBinary(t)
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var sp servedProcess
	var once sync.Once
	sp.stop = func() { once.Do(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }) }
	t.Cleanup(sp.stop)
	listen := regexp.MustCompile(`listening on (http://\S+)`)
	sc := bufio.NewScanner(stderr)
	var seen strings.Builder
	for sp.url == "" && sc.Scan() {
		line := sc.Text()
		seen.WriteString(line + "\n")
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "export "); ok {
			sp.export = map[string]string{}
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				sp.export[k] = v
			}
		}
		if m := listen.FindStringSubmatch(line); m != nil {
			sp.url = m[1]
		}
	}
	if sp.url == "" {
		t.Fatalf("dpl serve did not say where it listens:\n%s", seen.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	return sp
}

// TestServeSecureByDefault: a plain `dpl serve` generates a key pair, says
// how to use it, refuses unsigned requests with 403 and accepts requests
// signed through the printed export line — from the Go SDK and the AWS CLI.
func TestServeSecureByDefault(t *testing.T) {
	state := t.TempDir()
	sp := startServeProcess(t, "--state-dir", state)
	credFile := filepath.Join(state, "serve", "credentials")
	if got := sp.export["AWS_SHARED_CREDENTIALS_FILE"]; got != credFile || sp.export["AWS_PROFILE"] != "dpl-serve" {
		t.Fatalf("export line %v, want AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=dpl-serve", sp.export, credFile)
	}
	if st, err := os.Stat(credFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v (mode %v), want 0600", err, st.Mode().Perm())
	}
	resp, err := http.Post(sp.url, "application/x-amz-json-1.1", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("MissingAuthenticationTokenException")) {
		t.Fatalf("unsigned request: %d %s, want 403 MissingAuthenticationTokenException", resp.StatusCode, body)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(state, "no-config"))
	for k, v := range sp.export {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	c, err := remote.Dial(ctx, remote.ClientOptions{Endpoint: sp.url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DP.ListPipelines(ctx, &datapipeline.ListPipelinesInput{}); err != nil {
		t.Fatalf("signed with the generated profile: %v", err)
	}
	// A second start reuses the pair.
	sp.stop()
	again := startServeProcess(t, "--state-dir", state)
	if again.export["AWS_SHARED_CREDENTIALS_FILE"] != credFile {
		t.Fatalf("second start: export %v", again.export)
	}
	c2, _ := remote.Dial(ctx, remote.ClientOptions{Endpoint: again.url})
	if _, err := c2.DP.ListPipelines(ctx, &datapipeline.ListPipelinesInput{}); err != nil {
		t.Fatalf("second start refused the first start's key pair: %v", err)
	}
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Log("SKIPPED the AWS CLI half: aws is not installed")
		return
	}
	cmd := exec.Command(aws, "datapipeline", "list-pipelines", "--endpoint-url", again.url, "--region", "us-east-1", "--output", "json")
	cmd.Env = append(os.Environ(), "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("pipelineIdList")) {
		t.Fatalf("aws datapipeline list-pipelines with the export line: %v\n%s", err, out)
	}
}

// TestServeNoAuthOnLoopback: --no-auth serves unsigned requests on a
// loopback address.
func TestServeNoAuthOnLoopback(t *testing.T) {
	sp := startServeProcess(t, "--state-dir", t.TempDir(), "--no-auth")
	req, _ := http.NewRequest(http.MethodPost, sp.url, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DataPipeline.ListPipelines")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("unsigned request with --no-auth: %d %s", resp.StatusCode, b)
	}
}

func TestTaskRunnerFlags(t *testing.T) {
	if _, code := runCLI(t, "taskrunner", "--worker-group", "g"); code != errcode.ExitUsage {
		t.Fatalf("taskrunner without --endpoint: exit %d, want %d", code, errcode.ExitUsage)
	}
	if _, code := runCLI(t, "taskrunner", "--endpoint", "http://127.0.0.1:1", "--worker-group", "g", "--tasks", "0", "--output", t.TempDir()); code != errcode.ExitUsage {
		t.Fatalf("taskrunner --tasks 0: exit %d, want %d", code, errcode.ExitUsage)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true, "0.0.0.0": false, "": false, "10.0.0.1": false, "example.com": false} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
