package endpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dpl-dev/dpl/definition/validate"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/errcode"
)

// Wire shapes of the Data Pipeline JSON 1.1 protocol (format.md §2.1,
// runtime.md §5 and §7.2). Field names are the service model's.

// Field is a PipelineObject field: exactly one of StringValue/RefValue.
type Field struct {
	Key         string  `json:"key"`
	StringValue *string `json:"stringValue,omitempty"`
	RefValue    *string `json:"refValue,omitempty"`
}

// PipelineObject is an object of a definition, instance or attempt.
type PipelineObject struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Fields []Field `json:"fields"`
}

// ParameterAttribute is one attribute of a ParameterObject.
type ParameterAttribute struct {
	Key         string `json:"key"`
	StringValue string `json:"stringValue"`
}

// ParameterObject declares a parameter.
type ParameterObject struct {
	ID         string               `json:"id"`
	Attributes []ParameterAttribute `json:"attributes"`
}

// ParameterValue is one value of a parameter.
type ParameterValue struct {
	ID          string `json:"id"`
	StringValue string `json:"stringValue"`
}

// Tag is a pipeline tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Definition is what PutPipelineDefinition stores and GetPipelineDefinition
// returns.
type Definition struct {
	PipelineObjects  []PipelineObject  `json:"pipelineObjects"`
	ParameterObjects []ParameterObject `json:"parameterObjects,omitempty"`
	ParameterValues  []ParameterValue  `json:"parameterValues,omitempty"`
}

// ValidationError and ValidationWarning are the validator's own per-object
// groups: the service's response shape.
type (
	ValidationError   = validate.ObjectMessages
	ValidationWarning = validate.ObjectWarnings
)

// Operator is a QueryObjects selector operator.
type Operator struct {
	Type   string   `json:"type"`
	Values []string `json:"values"`
}

// Selector is one QueryObjects condition.
type Selector struct {
	FieldName string   `json:"fieldName"`
	Operator  Operator `json:"operator"`
}

// Query is QueryObjects' query.
type Query struct {
	Selectors []Selector `json:"selectors"`
}

// TaskObject is PollForTask's task.
type TaskObject struct {
	TaskID     string                    `json:"taskId"`
	PipelineID string                    `json:"pipelineId"`
	AttemptID  string                    `json:"attemptId"`
	Objects    map[string]PipelineObject `json:"objects"`
}

// PipelineIDName is a ListPipelines entry.
type PipelineIDName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PipelineDescription is a DescribePipelines entry.
type PipelineDescription struct {
	PipelineID  string  `json:"pipelineId"`
	Name        string  `json:"name"`
	Fields      []Field `json:"fields"`
	Description string  `json:"description,omitempty"`
	Tags        []Tag   `json:"tags,omitempty"`
}

// apiError is an error with the service's code and HTTP status.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// Error codes (runtime.md §7.1) and the generic AWS ones used for
// protocol-level refusals.
const (
	CodeInvalidRequest      = "InvalidRequestException"
	CodePipelineNotFound    = "PipelineNotFoundException"
	CodePipelineDeleted     = "PipelineDeletedException"
	CodeTaskNotFound        = "TaskNotFoundException"
	CodeInternal            = "InternalServiceError"
	CodeSerialization       = "SerializationException"
	CodeUnknownOperation    = "UnknownOperationException"
	CodeMissingAuth         = "MissingAuthenticationTokenException"
	CodeInvalidSignature    = "InvalidSignatureException"
	CodeIncompleteSignature = "IncompleteSignatureException"
	CodeThrottling          = "ThrottlingException"
	CodeRequestTimeout      = "RequestTimeoutException"
	CodeUnrecognized        = "UnrecognizedClientException"
	CodeTooLarge            = "RequestEntityTooLargeException"
	CodeUnsupportedMethod   = "UnsupportedOperationException"
)

// errNamespace prefixes __type like the service's 2014 example.
const errNamespace = "com.amazon.setl.webservice#"

func invalid(format string, args ...any) error {
	return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: fmt.Sprintf(format, args...)}
}

func notFound(id string) error {
	return &apiError{Status: http.StatusBadRequest, Code: CodePipelineNotFound, Message: fmt.Sprintf("Pipeline %s not found.", id)}
}

func deleted(id string) error {
	return &apiError{Status: http.StatusBadRequest, Code: CodePipelineDeleted, Message: fmt.Sprintf("Pipeline %s was deleted.", id)}
}

func taskNotFound(id string) error {
	return &apiError{Status: http.StatusBadRequest, Code: CodeTaskNotFound, Message: fmt.Sprintf("Task %q not found or no longer owned by this runner.", id)}
}

// toAPIError maps engine errors to the service's codes; anything else by
// its errcode (an error without one is an InternalServiceError, 500).
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	msg := err.Error()
	for _, p := range []string{"PipelineNotFoundException: ", "TaskNotFoundException: ", "InvalidRequestException: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	switch {
	case errors.Is(err, executor.ErrPipelineNotFound):
		return &apiError{Status: 400, Code: CodePipelineNotFound, Message: msg}
	case errors.Is(err, executor.ErrTaskNotFound):
		return &apiError{Status: 400, Code: CodeTaskNotFound, Message: msg}
	case errors.Is(err, executor.ErrInvalidRequest):
		return &apiError{Status: 400, Code: CodeInvalidRequest, Message: msg}
	}
	// Errors without a service code are shaped by their errcode.
	shape := errcode.APIShape(err)
	return &apiError{Status: shape.Status, Code: shape.Type, Message: msg}
}

func writeError(w http.ResponseWriter, e *apiError) {
	body, _ := json.Marshal(map[string]string{"__type": errNamespace + e.Code, "message": e.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
