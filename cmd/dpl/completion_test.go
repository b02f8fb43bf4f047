package main

import (
	"testing"

	"github.com/spf13/cobra"
)

func TestFlagSuggestion(t *testing.T) {
	run, _, err := rootCmd.Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ msg, want string }{
		{"unknown flag: --state-dri", "--state-dir"},
		{"unknown flag: --headles", "--headless"},
		{"unknown flag: --paralel", "--parallel"},
		{"unknown flag: --summry", "--summary"},
		{"unknown flag: --zzzzzzzz", ""},
		{"flag needs an argument: --output", ""},
	} {
		if got := flagSuggestion(run, c.msg); got != c.want {
			t.Errorf("%q: suggestion %q, want %q", c.msg, got, c.want)
		}
	}
}

func TestFlagValueCompletion(t *testing.T) {
	registerCompletions(rootCmd)
	for _, c := range []struct {
		cmd, flag, prefix string
		want              []string
	}{
		{"run", "output", "", []string{"text", "jsonl"}},
		{"validate", "output", "s", []string{"sarif"}},
		{"run", "backend", "", []string{"local", "aws"}},
		{"run", "summary", "f", []string{"full"}},
	} {
		cmd, _, err := rootCmd.Find([]string{c.cmd})
		if err != nil {
			t.Fatal(err)
		}
		fn, ok := cmd.GetFlagCompletionFunc(c.flag)
		if !ok {
			t.Errorf("%s --%s: no completion", c.cmd, c.flag)
			continue
		}
		got, dir := fn(cmd, nil, c.prefix)
		if dir != cobra.ShellCompDirectiveNoFileComp || len(got) != len(c.want) {
			t.Errorf("%s --%s %q: %v, want %v", c.cmd, c.flag, c.prefix, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s --%s %q: %v, want %v", c.cmd, c.flag, c.prefix, got, c.want)
			}
		}
	}
}
