package errcode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/dpl-dev/dpl/definition"
)

func TestExitCodeAndShape(t *testing.T) {
	_, statErr := os.Stat("/nonexistent/dpl")
	_, syntaxErr := definition.Parse("bad.json", []byte(`{"objects": [`))
	var se *definition.SyntaxError
	if !errors.As(syntaxErr, &se) {
		t.Fatalf("Parse of broken JSON = %v, want a *definition.SyntaxError", syntaxErr)
	}
	tests := []struct {
		name   string
		err    error
		code   Code
		exit   int
		status int
		typ    string
	}{
		{"usage", Wrap(Usage, errors.New("--output x")), Usage, 2, 400, "InvalidRequestException"},
		{"definition", Wrap(Definition, errors.New("has errors")), Definition, 2, 400, "InvalidRequestException"},
		{"io", Wrap(IO, errors.New("disk")), IO, 2, 500, "InternalServiceError"},
		{"failed", Wrap(Failed, nil), Failed, 1, 400, "InvalidRequestException"},
		{"interrupted", Wrap(Interrupted, context.Canceled), Interrupted, 130, 503, "ServiceUnavailableException"},
		{"wrapped again keeps its code", fmt.Errorf("run: %w", Wrap(Failed, errors.New("x"))), Failed, 1, 400, "InvalidRequestException"},
		{"outermost code wins", Wrap(Usage, Wrap(Failed, errors.New("x"))), Usage, 2, 400, "InvalidRequestException"},
		{"a syntax error is a definition error", syntaxErr, Definition, 2, 400, "InvalidRequestException"},
		{"a file system error is an I/O error", statErr, IO, 2, 500, "InternalServiceError"},
		{"no code (cobra's own errors) exits 2", errors.New(`unknown command "x"`), Unknown, 2, 500, "InternalServiceError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.code {
				t.Errorf("Of = %v, want %v", got, tt.code)
			}
			if got := ExitCode(tt.err); got != tt.exit {
				t.Errorf("ExitCode = %d, want %d", got, tt.exit)
			}
			if got := APIShape(tt.err); got.Status != tt.status || got.Type != tt.typ {
				t.Errorf("APIShape = %+v, want %d %s", got, tt.status, tt.typ)
			}
		})
	}
	if ExitCode(nil) != 0 {
		t.Error("ExitCode(nil) != 0")
	}
}

func TestErrorText(t *testing.T) {
	if got := Wrap(Failed, errors.New("run did not finish")).Error(); got != "run did not finish" {
		t.Errorf("Error() = %q: the code must not change the message", got)
	}
	if got := Wrap(Interrupted, nil).Error(); got != "interrupted" {
		t.Errorf("Error() of an already reported failure = %q", got)
	}
	inner := errors.New("x")
	if !errors.Is(Wrap(IO, inner), inner) {
		t.Error("Wrap hides the wrapped error from errors.Is")
	}
}
