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
