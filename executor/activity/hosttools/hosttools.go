// Package hosttools finds the Hadoop-family tools of an edge node (hive,
// beeline, pig, hadoop, spark-submit, sqoop) and builds the command lines
// the service gave them on EMR, for dpl's host tools mode (--emr host, or
// --emr auto when the tool is installed).
package hosttools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Mode says where EMR work runs.
type Mode string

const (
	// Auto uses a host tool when it is installed, else the embedded engine.
	Auto Mode = "auto"
	// Host always uses the host tools; a missing tool fails the attempt.
	Host Mode = "host"
	// Embedded never uses host tools.
	Embedded Mode = "embedded"
)

// ParseMode reads the --emr flag ("" is Auto).
func ParseMode(s string) (Mode, error) {
	switch Mode(strings.ToLower(s)) {
	case "", Auto:
		return Auto, nil
	case Host:
		return Host, nil
	case Embedded:
		return Embedded, nil
	}
	return "", fmt.Errorf("--emr %q: want host, auto or embedded", s)
}

// Tools are the host tools dpl drives, by command name.
var Tools = []string{"hive", "beeline", "pig", "hadoop", "spark-submit", "sqoop"}

// IsTool reports whether name (a command's base name) is a host tool.
func IsTool(name string) bool {
	for _, t := range Tools {
		if t == name {
			return true
		}
	}
	return false
}

// EnvVar is the variable that points at a tool's executable: DPL_HIVE,
// DPL_SPARK_SUBMIT, ...
func EnvVar(tool string) string {
	return "DPL_" + strings.ToUpper(strings.ReplaceAll(tool, "-", "_"))
}

// Find returns the executable of tool: $DPL_<TOOL> when set, else the
// first on PATH. env is the child environment (os.Environ() plus dpl's).
func Find(tool string, env []string) (string, bool) {
	if p := lookupEnv(env, EnvVar(tool)); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		return "", false
	}
	if pathVar := lookupEnv(env, "PATH"); pathVar != "" {
		for _, dir := range filepath.SplitList(pathVar) {
			p := filepath.Join(dir, tool)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p, true
			}
		}
		return "", false
	}
	p, err := exec.LookPath(tool)
	return p, err == nil
}

func lookupEnv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val // the last one wins, as in exec
		}
	}
	return v
}

// MissingError says which tool to install and which flag chose host mode.
type MissingError struct {
	Tool, What string
	Mode       Mode
	// Alternative is a tool that would do instead (beeline for hive).
	Alternative string
}

func (e *MissingError) Error() string {
	why := "--emr host asks for host tools"
	if e.Mode != Host {
		why = "the embedded engine cannot run it"
	}
	alt := ""
	if e.Alternative == "beeline" {
		alt = fmt.Sprintf(" (or beeline, set as %s or on PATH, with the HiveServer2 JDBC URL in --beeline-url or %s)", EnvVar("beeline"), BeelineURLEnv)
	}
	return fmt.Sprintf("%s needs %s on this machine (%s): install it%s and put %s on PATH, or set %s to its path, then run with --emr host or --emr auto",
		e.What, e.Tool, why, alt, e.Tool, EnvVar(e.Tool))
}

// BeelineURLEnv holds the HiveServer2 JDBC URL beeline connects to when
// --beeline-url is not given.
const BeelineURLEnv = "DPL_BEELINE_URL"

// DefaultBeelineURL is HiveServer2 on the machine itself, where EMR's
// master node runs it.
const DefaultBeelineURL = "jdbc:hive2://localhost:10000/default"

// BeelineURL is the JDBC URL beeline uses: the flag's value, else
// $DPL_BEELINE_URL in env, else DefaultBeelineURL.
func BeelineURL(flag string, env []string) string {
	if flag != "" {
		return flag
	}
	if v := lookupEnv(env, BeelineURLEnv); v != "" {
		return v
	}
	return DefaultBeelineURL
}

// BeelineArgs is the beeline command line for a Hive script, standing in
// for `hive -f`: -u URL -f script, --hivevar NAME=VALUE per variable
// (beeline's -d is the JDBC driver, not a variable) and --hiveconf
// NAME=VALUE per setting, sorted by name.
func BeelineArgs(url, script string, vars, conf map[string]string) []string {
	args := []string{"-u", url, "-f", script}
	for _, k := range sortedKeys(vars) {
		args = append(args, "--hivevar", k+"="+vars[k])
	}
	for _, k := range sortedKeys(conf) {
		args = append(args, "--hiveconf", k+"="+conf[k])
	}
	return args
}

// HiveArgs is the hive command line for a script: -f script, then -d
// NAME=VALUE per variable and --hiveconf NAME=VALUE per setting, sorted by
// name so invocations are reproducible.
func HiveArgs(script string, vars, conf map[string]string) []string {
	args := []string{"-f", script}
	for _, k := range sortedKeys(vars) {
		args = append(args, "-d", k+"="+vars[k])
	}
	for _, k := range sortedKeys(conf) {
		args = append(args, "--hiveconf", k+"="+conf[k])
	}
	return args
}

// PigArgs is the pig command line: -param NAME=VALUE per variable, then
// -f script.
func PigArgs(script string, params map[string]string) []string {
	var args []string
	for _, k := range sortedKeys(params) {
		args = append(args, "-param", k+"="+params[k])
	}
	return append(args, "-f", script)
}

// HadoopJarArgs is `hadoop jar <jar> [mainClass] args...`.
func HadoopJarArgs(jar, mainClass string, args []string) []string {
	out := []string{"jar", jar}
	if mainClass != "" {
		out = append(out, mainClass)
	}
	return append(out, args...)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
