package definition

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseAuto reads a definition in JSON (any of the formats Parse knows) or
// in YAML (CloudFormation templates are often YAML). Input whose first
// significant character opens a JSON object or array is read as JSON.
func ParseAuto(file string, data []byte) (*Definition, error) {
	if LooksLikeYAML(data) {
		return ParseYAML(file, data)
	}
	return Parse(file, data)
}

// LooksLikeYAML reports whether data is not JSON-shaped: its first
// non-blank, non-comment character is not '{' or '['.
func LooksLikeYAML(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	for len(data) > 0 {
		data = bytes.TrimLeft(data, " \t\r\n")
		if len(data) > 0 && data[0] == '#' { // YAML comment line
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				data = data[i+1:]
				continue
			}
			return true
		}
		break
	}
	return len(data) > 0 && data[0] != '{' && data[0] != '['
}

// ParseYAML reads a YAML document by translating it to JSON and parsing
// that, then maps every position back to the YAML source, so diagnostics
// point at the template's own lines and columns. CloudFormation short-form
// tags become their long form (!Ref X -> {"Ref": "X"}, !GetAtt a.b ->
// {"Fn::GetAtt": ["a","b"]}, !Sub s -> {"Fn::Sub": s}).
func ParseYAML(file string, data []byte) (*Definition, error) {
	return parseYAML(file, data, ReadOptions{})
}

func parseYAML(file string, data []byte, opts ReadOptions) (*Definition, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlSyntaxError(file, data, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &SyntaxError{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "empty YAML document: expected a mapping"}
	}
	w := &yamlJSON{file: file}
	w.node(doc.Content[0], 0)
	d, err := parseJSONWith(file, w.buf.Bytes(), opts)
	if err != nil {
		if se, ok := err.(*SyntaxError); ok {
			se.Pos = w.remap(se.Pos)
			se.Line = sourceLine(data, int(se.Pos.Line))
		}
		return nil, err
	}
	w.remapDefinition(d)
	return d, nil
}

// yamlJSON writes JSON with one token per line and remembers, for each
// output line, the YAML position the token came from.
type yamlJSON struct {
	file  string
	buf   bytes.Buffer
	lines []Pos // lines[i] is the YAML position of JSON line i+1
}

func (w *yamlJSON) line(text string, at Pos) {
	w.buf.WriteString(text)
	w.buf.WriteByte('\n')
	w.lines = append(w.lines, at)
}

func (w *yamlJSON) pos(n *yaml.Node) Pos { return MakePos(w.file, n.Line, n.Column) }

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

const maxYAMLDepth = 512

// node writes n; aliases are expanded (depth-limited against alias loops).
func (w *yamlJSON) node(n *yaml.Node, depth int) {
	if depth > maxYAMLDepth {
		w.line("null", w.pos(n))
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		w.node(n.Alias, depth+1)
		return
	}
	if fn, ok := cfnShortTag(n.Tag); ok {
		w.line("{", w.pos(n))
		w.line(jsonString(fn)+":", w.pos(n))
		c := *n
		c.Tag = ""
		if fn == "Fn::GetAtt" && n.Kind == yaml.ScalarNode {
			// !GetAtt Resource.Attribute is the short form of a two-element list.
			w.line("[", w.pos(n))
			parts := strings.SplitN(n.Value, ".", 2)
			for i, p := range parts {
				sep := ","
				if i == len(parts)-1 {
					sep = ""
				}
				w.line(jsonString(p)+sep, w.pos(n))
			}
			w.line("]", w.pos(n))
		} else {
			w.node(&c, depth+1)
		}
		w.line("}", w.pos(n))
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		w.line("{", w.pos(n))
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if i > 0 {
				w.line(",", w.pos(k))
			}
			w.line(jsonString(k.Value)+":", w.pos(k))
			w.node(v, depth+1)
		}
		w.line("}", w.pos(n))
	case yaml.SequenceNode:
		w.line("[", w.pos(n))
		for i, e := range n.Content {
			if i > 0 {
				w.line(",", w.pos(e))
			}
			w.node(e, depth+1)
		}
		w.line("]", w.pos(n))
	case yaml.ScalarNode:
		w.line(yamlScalarJSON(n), w.pos(n))
	default:
		w.line("null", w.pos(n))
	}
}

// yamlScalarJSON renders a scalar with its resolved YAML type. Numbers that
// JSON cannot spell (0x1F, .inf) are kept as strings.
func yamlScalarJSON(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return strconv.FormatBool(b)
		}
	case "!!int", "!!float":
		if json.Valid([]byte(n.Value)) {
			return n.Value
		}
	}
	return jsonString(n.Value)
}

// cfnShortTag maps CloudFormation's YAML short-form function tags to their
// JSON names: !Ref -> Ref, !Condition -> Condition, !Sub -> Fn::Sub.
func cfnShortTag(tag string) (string, bool) {
	if !strings.HasPrefix(tag, "!") || strings.HasPrefix(tag, "!!") || len(tag) < 2 {
		return "", false
	}
	name := tag[1:]
	switch name {
	case "Ref", "Condition":
		return name, true
	}
	return "Fn::" + name, true
}

// remap turns a position in the generated JSON into the YAML position of
// the token on that line.
func (w *yamlJSON) remap(p Pos) Pos {
	if p.Line < 1 || int(p.Line) > len(w.lines) {
		return Pos{File: w.file}
	}
	return w.lines[p.Line-1]
}

func (w *yamlJSON) remapDefinition(d *Definition) {
	fields := func(fs []*Field) {
		for _, f := range fs {
			f.Pos = w.remap(f.Pos)
			for i := range f.Values {
				f.Values[i].Pos = w.remap(f.Values[i].Pos)
			}
		}
	}
	for _, o := range d.Objects {
		o.Pos, o.IDPos = w.remap(o.Pos), w.remap(o.IDPos)
		if o.NamePos.IsValid() {
			o.NamePos = w.remap(o.NamePos)
		}
		fields(o.Fields)
	}
	for _, p := range d.Parameters {
		p.Pos, p.IDPos = w.remap(p.Pos), w.remap(p.IDPos)
		fields(p.Attrs)
	}
	for _, v := range d.Values {
		v.Pos = w.remap(v.Pos)
		for i := range v.Values {
			v.Values[i].Pos = w.remap(v.Values[i].Pos)
		}
	}
	for i := range d.Diagnostics {
		d.Diagnostics[i].Pos = w.remap(d.Diagnostics[i].Pos)
	}
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlSyntaxError turns a yaml.v3 error into a positioned SyntaxError
// (yaml.v3 reports lines only, so the column is 1).
func yamlSyntaxError(file string, data []byte, err error) *SyntaxError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimSpace(strings.Replace(msg, m[0]+":", "", 1))
	}
	return &SyntaxError{Pos: MakePos(file, line, 1), Msg: "invalid YAML: " + msg, Line: sourceLine(data, line)}
}

func sourceLine(data []byte, line int) string {
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return ""
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	return string(data)
}
