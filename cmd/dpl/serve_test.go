package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestServeRefusesUnauthenticatedNonLoopback(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	dir := t.TempDir()
	if _, code := runCLI(t, "serve", "--listen", "0.0.0.0:0", "--state-dir", dir); code != exitUsage {
		t.Fatalf("serve on 0.0.0.0 without credentials: exit %d, want %d", code, exitUsage)
	}
	if _, code := runCLI(t, "serve", "--credentials", filepath.Join(dir, "missing"), "--state-dir", dir); code != exitUsage {
		t.Fatalf("serve with a missing credentials file: exit %d, want %d", code, exitUsage)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("[default]\n"), 0o600)
	if _, code := runCLI(t, "serve", "--listen", "0.0.0.0:0", "--credentials", empty, "--state-dir", dir); code != exitUsage {
		t.Fatalf("serve with a credentials file without keys: exit %d, want %d", code, exitUsage)
	}
}

func TestTaskRunnerFlags(t *testing.T) {
	if _, code := runCLI(t, "taskrunner", "--worker-group", "g"); code != exitUsage {
		t.Fatalf("taskrunner without --endpoint: exit %d, want %d", code, exitUsage)
	}
	if _, code := runCLI(t, "taskrunner", "--endpoint", "http://127.0.0.1:1", "--worker-group", "g", "--tasks", "0", "--output", t.TempDir()); code != exitUsage {
		t.Fatalf("taskrunner --tasks 0: exit %d, want %d", code, exitUsage)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true, "0.0.0.0": false, "": false, "10.0.0.1": false, "example.com": false} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
