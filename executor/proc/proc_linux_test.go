package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// spawn starts sleep in its own process group with env added.
func spawn(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// exited reports whether cmd ended (reaping it) within a second.
func exited(cmd *exec.Cmd) bool {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(time.Second):
		return false
	}
}

func TestKillLeftovers(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(t.TempDir(), "other")
	dead := FolderID(dir) + "/999999999.1/@A_Attempt=1" // its dpl is gone
	orphan := spawn(t, EnvVar+"="+dead)
	live := spawn(t, EnvVar+"="+Marker(dir, "@B_Attempt=1")) // this process owns it
	foreign := spawn(t, EnvVar+"="+FolderID(other)+"/999999999.1/@A_Attempt=1")
	recorded := spawn(t)
	start, err := StartTime(recorded.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	reused := spawn(t) // a group recorded with another start time: a reused pid
	groups := []Group{{Pgid: recorded.Process.Pid, Start: start}, {Pgid: reused.Process.Pid, Start: 1}}

	n, err := KillLeftovers(dir, groups, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("killed %d processes, want 2 (the orphan and the recorded group)", n)
	}
	for name, c := range map[string]*exec.Cmd{"orphan of a dead dpl": orphan, "recorded group": recorded} {
		if !exited(c) {
			t.Errorf("%s still runs", name)
		}
	}
	for name, c := range map[string]*exec.Cmd{"child of a live dpl": live, "other state folder": foreign, "reused pid": reused} {
		if err := syscall.Kill(c.Process.Pid, 0); err != nil {
			t.Errorf("%s was killed", name)
		}
	}
}

func TestParseStatNameWithParens(t *testing.T) {
	st, err := parseStat([]byte("42 (a) b (c)) S 1 40 40 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0"))
	if err != nil || st.pgrp != 40 || st.start != 12345 || st.state != 'S' {
		t.Fatalf("got %+v, %v", st, err)
	}
	if _, err := parseStat([]byte("garbage")); err == nil {
		t.Error("garbage parsed")
	}
}
