package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary be the dpl command of the testscript
// scenarios (testdata/script/*.txtar): `exec dpl ...` there runs main's
// run() in a child process, exactly as the installed binary would.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"dpl": func() { os.Exit(run()) }})
}

// TestScripts runs the scenarios in testdata/script: each is a txtar file
// whose comment is a script of dpl commands with their expected output,
// followed by the files it uses. They double as documentation of the CLI.
func TestScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dpl as a child process per command; skipped with -short")
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// A free loopback port for scenarios that serve the API.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			env.Setenv("PORT", strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
			l.Close()
			env.Setenv("DPL_STATE_DIR", "")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "aws": // the AWS CLI
				_, err := exec.LookPath("aws")
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": waitFile,
		},
	})
}

// waitFile waits for a file to exist: `waitfile PATH` (for a background
// command to reach a point). It gives up after a minute so that a broken
// scenario fails instead of hanging.
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile PATH")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within a minute", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
