// Package errcode gives errors a code saying what kind of failure they
// are, and is the one place that turns a code into a process exit status
// (the README's exit code table) and into an API error shape.
package errcode

import (
	"errors"
	"io/fs"
	"net/http"

	"github.com/dpl-dev/dpl/definition"
)

// Code is the kind of a failure.
type Code int

// The codes. Unknown is what an error without a code has.
const (
	Unknown Code = iota
	// Usage: bad flags or arguments.
	Usage
	// Definition: a definition that cannot be read as one (syntax), or
	// that a command needing a valid one refused.
	Definition
	// IO: a file, folder, state store or network peer failed.
	IO
	// Failed: the work was done and its answer is a failure — a run with
	// failed instances, validate finding errors, diff finding differences,
	// fmt --check finding unformatted files, eval failing to evaluate.
	Failed
	// Interrupted: stopped by a signal or the user; state is kept.
	Interrupted
)

var names = [...]string{"unknown", "usage", "definition", "io", "failed", "interrupted"}

func (c Code) String() string {
	if c < 0 || int(c) >= len(names) {
		return "unknown"
	}
	return names[c]
}

// Error is an error with a code. A nil Err means the failure was already
// reported (printed) and only the code is left to act on.
type Error struct {
	Code Code
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Code.String()
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Wrap gives err (which may be nil: already reported) a code.
func Wrap(code Code, err error) error { return &Error{Code: code, Err: err} }

// Of returns err's code: the outermost explicit one, else what the error
// is (a definition syntax error, a file system error), else Unknown.
func Of(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var se *definition.SyntaxError
	var pe *fs.PathError
	switch {
	case err == nil:
		return Unknown
	case errors.As(err, &se):
		return Definition
	case errors.As(err, &pe):
		return IO
	}
	return Unknown
}

// Exit statuses (see the README's exit code table).
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// ExitCode is the process exit status for err: 0 for nil, 1 for Failed,
// 130 for Interrupted, and 2 for usage, definition, I/O and unknown
// errors (cobra's own errors — unknown commands, bad arguments — have no
// code and are usage errors).
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	switch Of(err) {
	case Failed:
		return ExitFailed
	case Interrupted:
		return ExitInterrupted
	}
	return ExitUsage
}

// Shape is how an error is shown in a JSON API response: the HTTP status
// and the AWS error type (the `__type` and x-amzn-ErrorType values).
type Shape struct {
	Status int
	Type   string
}

// APIShape is the response shape of err by its code, for errors that
// carry no service-specific type: bad requests (usage, definition) are
// 400 InvalidRequestException, everything else 500 InternalServiceError.
func APIShape(err error) Shape {
	switch Of(err) {
	case Usage, Definition, Failed:
		return Shape{Status: http.StatusBadRequest, Type: "InvalidRequestException"}
	case Interrupted:
		return Shape{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailableException"}
	}
	return Shape{Status: http.StatusInternalServerError, Type: "InternalServiceError"}
}
