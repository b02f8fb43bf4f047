package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecodeYAML reads a YAML document into a Node the way CloudFormation
// reads templates: short-form function tags become their long form
// (!Ref X -> {"Ref": "X"}, !Sub s -> {"Fn::Sub": s}).
func DecodeYAML(data []byte) (*Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("empty YAML document")
	}
	n := fromYAML(doc.Content[0], 0)
	n.doc = &doc
	return n, nil
}

func fromYAML(n *yaml.Node, depth int) *Node {
	out := fromYAMLNode(n, depth)
	if out.y == nil {
		out.y = n
	}
	return out
}

func fromYAMLNode(n *yaml.Node, depth int) *Node {
	if depth > 512 {
		return &Node{Kind: Null}
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		c := fromYAML(n.Alias, depth+1)
		cp := *c
		cp.y, cp.opaque = n, true
		return &cp
	}
	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") && len(tag) > 1 {
		name := tag[1:]
		if name != "Ref" && name != "Condition" {
			name = "Fn::" + name
		}
		c := *n
		c.Tag = ""
		var v *Node
		if name == "Fn::GetAtt" && n.Kind == yaml.ScalarNode {
			v = Arr()
			for _, p := range strings.SplitN(n.Value, ".", 2) {
				v.Elems = append(v.Elems, Str(p))
			}
		} else {
			v = fromYAML(&c, depth+1)
		}
		o := Obj().Set(name, v)
		o.y, o.opaque = n, true
		return o
	}
	switch n.Kind {
	case yaml.MappingNode:
		o := Obj()
		for i := 0; i+1 < len(n.Content); i += 2 {
			o.Members = append(o.Members, Member{Key: n.Content[i].Value, Val: fromYAML(n.Content[i+1], depth+1), ky: n.Content[i]})
		}
		return o
	case yaml.SequenceNode:
		a := Arr()
		for _, e := range n.Content {
			a.Elems = append(a.Elems, fromYAML(e, depth+1))
		}
		return a
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return &Node{Kind: Null}
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return BoolNode(b)
			}
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				return &Node{Kind: Number, Str: n.Value}
			}
		}
		return Str(n.Value)
	}
	return &Node{Kind: Null}
}

// MarshalYAML writes the node as block-style YAML with 2-space
// indentation. Strings that YAML would read as another type ("true",
// "3", "null") are quoted; CloudFormation function objects stay in long
// form ({"Ref": X} -> Ref: X), which every YAML reader accepts.
func (n *Node) MarshalYAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	var y *yaml.Node = n.yamlNode()
	if n.doc != nil {
		d := *n.doc
		d.Content = []*yaml.Node{y}
		y = &d
	}
	if err := enc.Encode(y); err != nil {
		return nil, fmt.Errorf("write YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write YAML: %w", err)
	}
	return b.Bytes(), nil
}

func (n *Node) yamlNode() *yaml.Node {
	if n.y != nil {
		switch {
		case n.opaque || n.y.Kind == yaml.ScalarNode:
			return n.y
		case n.Kind == Object && n.y.Kind == yaml.MappingNode:
			c := *n.y
			c.Content = nil
			for _, m := range n.Members {
				k := m.ky
				if k == nil {
					k = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: m.Key}
				}
				c.Content = append(c.Content, k, m.Val.yamlNode())
			}
			return &c
		case n.Kind == Array && n.y.Kind == yaml.SequenceNode:
			c := *n.y
			c.Content = nil
			for _, e := range n.Elems {
				c.Content = append(c.Content, e.yamlNode())
			}
			return &c
		}
	}
	switch n.Kind {
	case Object:
		y := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, m := range n.Members {
			y.Content = append(y.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: m.Key}, m.Val.yamlNode())
		}
		return y
	case Array:
		y := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range n.Elems {
			y.Content = append(y.Content, e.yamlNode())
		}
		return y
	case Number:
		tag := "!!int"
		if strings.ContainsAny(n.Str, ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: n.Str}
	case Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: n.Str}
	case Null:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	y := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: n.Str}
	if strings.Contains(n.Str, "\n") {
		y.Style = yaml.LiteralStyle
	}
	return y
}
