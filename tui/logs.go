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

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// maxLogLines bounds what the logs view keeps of a stream (the tail).
const maxLogLines = 20000

// logsPane is the logs view: one stream of one attempt, followed live.
type logsPane struct {
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
	secrets  []string // masked in what is shown (commands print what they like)
}

// open shows an instance's attempt (an index into its attempts; out of
// range: the latest).
func (p *logsPane) open(s *shared, instance string, attempt int) {
	*p = logsPane{instance: instance, follow: true, vp: p.vp, secrets: s.info.Secrets}
	p.attempts = s.src.Attempts(instance)
	p.ai = latestAttempt(p.attempts)
	if attempt >= 0 && attempt < len(p.attempts) {
		p.ai = attempt
	}
	p.loadStream(s)
}

// refresh picks up new attempts and what was written since.
func (p *logsPane) refresh(s *shared) {
	if p.instance == "" {
		return
	}
	p.attempts = s.src.Attempts(p.instance)
	p.read(s)
}

func (p *logsPane) scroll(_ *shared, _, dy int) {
	if dy < 0 {
		p.vp.ScrollUp(-dy)
		p.follow = false
	} else {
		p.vp.ScrollDown(dy)
	}
}

func (p *logsPane) selection(s *shared) (string, string) {
	return p.instance, s.componentOf(p.instance)
}

// loadStream (re)reads the selected stream from the start.
func (p *logsPane) loadStream(s *shared) {
	l := p
	l.lines, l.partial, l.off, l.err, l.path = nil, "", 0, "", ""
	if l.ai >= 0 && l.ai < len(l.attempts) {
		a := l.attempts[l.ai]
		l.path = a.Stdout
		if l.stderr {
			l.path = a.Stderr
		}
	}
	p.read(s)
}

// readLogs appends what was written since the last read.
func (p *logsPane) read(s *shared) {
	l := p
	if s.info.Endpoint != "" {
		// Over the API there are no log files: the attempt's error is all
		// there is to show.
		l.lines, l.partial, l.err = nil, "", ""
		if l.ai >= 0 && l.ai < len(l.attempts) && l.attempts[l.ai].ErrorMessage != "" {
			l.lines = strings.Split(strings.TrimRight(definition.MaskText(l.attempts[l.ai].ErrorMessage, l.secrets), "\n"), "\n")
		}
		p.render(s)
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
		p.render(s)
		return
	}
	f, err := os.Open(l.path)
	if err != nil {
		if os.IsNotExist(err) {
			l.err = "nothing written yet"
		} else {
			l.err = err.Error()
		}
		p.render(s)
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
			p.render(s)
		}
		return
	}
	l.off += int64(len(data))
	text := l.partial + string(data)
	parts := strings.Split(text, "\n")
	l.partial = parts[len(parts)-1]
	for _, line := range parts[:len(parts)-1] {
		l.lines = append(l.lines, definition.MaskText(line, l.secrets))
	}
	if over := len(l.lines) - maxLogLines; over > 0 {
		l.lines = append(l.lines[:0], l.lines[over:]...)
	}
	p.render(s)
}

func (p *logsPane) allLines() []string {
	l := p
	if l.partial != "" {
		return append(l.lines[:len(l.lines):len(l.lines)], definition.MaskText(l.partial, l.secrets))
	}
	return l.lines
}

