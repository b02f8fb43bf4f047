package convert

import (
	"path/filepath"
	"strings"

	"github.com/dpl-dev/dpl/definition"
)

// Source is a definition as read from bytes, plus what the model does not
// record but the writers need to reproduce faithfully.
type Source struct {
	Def  *definition.Definition
	Opts Options // empty sections present, CloudFormation properties found
	Raw  *Node   // the whole document (nil when it could not be re-read)
	YAML bool    // the input was YAML
}

// Read parses a definition in any supported format, JSON or YAML, with
// the default read options.
func Read(file string, data []byte) (*Source, error) {
	return ReadWith(file, data, definition.ReadOptions{})
}

// ReadWith is Read with read options (CloudFormation parameters).
func ReadWith(file string, data []byte, opts definition.ReadOptions) (*Source, error) {
	s := &Source{YAML: !strings.EqualFold(filepath.Ext(file), ".json") && definition.LooksLikeYAML(data)}
	var err error
	s.Def, err = definition.ParseSource(file, data, opts)
	if err == nil {
		if s.YAML {
			s.Raw, err = DecodeYAML(data)
		} else {
			s.Raw, err = Decode(data)
		}
	}
	if err != nil {
		return nil, err
	}
	s.Opts = sectionsOf(s.Def.Format, s.Raw)
	return s, nil
}

// ReadFile is ReadFileWith with the default read options.
func ReadFile(path string) (*Source, error) { return ReadFileWith(path, definition.ReadOptions{}) }

// ReadFileWith reads path ("-" is standard input) the way every command
// reads a definition (definition.ReadSource), then parses it with ReadWith.
func ReadFileWith(path string, opts definition.ReadOptions) (*Source, error) {
	name, data, err := definition.ReadSource(path, opts)
	if err != nil {
		return nil, err
	}
	return ReadWith(name, data, opts)
}

// sectionsOf finds which parameter/value sections the document wrote
// (even empty: the CLI then sends an empty list) and, for CloudFormation,
// the resource's Name, Activate and Description.
func sectionsOf(f definition.Format, raw *Node) Options {
	var o Options
	o.CloudFormation.Activate = true // CloudFormation's own default
	switch f {
	case definition.FormatFile:
		o.Parameters = raw.Get("parameters") != nil
		o.Values = raw.Get("values") != nil
	case definition.FormatAPI:
		o.Parameters = raw.Get("parameterObjects") != nil || raw.Get("parameters") != nil
		o.Values = raw.Get("parameterValues") != nil || raw.Get("values") != nil
	case definition.FormatCloudFormation:
		id, res := cfnPipelineResource(raw)
		props := res.Get("Properties")
		o.Parameters = props.Get("ParameterObjects") != nil
		o.Values = props.Get("ParameterValues") != nil
		o.CloudFormation.LogicalID = id
		if n := props.Get("Name"); n != nil && n.Kind == String {
			o.CloudFormation.Name = n.Str
		}
		if n := props.Get("Description"); n != nil && n.Kind == String {
			o.CloudFormation.Description = n.Str
		}
		if n := props.Get("Activate"); n != nil && (n.Kind == Bool || n.Kind == String) {
			o.CloudFormation.Activate = n.Str == "true"
		}
	}
	return o
}

// cfnPipelineResource returns the logical id and node of the first
// AWS::DataPipeline::Pipeline resource, the one the reader reads.
func cfnPipelineResource(root *Node) (string, *Node) {
	res := root.Get("Resources")
	if res == nil || res.Kind != Object {
		return "", nil
	}
	for _, m := range res.Members {
		if t := m.Val.Get("Type"); t != nil && t.Kind == String && t.Str == "AWS::DataPipeline::Pipeline" {
			if p := m.Val.Get("Properties"); p != nil && p.Kind == Object {
				return m.Key, m.Val
			}
		}
	}
	return "", nil
}
