package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/dpl-dev/dpl/executor"
)

// Operator verbs on the selection or the marked instances: confirmed,
// then sent off the UI goroutine.

var verbs = map[string]string{
	executor.CmdRerun: "rerun", executor.CmdTryCancel: "cancel", executor.CmdMarkFinished: "mark finished",
	executor.CmdPause: "pause", executor.CmdResume: "resume",
}

// askInstance confirms an instance command, then sends it: to every
// marked instance when there are marks, else to id.
func (m *Model) askInstance(cmd, id string) tea.Cmd {
	if ids := m.markedIDs(); len(ids) > 0 && m.view != viewDetail && m.view != viewLogs {
		if m.info.ReadOnly {
			m.setFlash("read-only: this stored run is not running; continue it with dpl run", true)
			return nil
		}
		m.mode = modeConfirm
		m.confirm = &confirmState{
			prompt: fmt.Sprintf("%s %d marked %s: %s? [y/n]", capital(verbs[cmd]), len(ids), plural(len(ids), "instance"), strings.Join(ids, " ")),
			yes: func() tea.Cmd {
				clear(m.marked)
				return m.send(cmd, ids...)
			},
		}
		return nil
	}
	if id == "" {
		m.setFlash("select an instance first", true)
		return nil
	}
	if k, ok := m.instIdx[id]; ok && cmd == executor.CmdTryCancel {
		if st := executor.Status(m.insts[k].Status); st.Terminal() {
			m.setFlash(fmt.Sprintf("%s is %s: nothing to cancel", id, statusText(st)), true)
			return nil
		}
	}
	if m.info.ReadOnly {
		m.setFlash("read-only: this stored run is not running; continue it with dpl run", true)
		return nil
	}
	m.mode = modeConfirm
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("%s %s? [y/n]", capital(verbs[cmd]), id),
		yes:    func() tea.Cmd { return m.send(cmd, id) },
	}
	return nil
}

func (m *Model) togglePause(comp string) tea.Cmd {
	if comp == "" {
		m.setFlash("select a component first", true)
		return nil
	}
	cmd := executor.CmdPause
	if m.paused[comp] {
		cmd = executor.CmdResume
	}
	if m.info.ReadOnly {
		m.setFlash("read-only: this stored run is not running; continue it with dpl run", true)
		return nil
	}
	m.mode = modeConfirm
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("%s component %s? [y/n]", capital(verbs[cmd]), comp),
		yes:    func() tea.Cmd { return m.send(cmd, comp) },
	}
	return nil
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// send runs a SetStatus off the UI goroutine; the acknowledgement comes
// back as an actionMsg.
func (m *Model) send(cmd string, ids ...string) tea.Cmd {
	if m.info.ReadOnly {
		m.setFlash("read-only: this stored run is not running; continue it with dpl run", true)
		return nil
	}
	m.setFlash(fmt.Sprintf("… %s %s", verbs[cmd], strings.Join(ids, " ")), false)
	src := m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return actionMsg{cmd: cmd, ids: ids, err: src.SetStatus(ctx, ids, cmd)}
	}
}
