package hosttools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Auto, "auto": Auto, "HOST": Host, "embedded": Embedded} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("cluster"); err == nil || !strings.Contains(err.Error(), "host, auto or embedded") {
		t.Errorf("ParseMode(cluster) error = %v", err)
	}
}

func TestFindPrefersVariableThenPath(t *testing.T) {
	dir := t.TempDir()
	onPath := filepath.Join(dir, "spark-submit")
	os.WriteFile(onPath, []byte("#!/bin/sh\n"), 0o755)
	other := filepath.Join(dir, "my-spark")
	os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "pig"), []byte("not executable"), 0o644)
	env := []string{"PATH=" + dir}
	if p, ok := Find("spark-submit", env); !ok || p != onPath {
		t.Errorf("Find on PATH = %q, %v", p, ok)
	}
	if p, ok := Find("spark-submit", append(env, "DPL_SPARK_SUBMIT="+other)); !ok || p != other {
		t.Errorf("Find with DPL_SPARK_SUBMIT = %q, %v", p, ok)
	}
	if _, ok := Find("pig", env); ok {
		t.Error("a non-executable file was found")
	}
	if _, ok := Find("hive", append(env, "DPL_HIVE="+filepath.Join(dir, "missing"))); ok {
		t.Error("DPL_HIVE naming a missing file was accepted")
	}
}

func TestCommandLines(t *testing.T) {
	if got := strings.Join(HiveArgs("/s.q", map[string]string{"B": "2", "A": "1"}, map[string]string{"x": "y"}), " "); got != "-f /s.q -d A=1 -d B=2 --hiveconf x=y" {
		t.Errorf("HiveArgs = %s", got)
	}
	if got := strings.Join(PigArgs("/p.pig", map[string]string{"input1": "s3://b/in"}), " "); got != "-param input1=s3://b/in -f /p.pig" {
		t.Errorf("PigArgs = %s", got)
	}
	if got := strings.Join(HadoopJarArgs("/x.jar", "org.Main", []string{"a", "b"}), " "); got != "jar /x.jar org.Main a b" {
		t.Errorf("HadoopJarArgs = %s", got)
	}
	msg := (&MissingError{Tool: "spark-submit", What: "the step", Mode: Host}).Error()
	for _, w := range []string{"spark-submit", "DPL_SPARK_SUBMIT", "--emr host"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
}

func TestBeelineURLAndArgs(t *testing.T) {
	env := []string{BeelineURLEnv + "=jdbc:hive2://env:10000/x"}
	for _, tc := range []struct {
		flag string
		env  []string
		want string
	}{
		{"jdbc:hive2://flag:1/y", env, "jdbc:hive2://flag:1/y"},
		{"", env, "jdbc:hive2://env:10000/x"},
		{"", nil, DefaultBeelineURL},
	} {
		if got := BeelineURL(tc.flag, tc.env); got != tc.want {
			t.Errorf("BeelineURL(%q, %v) = %q, want %q", tc.flag, tc.env, got, tc.want)
		}
	}
	got := strings.Join(BeelineArgs("jdbc:hive2://h:1/d", "/s.q", map[string]string{"B": "2", "A": "1"}, map[string]string{"k": "v"}), " ")
	if want := "-u jdbc:hive2://h:1/d -f /s.q --hivevar A=1 --hivevar B=2 --hiveconf k=v"; got != want {
		t.Errorf("BeelineArgs = %q, want %q", got, want)
	}
}
