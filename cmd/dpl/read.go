package main

import (
	"errors"
	"fmt"
	"os"

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
