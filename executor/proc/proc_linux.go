package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StartTime returns a process's start time (clock ticks since boot).
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	st, err := parseStat(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return st.start, nil
}

type stat struct {
	state byte
	pgrp  int
	start uint64
}

// parseStat reads the fields of /proc/<pid>/stat after the command name,
// which is in parentheses and may itself contain spaces and parentheses.
func parseStat(b []byte) (stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, errors.New("no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); pgrp is field 5, starttime field 22.
	if len(f) < 20 {
		return stat{}, errors.New("too few fields")
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return stat{}, err
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return stat{}, err
	}
	return stat{state: f[0][0], pgrp: pgrp, start: start}, nil
}

// Pdeathsig is the signal the kernel sends a command when the dpl thread
// that started it dies; 0 where unsupported.
const Pdeathsig = syscall.SIGKILL

// KillLeftovers stops what a killed dpl left of the state folder's
// attempts: each recorded group whose leader is still the recorded process
// (same start time), and every process carrying the folder's marker
// (children whose leader already died, or whose group was never
// recorded). It waits until they are gone (up to wait) and returns how
// many processes it killed.
func KillLeftovers(stateDir string, groups []Group, wait time.Duration) (int, error) {
	me := os.Getpid()
	killed := map[int]bool{}
	for _, g := range groups {
		if g.Pgid <= 1 || g.Pgid == me {
			continue
		}
		start, err := StartTime(g.Pgid)
		if err != nil || g.Start == 0 || start != g.Start {
			continue // leader gone or a different process now: the marker scan finds the rest
		}
		if syscall.Kill(-g.Pgid, syscall.SIGKILL) == nil {
			killed[g.Pgid] = true
		}
	}
	want := []byte(EnvVar + "=" + FolderID(stateDir) + "/")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return len(killed), fmt.Errorf("list processes: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == me || killed[pid] {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		owner, ok := markedOwner(env, want)
		if !ok || ownerAlive(owner) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed[pid] = true
		}
	}
	deadline := time.Now().Add(wait)
	for pid := range killed {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if alive(pid) {
			return len(killed), fmt.Errorf("process %d of the killed run is still alive after SIGKILL", pid)
		}
	}
	return len(killed), nil
}

// markedOwner returns the owner ("pid.start") of the marker in a
// NUL-separated environment whose value starts with prefix.
func markedOwner(env, prefix []byte) (string, bool) {
	var found []byte
	for len(env) > 0 {
		var kv []byte
		kv, env, _ = bytes.Cut(env, []byte{0})
		if bytes.HasPrefix(kv, []byte(EnvVar+"=")) {
			found = kv // the last one wins, as in a shell's environment
		}
	}
	if found == nil || !bytes.HasPrefix(found, prefix) {
		return "", false
	}
	owner, _, ok := bytes.Cut(found[len(prefix):], []byte("/"))
	return string(owner), ok
}

// ownerAlive reports whether the dpl named "pid.start" still runs.
func ownerAlive(owner string) bool {
	pidS, startS, ok := strings.Cut(owner, ".")
	pid, err := strconv.Atoi(pidS)
	if !ok || err != nil {
		return false
	}
	start, err := StartTime(pid)
	return err == nil && strconv.FormatUint(start, 10) == startS && alive(pid)
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	st, err := parseStat(b)
	return err == nil && st.state != 'Z' && st.state != 'X'
}