func (p *logsPane) render(s *shared) {
	l := p
	l.vp.Width, l.vp.Height = s.width, max(s.bodyHeight()-1, 1)
	lines := p.allLines()
	l.hits = l.hits[:0]
	out := make([]string, 0, len(lines))
	for i, line := range lines {
		line = strings.ReplaceAll(line, "\t", "    ")
		line = ansi.Strip(line)
		if l.re != nil {
			if loc := l.re.FindAllStringIndex(line, -1); len(loc) > 0 {
				l.hits = append(l.hits, i)
				var b strings.Builder
				prev := 0
				for _, x := range loc {
					b.WriteString(line[prev:x[0]])
					b.WriteString(s.th.match.Render(line[x[0]:x[1]]))
					prev = x[1]
				}
				b.WriteString(line[prev:])
				line = b.String()
			}
		}
		if l.wrap && ansi.StringWidth(line) > s.width {
			line = ansi.Hardwrap(line, s.width, true)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		switch {
		case l.ai < 0:
			out = []string{"no attempt yet: nothing has run for this instance"}
		case s.info.Endpoint != "":
			out = []string{"this attempt reported no error"}
		case l.path == "":
			out = []string{"this attempt recorded no " + p.streamName() + " file"}
		case strings.Contains(l.path, "://"):
			out = []string{p.streamName() + " goes to " + l.path + " (written when the command ends)"}
		case l.err == "nothing written yet" && p.attemptEnded():
			out = []string{"the attempt wrote nothing to " + p.streamName()}
		case l.err != "":
			out = []string{midTruncate(l.path, max(s.width-len(l.err)-2, 12)) + ": " + l.err}
		default:
			out = []string{"(empty)"}
		}
	}
	l.vp.SetContent(strings.Join(out, "\n"))
	if l.follow {
		l.vp.GotoBottom()
	}
}

func (p *logsPane) streamName() string {
	if p.stderr {
		return "stderr"
	}
	return "stdout"
}

func (p *logsPane) setSearch(s *shared, text string) {
	l := p
	l.search, l.re = text, nil
	if text != "" {
		re, err := regexp.Compile("(?i)" + text)
		if err != nil {
			re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(text))
		}
		l.re = re
	}
	p.render(s)
	l.hit = -1
	if len(l.hits) > 0 {
		p.nextHit(s, 1)
	} else if text != "" {
		s.setFlash("no match for /"+text, true)
	}
}

func (p *logsPane) nextHit(s *shared, dir int) {
	l := p
	if len(l.hits) == 0 {
		return
	}
	l.hit = (l.hit + dir + len(l.hits)) % len(l.hits)
	l.follow = false
	l.vp.SetYOffset(max(l.hits[l.hit]-l.vp.Height/3, 0))
	s.setFlash(fmt.Sprintf("match %d of %d for /%s", l.hit+1, len(l.hits), l.search), false)
}

func (p *logsPane) view(s *shared, _ int) string {
	l := p
	att := "no attempt"
	if l.ai >= 0 && l.ai < len(l.attempts) {
		a := l.attempts[l.ai]
		att = fmt.Sprintf("attempt %d of %d (%s)", a.N, len(l.attempts), statusText(statusOf(a.Status)))
	}
	follow := "follow off"
	if l.follow {
		follow = "following"
	}
	n := len(p.allLines())
	head := fmt.Sprintf("%s · %s · %s · %s · %d lines", l.instance, att, p.streamName(), follow, n)
	if p.attemptEnded() {
		head = fmt.Sprintf("%s · %s · %s · finished, %d %s", l.instance, att, p.streamName(), n, plural(n, "line"))
	}
	if s.info.Endpoint != "" {
		head = fmt.Sprintf("%s · %s · errorMessage only: logs are not served over the API", l.instance, att)
	}
	return s.th.label.Render(ansi.Truncate(head, s.width, "…")) + "\n" + l.vp.View()
}

func (p *logsPane) key(s *shared, msg tea.KeyMsg) tea.Cmd {
	k := s.keys
	l := p
	switch {
	case key.Matches(msg, k.Back):
		if l.search != "" {
			p.setSearch(s, "")
			return nil
		}
		s.ask(intent{kind: intentBack})
		return nil
	case s.info.Endpoint != "" && (key.Matches(msg, k.Follow) || key.Matches(msg, k.Stream)):
		s.setFlash("over the API there are no log files: this is the attempt's error message", true)
	case key.Matches(msg, k.Follow):
		l.follow = !l.follow
		if l.follow {
			l.vp.GotoBottom()
		}
		return nil
	case key.Matches(msg, k.Stream), key.Matches(msg, k.Tab):
		l.stderr = !l.stderr
		p.loadStream(s)
	case key.Matches(msg, k.Attempt):
		d := 1
		if msg.String() == "[" {
			d = -1
		}
		if n := len(l.attempts); n > 0 {
			l.ai = clamp(l.ai+d, 0, n-1)
			p.loadStream(s)
		}
	case key.Matches(msg, k.Wrap):
		l.wrap = !l.wrap
		p.render(s)
	case key.Matches(msg, k.Next):
		p.nextHit(s, 1)
	case key.Matches(msg, k.Prev):
		p.nextHit(s, -1)
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
		return nil
	}
	return nil
}

// attemptEnded reports whether the attempt shown has ended: its logs are
// complete.
func (p *logsPane) attemptEnded() bool {
	l := p
	return l.ai >= 0 && l.ai < len(l.attempts) && statusOf(l.attempts[l.ai].Status).Terminal()
}
