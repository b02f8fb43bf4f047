// Package convert translates pipeline definitions between the CLI file
// format, the API format and CloudFormation, lays them out canonically
// (dpl fmt), compares them semantically (dpl diff) and draws their
// component graph (dpl graph).
package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Kind is the JSON kind of a Node.
type Kind uint8

const (
	String Kind = iota
	Number      // Str holds the literal text
	Bool        // Str is "true" or "false"
	Null
	Object
	Array
)

// Node is an order-preserving JSON value. The writers build these so that
// key order is exactly what they decide, and fmt reads whole documents into
// them so that nothing it does not understand is lost.
type Node struct {
	Kind    Kind
	Str     string
	Members []Member
	Elems   []*Node

	// For nodes read from YAML: the source node (comments, style, anchors
	// survive a rewrite), whether it must be written back verbatim (aliases,
	// !Ref-style tags), and the enclosing document node of the root.
	y      *yaml.Node
	opaque bool
	doc    *yaml.Node
}

// Member is one key of an Object node.
type Member struct {
	Key string
	Val *Node
	ky  *yaml.Node // the YAML key node, when read from YAML
}

// Str returns a string node.
func Str(s string) *Node { return &Node{Kind: String, Str: s} }

// Obj returns an empty object node; add members with Set.
func Obj() *Node { return &Node{Kind: Object} }

// Arr returns an array node holding elems.
func Arr(elems ...*Node) *Node { return &Node{Kind: Array, Elems: elems} }

// BoolNode returns a JSON boolean.
func BoolNode(b bool) *Node {
	if b {
		return &Node{Kind: Bool, Str: "true"}
	}
	return &Node{Kind: Bool, Str: "false"}
}

// Set appends a member (it does not replace an existing key: the writers
// never repeat one, and fmt must keep repeated keys it read).
func (n *Node) Set(key string, v *Node) *Node {
	n.Members = append(n.Members, Member{Key: key, Val: v})
	return n
}

// Get returns the first member value for key, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Object {
		return nil
	}
	for _, m := range n.Members {
		if m.Key == key {
			return m.Val
		}
	}
	return nil
}

// Decode reads one JSON document into a Node, keeping member order,
// repeated keys and the literal text of numbers.
func Decode(data []byte) (*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the top-level JSON value")
	}
	return n, nil
}

func decodeValue(dec *json.Decoder) (*Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := Obj()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				n.Set(kt.(string), v)
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := Arr()
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				n.Elems = append(n.Elems, v)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return Str(t), nil
	case json.Number:
		return &Node{Kind: Number, Str: t.String()}, nil
	case bool:
		return BoolNode(t), nil
	case nil:
		return &Node{Kind: Null}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// MarshalIndent writes the node with 2-space indentation, keys in node
// order, and no HTML escaping (<, > and & stay literal), ending in a
// newline.
func (n *Node) MarshalIndent() []byte {
	var b bytes.Buffer
	n.write(&b, 0, false)
	b.WriteByte('\n')
	return b.Bytes()
}

// MarshalCanonical is MarshalIndent with references kept on one line
// ({"ref": "Id"}), the layout dpl fmt writes.
func (n *Node) MarshalCanonical() []byte {
	var b bytes.Buffer
	n.write(&b, 0, true)
	b.WriteByte('\n')
	return b.Bytes()
}

func (n *Node) write(b *bytes.Buffer, depth int, inlineRefs bool) {
	if inlineRefs && n.Kind == Object && len(n.Members) == 1 && n.Members[0].Key == "ref" && n.Members[0].Val.Kind == String {
		b.WriteString(`{"ref": `)
		writeString(b, n.Members[0].Val.Str)
		b.WriteByte('}')
		return
	}
	switch n.Kind {
	case String:
		writeString(b, n.Str)
	case Number, Bool:
		b.WriteString(n.Str)
	case Null:
		b.WriteString("null")
	case Object:
		if len(n.Members) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, m := range n.Members {
			indent(b, depth+1)
			writeString(b, m.Key)
			b.WriteString(": ")
			m.Val.write(b, depth+1, inlineRefs)
			if i < len(n.Members)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		indent(b, depth)
		b.WriteByte('}')
	case Array:
		if len(n.Elems) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range n.Elems {
			indent(b, depth+1)
			e.write(b, depth+1, inlineRefs)
			if i < len(n.Elems)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		indent(b, depth)
		b.WriteByte(']')
	}
}

func indent(b *bytes.Buffer, depth int) {
	for range depth {
		b.WriteString("  ")
	}
}

// writeString quotes s as JSON: only the characters JSON requires are
// escaped (quote, backslash, control characters), so non-ASCII text and
// HTML metacharacters stay readable.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
