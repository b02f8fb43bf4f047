package tui

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// maxLogLines bounds what the logs view keeps of a stream (the tail).
const maxLogLines = 20000

// logState is the logs view: one stream of one attempt, followed live.
type logState struct {
	instance string
	attempts []runstore.Attempt
	ai       int // attempt index
	stderr   bool
	path     string
	off      int64
	lines    []string
	partial  string
	err      string
	follow   bool
	wrap     bool
	search   string
	re       *regexp.Regexp
	hits     []int
	hit      int
	vp       viewport.Model
}

func (m *Model) openLogs(instance string) {
	if m.view != viewLogs {
		m.push(viewLogs)
	}
	vp := m.logs.vp
	m.logs = logState{instance: instance, follow: true, vp: vp}
	m.logs.attempts = m.src.Attempts(instance)
	m.logs.ai = latestAttempt(m.logs.attempts)
	m.loadStream()
}

// loadStream (re)reads the selected stream from the start.
func (m *Model) loadStream() {
	l := &m.logs
	l.lines, l.partial, l.off, l.err, l.path = nil, "", 0, "", ""
	if l.ai >= 0 && l.ai < len(l.attempts) {
		a := l.attempts[l.ai]
		l.path = a.Stdout
		if l.stderr {
			l.path = a.Stderr
		}
	}
	m.readLogs()
}

