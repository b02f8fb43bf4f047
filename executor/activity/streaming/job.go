// Package streaming runs Hadoop streaming jobs (hadoop-streaming.jar) on
// one machine: the input is cut into line-aligned splits, one mapper
// process per split (several at once), map output is partitioned by key,
// sorted (spilled to disk in sorted runs, merged for the reducers), and one
// reducer process per partition writes part-NNNNN files. The built-in
// aggregate reducer and identity mapper/reducer run natively.
package streaming

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Job is a parsed streaming command line.
type Job struct {
	Inputs   []string
	Output   string
	Mapper   string
	Reducer  string // "" or NONE: map-only
	Combiner string
	Files    []string // -files / -file: copied into the tasks' folder
	CmdEnv   []string // -cmdenv NAME=VALUE
	Reduces  int      // -numReduceTasks, -D mapreduce.job.reduces
	Defines  map[string]string
	// SplitSize is the largest split in bytes (default 64 MiB, the
	// mapreduce.input.fileinputformat.split.maxsize / mapred.max.split.size
	// settings change it).
	SplitSize int64
}

// IsStreamingJar reports whether a jar path names hadoop-streaming.
func IsStreamingJar(jar string) bool {
	base := strings.ToLower(path.Base(jar))
	return strings.HasPrefix(base, "hadoop-streaming") && strings.HasSuffix(base, ".jar")
}

const (
	identityMapper  = "org.apache.hadoop.mapred.lib.IdentityMapper"
	identityReducer = "org.apache.hadoop.mapred.lib.IdentityReducer"
)

// Parse reads the arguments that follow the jar.
func Parse(args []string) (*Job, error) {
	j := &Job{Reduces: 1, Defines: map[string]string{}, SplitSize: 64 << 20}
	reducesSet := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("hadoop streaming: %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		opt := strings.TrimPrefix(a, "-")
		if strings.HasPrefix(a, "-D") && len(a) > 2 {
			// -Dname=value written as one argument
			k, v, _ := strings.Cut(a[2:], "=")
			j.Defines[k] = v
			continue
		}
		switch opt {
		case "input":
			v, err := val()
			if err != nil {
				return nil, err
			}
			for _, p := range strings.Split(v, ",") {
				if p != "" {
					j.Inputs = append(j.Inputs, p)
				}
			}
		case "output":
			v, err := val()
			if err != nil {
				return nil, err
			}
			j.Output = v
		case "mapper":
			v, err := val()
			if err != nil {
				return nil, err
			}
			j.Mapper = v
		case "reducer":
			v, err := val()
			if err != nil {
				return nil, err
			}
			j.Reducer = v
		case "combiner":
			v, err := val()
			if err != nil {
				return nil, err
			}
			j.Combiner = v
		case "files", "file", "cacheFile":
			v, err := val()
			if err != nil {
				return nil, err
			}
			for _, f := range strings.Split(v, ",") {
				if f != "" {
					j.Files = append(j.Files, f)
				}
			}
		case "cmdenv":
			v, err := val()
			if err != nil {
				return nil, err
			}
			j.CmdEnv = append(j.CmdEnv, v)
		case "numReduceTasks":
			v, err := val()
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("hadoop streaming: -numReduceTasks %q is not a count", v)
			}
			j.Reduces, reducesSet = n, true
		case "D":
			v, err := val()
			if err != nil {
				return nil, err
			}
			k, x, _ := strings.Cut(v, "=")
			j.Defines[k] = x
		case "inputformat", "outputformat":
			v, err := val()
			if err != nil {
				return nil, err
			}
			if !strings.HasSuffix(v, ".TextInputFormat") && !strings.HasSuffix(v, ".TextOutputFormat") {
				return nil, fmt.Errorf("hadoop streaming: -%s %s is not supported (only text input and output)", opt, v)
			}
		case "partitioner", "archives", "cacheArchive", "inputreader", "io", "libjars":
			v, _ := val()
			return nil, fmt.Errorf("hadoop streaming: -%s %s is not supported by dpl's local streaming; run with --emr host and Hadoop installed", opt, v)
		case "verbose", "info", "background", "lazyOutput":
		default:
			return nil, fmt.Errorf("hadoop streaming: unknown option %q", a)
		}
	}
	for k, v := range j.Defines {
		switch k {
		case "mapred.reduce.tasks", "mapreduce.job.reduces":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("hadoop streaming: -D %s=%q is not a count", k, v)
			}
			if !reducesSet {
				j.Reduces = n
			}
		case "mapred.max.split.size", "mapreduce.input.fileinputformat.split.maxsize":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("hadoop streaming: -D %s=%q is not a size", k, v)
			}
			j.SplitSize = n
		}
	}
	switch {
	case len(j.Inputs) == 0:
		return nil, fmt.Errorf("hadoop streaming: -input is required")
	case j.Output == "":
		return nil, fmt.Errorf("hadoop streaming: -output is required")
	case j.Mapper == "":
		return nil, fmt.Errorf("hadoop streaming: -mapper is required")
	}
	switch {
	case j.Reducer == "NONE":
		j.Reducer, j.Reduces = "", 0
	case j.Reduces == 0:
		j.Reducer = ""
	case j.Reducer == "":
		j.Reducer = identityReducer // Hadoop's default reducer
	}
	return j, nil
}
