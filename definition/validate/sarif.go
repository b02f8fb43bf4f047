package validate

import (
	"encoding/json"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dpl-dev/dpl/definition"
)

// SARIF 2.1.0, the subset code-scanning tools read.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID               string       `json:"id"`
		ShortDescription sarifMessage `json:"shortDescription"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		Level     string          `json:"level"`
		Message   sarifMessage    `json:"message"`
		Locations []sarifLocation `json:"locations"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical  `json:"physicalLocation"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// ruleText describes each diagnostic code for SARIF rule metadata.
var ruleText = map[string]string{
	"SYNTAX_ERROR":      "The file is not valid JSON",
	codeInvalidValue:    "A field value has the wrong form",
	codeDuplicateID:     "Object ids must be unique",
	codeMissingName:     "Objects need a non-empty name",
	codeMissingType:     "Objects other than Default need a type",
	codeUnknownType:     "Unknown object type",
	codeDefaultType:     "Default carries no type",
	codeReadOnly:        "Runtime (@) fields cannot be written",
	codeRuntimeField:    "Runtime field set by the service",
	codeUnknownField:    "Field not known for the object's type",
	codeEmptyValue:      "Empty values are refused by the service",
	codeMissingRef:      "Reference to a missing object",
	codeRefType:         "Reference to an object of the wrong type",
	codeRefExpected:     "The field takes a reference",
	codeCycle:           "Cyclic parent or dependency chain",
	codeMissingField:    "Required field missing",
	codeOneOf:           "One of a group of fields is required",
	codeExclusive:       "Fields that cannot be used together",
	codeNotAllowed:      "Field not allowed on this object",
	codeSchedule:        "Scheduling rule violated",
	codeMissingSchedule: "Schedulable object without a schedule",
	codeDeprecated:      "Deprecated type or field",
	codeLimit:           "Service limit exceeded",
	codeBackfill:        "Cascade failure mode with a backfill",
	codeParameter:       "Invalid parameter declaration",
	codeParamValue:      "Invalid parameter value",
	codeMissingValue:    "Parameter without a value",
	codeUnknownParam:    "Undeclared parameter",
	codeUnstarredSecret: "Secret parameter read without its star",
	codeExpression:      "Invalid #{...} expression",
	codeSamples:         "Documented rule that the AWS samples break",
	// From the schema layer and the reader.
	"INVALID_FIELD_COMBINATION": "Fields that cannot be used together",
	"DEPRECATED_FIELD":          "Deprecated field",
	"DEPRECATED_TYPE":           "Deprecated object type",
	"DUPLICATE_KEY":             "A JSON key appears twice in one object",
	"IGNORED_KEY":               "Top-level key the service ignores",
	"UNSUPPORTED_FIELD":         "Field the resource's provider does not send",
	"EMPTY_LIST":                "Empty list value",
	"MISSING_OBJECTS":           "The definition has no objects list",
	"MISSING_ID":                "Object without an id",
	"INVALID_ID":                "Invalid object id",
	"INVALID_REF":               "Malformed reference",
	"INVALID_OBJECT":            "Malformed object",
	"INVALID_DEFINITION":        "Malformed definition",
	"UNKNOWN_KEY":               "Member the API or CloudFormation shape does not have",
}

// WriteSARIF writes every result as one SARIF 2.1.0 run of the tool dpl.
func WriteSARIF(w io.Writer, results []*Result, toolVersion string) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "dpl", Version: toolVersion,
		InformationURI: "https://github.com/dpl-dev/dpl"}}, Results: []sarifResult{}}
	used := map[string]bool{}
	for _, r := range results {
		for _, d := range r.Diagnostics {
			code := d.Code
			if code == "" {
				code = "DEFINITION"
			}
			used[code] = true
			level := "error"
			if d.Severity == definition.SeverityWarning {
				level = "warning"
			}
			file := d.Pos.File
			if file == "" {
				file = r.File
			}
			loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: sarifURI(file)}}}
			if d.Pos.IsValid() {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: int(d.Pos.Line), StartColumn: int(d.Pos.Col)}
			}
			if d.ObjectID != "" {
				fq := d.ObjectID
				if d.Field != "" {
					fq += "." + d.Field
				}
				loc.LogicalLocations = []sarifLogical{{Name: d.ObjectID, FullyQualifiedName: fq, Kind: "object"}}
			}
			hint := ""
			if d.Hint != "" {
				hint = "(" + d.Hint + ")"
			}
			text := describe(d, hint)
			run.Results = append(run.Results, sarifResult{RuleID: code, Level: level,
				Message: sarifMessage{Text: text}, Locations: []sarifLocation{loc}})
		}
	}
	codes := make([]string, 0, len(used))
	for c := range used {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	run.Tool.Driver.Rules = []sarifRule{}
	for _, c := range codes {
		desc := ruleText[c]
		if desc == "" {
			desc = strings.ReplaceAll(strings.ToLower(c), "_", " ")
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: c, ShortDescription: sarifMessage{Text: desc}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

// sarifURI makes a relative, slash-separated artifact URI.
func sarifURI(file string) string {
	return filepath.ToSlash(file)
}
