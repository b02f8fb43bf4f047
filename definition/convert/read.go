package convert

import (
	"fmt"
	"io"
	"os"

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

// Read parses a definition in any supported format, JSON or YAML.
func Read(file string, data []byte) (*Source, error) {
	s := &Source{YAML: definition.LooksLikeYAML(data)}
	var err error
	if s.YAML {
		s.Def, err = definition.ParseYAML(file, data)
		if err == nil {
			s.Raw, err = DecodeYAML(data)
		}
	} else {
		s.Def, err = definition.Parse(file, data)
		if err == nil {
			s.Raw, err = Decode(data)
		}
	}
	if err != nil {
		return nil, err
	}
	s.Opts = sectionsOf(s.Def.Format, s.Raw)
	return s, nil
}

// ReadFile reads path ("-" is standard input) with Read.
func ReadFile(path string) (*Source, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
		path = "<stdin>"
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read definition: %w", err)
	}
	return Read(path, data)
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
