package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dpl-dev/dpl/executor"
)

func statusOf(s string) executor.Status { return executor.Status(s) }

// commandHelp lists the `:` commands (k9s-style command mode).
const commandHelp = "commands: graph instances events | open ID | logs [ID] | rerun|cancel|finish [ID...] | pause|resume [COMPONENT...] | filter RE | help | q"

// commands are the `:` commands as `?` lists them.
var commands = []struct{ use, desc string }{
	{"graph, instances, events", "switch pane"},
	{"open ID", "instance detail"},
	{"logs [ID]", "logs of an instance"},
	{"rerun|cancel|finish [ID...]", "act at once on the ids (the selection asks)"},
	{"pause|resume [COMPONENT...]", "pause or resume components"},
	{"filter RE", "filter (! inverts)"},
	{"runs", "back to the run list (dpl tui on a folder of several runs)"},
	{"help", "this help"},
	{"q, q!", "quit (q! without asking)"},
}

// commandWords are the command names completion offers first.
var commandWords = []string{"graph", "instances", "events", "open", "logs", "rerun", "cancel", "finish", "pause", "resume", "filter", "runs", "help", "quit"}

// commandSuggestions are the lines `:` completes to (tab accepts, ↑/↓
// cycle): every command, and each command with every id it takes —
// instances for open, logs and the instance verbs (the selected one
// first), components for pause and resume. Read-only and remote views
// leave out what they cannot do.
func (m *Model) commandSuggestions() []string {
	out := make([]string, 0, len(commandWords)+6*len(m.insts))
	verbsOK := !m.info.ReadOnly
	for _, w := range commandWords {
		if (verbsOK || !isVerb(w)) && (w != "runs" || m.opts.RunList) {
			out = append(out, w)
		}
	}
	inst, comp := m.shown().selection(&m.shared)
	withIDs := func(cmd string, first string, ids func(func(string))) {
		if first != "" {
			out = append(out, cmd+" "+first)
		}
		ids(func(id string) {
			if id != first {
				out = append(out, cmd+" "+id)
			}
		})
	}
	instances := func(f func(string)) {
		for _, in := range m.insts {
			f(in.ID)
		}
	}
	components := func(f func(string)) {
		for _, c := range m.comps {
			f(c.ID)
		}
	}
	for _, cmd := range []string{"open", "logs", "rerun", "cancel", "finish"} {
		if verbsOK || !isVerb(cmd) {
			withIDs(cmd, inst, instances)
		}
	}
	if verbsOK {
		for _, cmd := range []string{"pause", "resume"} {
			withIDs(cmd, comp, components)
		}
	}
	return out
}

// commandFooter replaces the key help while typing a command.
func (m *Model) commandFooter() string {
	n := len(m.input.MatchedSuggestions())
	hint := "tab completes"
	switch {
	case m.input.Value() == "":
		hint = "type a command (tab completes: " + strings.Join(commandWords[:6], ", ") + ", …)"
	case n == 0:
		hint = "no completion"
	case n > 1:
		hint = fmt.Sprintf("tab completes · ↑/↓ %d matches", n)
	}
	return m.th.faint.Render(hint + " · enter runs · esc cancels")
}

func isVerb(cmd string) bool {
	switch cmd {
	case "rerun", "cancel", "finish", "pause", "resume":
		return true
	}
	return false
}

// runCommand executes a `:` command line. Commands naming ids act at
// once (typing them is the confirmation); without ids they act on the
// selection and ask first, like the single-key verbs.
func (m *Model) runCommand(line string) tea.Cmd {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	name, args := strings.ToLower(f[0]), f[1:]
	switch name {
	case "q", "q!", "quit", "exit":
		return m.quit(name != "q!")
	case "runs":
		if !m.opts.RunList {
			m.setFlash("no run list here: dpl tui --state-dir DIR lists the runs of a folder", true)
			return nil
		}
		m.backToRuns = true
		return m.quit(true)
	case "graph", "g":
		m.setPane(viewGraph)
	case "instances", "grid", "i":
		m.setPane(viewGrid)
	case "events", "alarms", "e":
		m.setPane(viewEvents)
	case "help", "h":
		m.showHelp = true
		m.setFlash(commandHelp, false)
	case "filter":
		m.setFilter(strings.Join(args, " "))
		m.jumpToMatch()
	case "open", "instance", "describe", "d":
		id := m.selectedInstance()
		if len(args) > 0 {
			id = args[0]
		}
		if _, ok := m.instIdx[id]; !ok {
			m.setFlash(fmt.Sprintf("no instance %q in this run", id), true)
			return nil
		}
		m.openDetail(id)
	case "logs", "log", "l":
		id := m.selectedInstance()
		if len(args) > 0 {
			id = args[0]
		}
		if _, ok := m.instIdx[id]; !ok {
			m.setFlash(fmt.Sprintf("no instance %q in this run", id), true)
			return nil
		}
		m.openLogs(id, -1)
		return m.tick()
	case "rerun", "cancel", "try_cancel", "finish", "mark_finished", "mark-finished":
		cmd := map[string]string{"rerun": executor.CmdRerun, "cancel": executor.CmdTryCancel, "try_cancel": executor.CmdTryCancel,
			"finish": executor.CmdMarkFinished, "mark_finished": executor.CmdMarkFinished, "mark-finished": executor.CmdMarkFinished}[name]
		if len(args) == 0 {
			return m.askInstance(cmd, m.selectedInstance())
		}
		for _, id := range args {
			if _, ok := m.instIdx[id]; !ok {
				m.setFlash(fmt.Sprintf("no instance %q in this run", id), true)
				return nil
			}
		}
		return m.send(cmd, args...)
	case "pause", "resume":
		cmd := strings.ToUpper(name)
		if len(args) == 0 {
			c := m.selectedComponent()
			if c == "" {
				m.setFlash("select a component first", true)
				return nil
			}
			args = []string{c}
		}
		for _, id := range args {
			if _, ok := m.compIdx[id]; !ok {
				m.setFlash(fmt.Sprintf("no component %q", id), true)
				return nil
			}
		}
		return m.send(cmd, args...)
	default:
		m.setFlash(fmt.Sprintf("unknown command %q — %s", name, commandHelp), true)
	}
	return nil
}
