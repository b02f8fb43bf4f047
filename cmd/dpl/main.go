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

	"github.com/dpl-dev/dpl/cmd/dpl/internal/startgc"
	"github.com/dpl-dev/dpl/executor/errcode"
)

// The error codes commands return most (errcode.ExitCode maps every code
// to its exit status, the README's table): exitUsage for bad flags and
// unreadable input, exitFailed when the work was done and failed (a run,
// validate's errors, diff's differences), exitInterrupted on a signal.
const (
	exitUsage       = errcode.Usage
	exitFailed      = errcode.Failed
	exitInterrupted = errcode.Interrupted
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

// withCode gives err (which may be nil: the command already printed what
// it had to say) a code; main turns it into the exit status.
func withCode(code errcode.Code, err error) error { return errcode.Wrap(code, err) }

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
	startgc.Done()
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
// measuring dpl itself; see executor/bench).
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
		return errcode.ExitOK
	}
	// A coded error with no message was reported by its command.
	var e *errcode.Error
	if !errors.As(err, &e) || e.Err != nil {
		fmt.Fprintln(os.Stderr, "dpl: "+err.Error())
	}
	return errcode.ExitCode(err)
}
