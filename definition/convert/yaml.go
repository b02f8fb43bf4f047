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
	return fromYAML(doc.Content[0], 0), nil
}

func fromYAML(n *yaml.Node, depth int) *Node {
	if depth > 512 {
		return &Node{Kind: Null}
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return fromYAML(n.Alias, depth+1)
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
		return Obj().Set(name, v)
	}
	switch n.Kind {
	case yaml.MappingNode:
		o := Obj()
		for i := 0; i+1 < len(n.Content); i += 2 {
			o.Set(n.Content[i].Value, fromYAML(n.Content[i+1], depth+1))
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
	if err := enc.Encode(n.yamlNode()); err != nil {
		return nil, fmt.Errorf("write YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write YAML: %w", err)
	}
	return b.Bytes(), nil
}

func (n *Node) yamlNode() *yaml.Node {
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
