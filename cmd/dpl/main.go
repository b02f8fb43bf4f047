// Command dpl reads, validates, plans and runs AWS Data Pipeline
// definitions on your own machine.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	exitOK          = 0
	exitFailed      = 1 // definition errors, failed runs
	exitUsage       = 2 // bad flags, unreadable files
	exitInterrupted = 130
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); builds
// from a checkout fall back to the module/VCS information.
var version = ""

var rootCmd = &cobra.Command{
	Use:   "dpl",
	Short: "Validate, plan and run AWS Data Pipeline definitions locally",
	Long: `dpl keeps AWS Data Pipeline definitions alive without AWS: it reads them
(file, API and CloudFormation formats), validates them offline, evaluates
their #{...} expressions and schedules, and runs them on a local executor.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError carries an exit code out of a command. A nil err means the
// command already printed what it had to say.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err (which may be nil) so main exits with code.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := info.Main.Version
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		v = "devel-" + rev[:min(12, len(rev))]
		if dirty {
			v += "-dirty"
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	return v + " (" + info.GoVersion + ")"
}

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print dpl's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "dpl %s\n", versionString())
		},
	})
}

func main() {
	// dpl's commands are short-lived and allocate a tree per definition: a
	// lazier collector saves a third of the CPU of validating large files.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(profiled(run))
}

// writeHeapProfile writes the live heap to $DPL_MEMPROFILE when set; it is
// called where a command's data is at its largest (and at exit).
func writeHeapProfile() {
	path := os.Getenv("DPL_MEMPROFILE")
	if path == "" {
		return
	}
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dpl: DPL_MEMPROFILE:", err)
		return
	}
	defer out.Close()
	runtime.GC() // up-to-date in-use figures
	if err := pprof.WriteHeapProfile(out); err != nil {
		fmt.Fprintln(os.Stderr, "dpl: DPL_MEMPROFILE:", err)
	}
}

// profiled runs f, writing a CPU profile to $DPL_CPUPROFILE when set (for
// measuring dpl itself; see executor/bench) and a heap profile to
// $DPL_MEMPROFILE.
func profiled(f func() int) int {
	path := os.Getenv("DPL_CPUPROFILE")
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dpl: DPL_CPUPROFILE:", err)
		return f()
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		fmt.Fprintln(os.Stderr, "dpl: DPL_CPUPROFILE:", err)
		return f()
	}
	defer pprof.StopCPUProfile()
	return f()
}

func run() int {
	registerCompletions(rootCmd)
	err := rootCmd.Execute()
	if err == nil {
		return exitOK
	}
	code := exitUsage // cobra's own errors: unknown command, bad args
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dpl: "+err.Error())
	}
	return code
}
