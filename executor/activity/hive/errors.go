package hive

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes carried by *Error (task ErrorIds).
const (
	CodeSyntax      = "Hive_SyntaxError"
	CodeUnsupported = "Hive_Unsupported"
	CodeSemantic    = "Hive_SemanticError"
	CodeData        = "Hive_DataError"
	CodeIO          = "Hive_IOError"
)

// Error is a failed statement: where it is in the script, what it was, and
// what went wrong. Syntax, unsupported and semantic errors are permanent:
// running the script again cannot succeed.
type Error struct {
	Code      string
	Line, Col int    // position in the script, 1-based; 0 when unknown
	Stmt      string // the statement, trimmed (may be shortened)
	Construct string // the unsupported construct, when Code is CodeUnsupported
	Msg       string
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ", column %d", e.Col)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.Stmt != "" {
		fmt.Fprintf(&b, " (in statement: %s)", e.Stmt)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether retrying the script cannot help.
func (e *Error) Permanent() bool {
	switch e.Code {
	case CodeSyntax, CodeUnsupported, CodeSemantic:
		return true
	}
	return false
}

// IsPermanent reports whether err is a Hive error that no retry can fix.
func IsPermanent(err error) bool {
	var he *Error
	return errors.As(err, &he) && he.Permanent()
}

// ErrorCode returns the error's code, CodeIO for errors from elsewhere.
func ErrorCode(err error) string {
	var he *Error
	if errors.As(err, &he) && he.Code != "" {
		return he.Code
	}
	return CodeIO
}

func syntaxErr(t token, format string, args ...any) *Error {
	return &Error{Code: CodeSyntax, Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

func unsupported(t token, construct, why string) *Error {
	msg := construct + " is not supported by dpl's embedded Hive"
	if why != "" {
		msg += " (" + why + ")"
	}
	return &Error{Code: CodeUnsupported, Line: t.line, Col: t.col, Construct: construct, Msg: msg}
}

func semanticErr(t token, format string, args ...any) *Error {
	return &Error{Code: CodeSemantic, Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

// shorten keeps statements in messages readable.
func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}
