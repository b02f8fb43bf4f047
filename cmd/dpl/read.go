package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/convert"
)

// Every command that reads a definition reads it through loadDefinition
// (or readDefinition for the bytes): one size limit, one refusal of what
// is not a regular file, every format, one set of CloudFormation values.
var readFlags struct {
	maxSize   string
	cfnParams []string
}

// addReadFlags registers --max-size and --cfn-param on a command that
// reads definitions. Only one command runs per process, so they share one
// set of values.
func addReadFlags(fs *pflag.FlagSet) {
	fs.StringVar(&readFlags.maxSize, "max-size", definition.FormatSize(definition.DefaultMaxSize), "largest definition read (B, KiB, MiB, GiB), standard input included")
	fs.StringArrayVar(&readFlags.cfnParams, "cfn-param", nil, "CloudFormation template parameter NAME=VALUE, also pseudo parameters (AWS::Region=eu-west-1; defaults AWS::Region=us-east-1, AWS::AccountId=123456789012, AWS::StackName=dpl-local)")
}

// readOptions turns the read flags into definition.ReadOptions.
func readOptions() (definition.ReadOptions, error) {
	var o definition.ReadOptions
	if readFlags.maxSize != "" {
		n, err := definition.ParseSize(readFlags.maxSize)
		if err != nil {
			return o, withCode(exitUsage, fmt.Errorf("--max-size: %w", err))
		}
		o.MaxSize = n
	}
	params, err := definition.CFNParams(readFlags.cfnParams)
	if err != nil {
		return o, withCode(exitUsage, err)
	}
	o.CloudFormation = params
	return o, nil
}

// readDefinition reads the bytes of a definition ("-" is standard input)
// and returns the name to report it under. Errors carry exit code 2.
func readDefinition(path string) (string, []byte, definition.ReadOptions, error) {
	opts, err := readOptions()
	if err != nil {
		return "", nil, opts, err
	}
	name, data, err := definition.ReadSource(path, opts)
	if err != nil {
		return "", nil, opts, withCode(exitUsage, err)
	}
	return name, data, opts, nil
}

// loadDefinition reads and parses one definition in any format. A syntax
// error comes back with its caret excerpt, as exit code 2.
func loadDefinition(path string) (*definition.Definition, []byte, error) {
	name, data, opts, err := readDefinition(path)
	if err != nil {
		return nil, nil, err
	}
	d, err := definition.ParseSource(name, data, opts)
	if err != nil {
		return nil, nil, readError(err, exitUsage)
	}
	return d, data, nil
}

// parseStored parses a definition kept in a state folder: whatever format
// it was stored in.
func parseStored(file string, src []byte) (*definition.Definition, error) {
	return definition.ParseSource(file, src, definition.ReadOptions{MaxSize: int64(len(src)) + 1})
}

// readConvertSource reads and parses a definition for the conversion
// commands (convert, diff, graph).
func readConvertSource(path string) (*convert.Source, error) {
	name, data, opts, err := readDefinition(path)
	if err != nil {
		return nil, err
	}
	src, err := convert.ReadWith(name, data, opts)
	if err != nil {
		return nil, readError(err, exitUsage)
	}
	return src, nil
}

// expandPaths is definition.ExpandPathsWarn with the warnings on stderr.
func expandPaths(args []string) ([]string, error) {
	paths, err := definition.ExpandPathsWarn(args, func(msg string) {
		fmt.Fprintln(os.Stderr, "dpl: warning: "+msg)
	})
	var re *definition.ReadError
	if errors.As(err, &re) {
		return nil, withCode(exitUsage, err)
	}
	return paths, err
}

// durationFlag is a time.Duration flag whose overflow is reported as too
// large, with the maximum, instead of time's "invalid duration".
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return "0" // pflag shows no default for "0"
	}
	return f.d.String()
}

func (f durationFlag) Type() string { return "duration" }

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err == nil {
		if d < 0 {
			return fmt.Errorf("%q is negative", s)
		}
		*f.d = d
		return nil
	}
	// ParseDuration says "invalid duration" for overflow too: retry the
	// number in big arithmetic to tell the two apart.
	if overflows(s) {
		return fmt.Errorf("%q is too large: at most %s (about 292 years)", s, time.Duration(math.MaxInt64))
	}
	return fmt.Errorf("%q is not a duration such as 2s, 500ms or 1h30m", s)
}

// overflows reports whether s is a well-formed duration too long for int64
// nanoseconds.
func overflows(s string) bool {
	units := map[string]float64{"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
	total, rest := 0.0, strings.TrimPrefix(s, "+")
	if rest == "" {
		return false
	}
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if i == 0 || err != nil {
			return false
		}
		j := i
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		u, ok := units[rest[i:j]]
		if !ok {
			return false
		}
		total += n * u
		rest = rest[j:]
	}
	return total > math.MaxInt64
}
