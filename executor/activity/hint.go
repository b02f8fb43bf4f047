package activity

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dpl-dev/dpl/executor/task"
)

// notFoundRE finds the program a shell could not find, in the messages of
// dash ("sh: 1: sudo: not found"), bash ("bash: line 1: yum: command not
// found") and sudo ("sudo: yum: command not found").
var notFoundRE = regexp.MustCompile(`(?:^|[\s:])([A-Za-z0-9_.+-]+): (?:command )?not found`)

// hostTools are programs the published samples take from the Amazon Linux
// image of the EC2/EMR resources the service launches.
var hostTools = map[string]bool{
	"sudo": true, "yum": true, "dnf": true, "rpm": true, "amazon-linux-extras": true,
	"hadoop": true, "hdfs": true, "hive": true, "pig": true, "spark-submit": true,
	"s3-dist-cp": true, "emrfs": true, "aws": true, "sqoop": true,
}

// missingCommandHint explains a command that failed because a program it
// calls is not installed here. Empty when stderr names no missing program.
// A task only runs once everything it depends on finished, so saying so
// tells the user which work is already done.
func missingCommandHint(a *task.Object, exitCode int, stderrTail string) string {
	var missing string
	for _, line := range strings.Split(stderrTail, " | ") {
		if m := notFoundRE.FindStringSubmatch(line); m != nil {
			missing = m[1]
		}
	}
	if missing == "" || (exitCode != 127 && exitCode != 1) {
		return bashismHint(exitCode, stderrTail)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%q is not installed on this machine", missing)
	if hostTools[missing] {
		b.WriteString("; the command assumes an Amazon Linux EC2/EMR host (the resource the service would launch), and dpl runs it on this machine instead: install it here or change the command")
	}
	if deps := a.Refs("dependsOn"); len(deps) > 0 {
		fmt.Fprintf(&b, "; the activities it depends on (%s) finished before it ran, so their work (e.g. a data copy) is complete", strings.Join(deps, ", "))
	}
	return b.String()
}

// commandNotFound reports whether a command failed because the shell (or
// sudo) could not find a program: exit status 127 with the shell's
// "not found" message, or sudo's "command not found".
func commandNotFound(exitCode int, stderrTail string) bool {
	for _, line := range strings.Split(stderrTail, " | ") {
		m := notFoundRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if exitCode == 127 || exitCode == 1 && strings.HasPrefix(line, "sudo: ") {
			return true
		}
	}
	return false
}

// bashismRE matches dash's complaints about bash-only syntax.
var bashismRE = regexp.MustCompile(`Syntax error: "?\(|Bad substitution|\[\[: not found|Syntax error: redirection unexpected`)

// bashismHint explains a command written for bash failing under a dash sh:
// on the service's Amazon Linux hosts sh is bash.
func bashismHint(exitCode int, stderrTail string) string {
	if exitCode == 0 || !bashismRE.MatchString(stderrTail) {
		return ""
	}
	return "the command uses bash syntax, and this machine's sh is not bash (on the service's Amazon Linux hosts it is): run with DPL_SHELL=bash"
}