// readLogs appends what was written since the last read.
func (m *Model) readLogs() {
	l := &m.logs
	if m.info.Endpoint != "" {
		// Over the API there are no log files: the attempt's error is all
		// there is to show.
		l.lines, l.partial, l.err = nil, "", ""
		if l.ai >= 0 && l.ai < len(l.attempts) && l.attempts[l.ai].ErrorMessage != "" {
			l.lines = strings.Split(strings.TrimRight(l.attempts[l.ai].ErrorMessage, "\n"), "\n")
		}
		m.renderLogs()
		return
	}
	if l.path == "" && l.ai >= 0 && l.ai < len(l.attempts) {
		// The attempt may have started writing since.
		a := l.attempts[l.ai]
		l.path = a.Stdout
		if l.stderr {
			l.path = a.Stderr
		}
	}
	if l.path == "" || strings.Contains(l.path, "://") {
		m.renderLogs()
		return
	}
	f, err := os.Open(l.path)
	if err != nil {
		if os.IsNotExist(err) {
			l.err = "nothing written yet"
		} else {
			l.err = err.Error()
		}
		m.renderLogs()
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() < l.off {
		l.lines, l.partial, l.off = nil, "", 0 // truncated: start over
	}
	if _, err := f.Seek(l.off, io.SeekStart); err != nil {
		l.err = err.Error()
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		l.err = err.Error()
	}
	l.err = ""
	if len(data) == 0 {
		if l.lines == nil {
			m.renderLogs()
		}
		return
	}
	l.off += int64(len(data))
	text := l.partial + string(data)
	parts := strings.Split(text, "\n")
	l.partial = parts[len(parts)-1]
	l.lines = append(l.lines, parts[:len(parts)-1]...)
	if over := len(l.lines) - maxLogLines; over > 0 {
		l.lines = append(l.lines[:0], l.lines[over:]...)
	}
	m.renderLogs()
}

func (m *Model) allLogLines() []string {
	l := &m.logs
	if l.partial != "" {
		return append(l.lines[:len(l.lines):len(l.lines)], l.partial)
	}
	return l.lines
}

func (m *Model) renderLogs() {
	l := &m.logs
	l.vp.Width, l.vp.Height = m.width, max(m.bodyHeight()-1, 1)
	lines := m.allLogLines()
	l.hits = l.hits[:0]
	out := make([]string, 0, len(lines))
	for i, s := range lines {
		s = strings.ReplaceAll(s, "\t", "    ")
		s = ansi.Strip(s)
		if l.re != nil {
			if loc := l.re.FindAllStringIndex(s, -1); len(loc) > 0 {
				l.hits = append(l.hits, i)
				var b strings.Builder
				prev := 0
				for _, x := range loc {
					b.WriteString(s[prev:x[0]])
					b.WriteString(m.th.match.Render(s[x[0]:x[1]]))
					prev = x[1]
				}
				b.WriteString(s[prev:])
				s = b.String()
			}
		}
		if l.wrap && ansi.StringWidth(s) > m.width {
			s = ansi.Hardwrap(s, m.width, true)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		switch {
		case l.ai < 0:
			out = []string{"no attempt yet: nothing has run for this instance"}
		case m.info.Endpoint != "":
			out = []string{"this attempt reported no error"}
		case l.path == "":
			out = []string{"this attempt recorded no " + m.streamName() + " file"}
		case strings.Contains(l.path, "://"):
			out = []string{m.streamName() + " goes to " + l.path + " (written when the command ends)"}
		case l.err == "nothing written yet" && m.attemptEnded():
			out = []string{"the attempt wrote nothing to " + m.streamName()}
		case l.err != "":
			out = []string{l.path + ": " + l.err}
		default:
			out = []string{"(empty)"}
		}
	}
	l.vp.SetContent(strings.Join(out, "\n"))
	if l.follow {
		l.vp.GotoBottom()
	}
}

func (m *Model) streamName() string {
	if m.logs.stderr {
		return "stderr"
	}
	return "stdout"
}

func (m *Model) setSearch(s string) {
	l := &m.logs
	l.search, l.re = s, nil
	if s != "" {
		re, err := regexp.Compile("(?i)" + s)
		if err != nil {
			re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(s))
		}
		l.re = re
	}
	m.renderLogs()
	l.hit = -1
	if len(l.hits) > 0 {
		m.nextHit(1)
	} else if s != "" {
		m.setFlash("no match for /"+s, true)
	}
}

func (m *Model) nextHit(dir int) {
	l := &m.logs
	if len(l.hits) == 0 {
		return
	}
	l.hit = (l.hit + dir + len(l.hits)) % len(l.hits)
	l.follow = false
	l.vp.SetYOffset(max(l.hits[l.hit]-l.vp.Height/3, 0))
	m.setFlash(fmt.Sprintf("match %d of %d for /%s", l.hit+1, len(l.hits), l.search), false)
}

func (m *Model) logsView() string {
	l := &m.logs
	att := "no attempt"
	if l.ai >= 0 && l.ai < len(l.attempts) {
		a := l.attempts[l.ai]
		att = fmt.Sprintf("attempt %d of %d (%s)", a.N, len(l.attempts), statusText(statusOf(a.Status)))
	}
	follow := "follow off"
	if l.follow {
		follow = "following"
	}
	n := len(m.allLogLines())
	head := fmt.Sprintf("%s · %s · %s · %s · %d lines", l.instance, att, m.streamName(), follow, n)
	if m.attemptEnded() {
		head = fmt.Sprintf("%s · %s · %s · finished, %d %s", l.instance, att, m.streamName(), n, plural(n, "line"))
	}
	if m.info.Endpoint != "" {
		head = fmt.Sprintf("%s · %s · errorMessage only: logs are not served over the API", l.instance, att)
	}
	return m.th.label.Render(ansi.Truncate(head, m.width, "…")) + "\n" + l.vp.View()
}

func (m *Model) logsKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	l := &m.logs
	switch {
	case key.Matches(msg, k.Back):
		if l.search != "" {
			m.setSearch("")
			return nil
		}
		return m.pop()
	case key.Matches(msg, k.Follow):
		l.follow = !l.follow
		if l.follow {
			l.vp.GotoBottom()
		}
		return m.tick()
	case key.Matches(msg, k.Stream), key.Matches(msg, k.Tab):
		l.stderr = !l.stderr
		m.loadStream()
	case key.Matches(msg, k.Attempt):
		d := 1
		if msg.String() == "[" {
			d = -1
		}
		if n := len(l.attempts); n > 0 {
			l.ai = clamp(l.ai+d, 0, n-1)
			m.loadStream()
		}
	case key.Matches(msg, k.Wrap):
		l.wrap = !l.wrap
		m.renderLogs()
	case key.Matches(msg, k.Next):
		m.nextHit(1)
	case key.Matches(msg, k.Prev):
		m.nextHit(-1)
	case key.Matches(msg, k.Up):
		l.vp.ScrollUp(1)
		l.follow = false
	case key.Matches(msg, k.Down):
		l.vp.ScrollDown(1)
	case key.Matches(msg, k.HalfUp):
		l.vp.HalfPageUp()
		l.follow = false
	case key.Matches(msg, k.HalfDown):
		l.vp.HalfPageDown()
	case key.Matches(msg, k.Top):
		l.vp.GotoTop()
		l.follow = false
	case key.Matches(msg, k.Bottom):
		l.vp.GotoBottom()
		l.follow = true
		return m.tick()
	}
	return nil
}

// attemptEnded reports whether the attempt shown has ended: its logs are
// complete.
func (m *Model) attemptEnded() bool {
	l := &m.logs
	return l.ai >= 0 && l.ai < len(l.attempts) && statusOf(l.attempts[l.ai].Status).Terminal()
}
