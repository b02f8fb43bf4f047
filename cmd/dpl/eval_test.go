package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/errcode"
)

func runEval(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newEvalCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestEvalCommand(t *testing.T) {
	def := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(def, []byte(`{"objects":[
		{"id":"Default","name":"Default","myBucket":"s3://bkt"},
		{"id":"In","name":"In","type":"S3DataNode","directoryPath":"#{myBucket}/in/#{format(@scheduledStartTime,'YYYY')}"},
		{"id":"Act","name":"Act","type":"ShellCommandActivity","input":{"ref":"In"},"command":"echo #{myMsg}"}],
		"parameters":[{"id":"myMsg","default":"hi"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--scheduled-start", "2011-05-24T17:10:00", "--param", "myPrefix=daily",
			"s3://b/#{format(@scheduledStartTime,'YYYY-MM-dd')}/#{myPrefix}"}, "s3://b/2011-05-24/daily\n"},
		{[]string{"--param", "myL=a", "--param", "myL=b", "x/#{myL}"}, "x/a\nx/b\n"},
		{[]string{"#{2 ^ 2}"}, "4.0\n"},
		{[]string{"--scheduled-end", "2011-05-24T18:00:00Z", "#{@scheduledEndTime}"}, "2011-05-24T18:00:00\n"},
		{[]string{"--file", def, "--object", "Act", "--scheduled-start", "2020-01-01T00:00:00",
			"#{input.directoryPath} #{command}"}, "s3://bkt/in/2020 echo hi\n"},
		{[]string{"--file", def, "--object", "Act", "--param", "myMsg=bye", "#{command}"}, "echo bye\n"},
	}
	for _, tt := range tests {
		got, err := runEval(t, tt.args...)
		if err != nil || got != tt.want {
			t.Errorf("dpl eval %q = %q, %v; want %q", tt.args, got, err, tt.want)
		}
	}

	errs := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"#{foo(1)} x"}, errcode.ExitFailed, "column 3: unknown function \"foo\"\n  #{foo(1)} x\n    ^"},
		{[]string{"a #{myMissing}"}, errcode.ExitFailed, `column 5: unknown name "myMissing"`},
		{[]string{"--object", "X", "#{1}"}, errcode.ExitUsage, "--object needs --file"},
		{[]string{"--scheduled-start", "soon", "#{1}"}, errcode.ExitUsage, "--scheduled-start"},
		{[]string{"--param", "novalue", "#{1}"}, errcode.ExitUsage, "want id=value"},
		{[]string{"--file", def, "--object", "Nope", "#{1}"}, errcode.ExitUsage, `no object with id "Nope"`},
	}
	for _, tt := range errs {
		_, err := runEval(t, tt.args...)
		if errcode.ExitCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("dpl eval %q: error %v, want code %d and %q", tt.args, err, tt.code, tt.msg)
		}
	}
}
