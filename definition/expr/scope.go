package expr

import (
	"errors"
	"fmt"
)

// Scope resolves the names used inside expressions: fields of the current
// object (after inheritance), `@` runtime fields, parameters and special
// names such as `node`. A name that the scope does not know must yield an
// error wrapping ErrUnknown so that callers (the validator) can tell an
// unknown reference from a failure while resolving a known one.
type Scope interface {
	Lookup(name string) (Value, error)
}

// ErrUnknown is wrapped by Lookup errors for names a scope does not define.
var ErrUnknown = errors.New("unknown name")

// UnknownName returns the conventional error for an undefined name.
func UnknownName(name string) error { return fmt.Errorf("%w %q", ErrUnknown, name) }

// MapScope is a Scope over a fixed set of values (tests, `dpl eval`).
type MapScope map[string]Value

// Lookup implements Scope.
func (m MapScope) Lookup(name string) (Value, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return Value{}, UnknownName(name)
}

// Chain is a Scope that asks each scope in turn; the first one that knows
// the name wins. Errors other than ErrUnknown stop the search.
type Chain []Scope

// Lookup implements Scope.
func (c Chain) Lookup(name string) (Value, error) {
	for _, s := range c {
		if s == nil {
			continue
		}
		v, err := s.Lookup(name)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, ErrUnknown) {
			return Value{}, err
		}
	}
	return Value{}, UnknownName(name)
}

// MapObject is an Object backed by a MapScope, for tests and simple callers.
type MapObject struct {
	Id     string
	Fields MapScope
}

// ID implements Object.
func (o *MapObject) ID() string { return o.Id }

// Lookup implements Scope; `id` resolves to the object's id when the map
// does not define it.
func (o *MapObject) Lookup(name string) (Value, error) {
	if v, ok := o.Fields[name]; ok {
		return v, nil
	}
	if name == "id" {
		return String(o.Id), nil
	}
	return Value{}, UnknownName(name)
}

// Error is an expression error. Offset is the byte offset inside the
// expression text (the part between `#{` and `}`) where the problem is;
// Start is the byte offset of that expression text inside the field value
// (-1 when the expression was parsed on its own). Callers add file, line,
// object and field.
type Error struct {
	Offset int
	Start  int
	Msg    string
	Err    error // underlying error, if any (for errors.Is / errors.As)
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return fmt.Sprintf("offset %d: %v", e.Offset, e.Err)
	}
	if e.Err != nil {
		return fmt.Sprintf("offset %d: %s: %v", e.Offset, e.Msg, e.Err)
	}
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Message is the error text without the offset, for callers that show
// the position their own way.
func (e *Error) Message() string {
	switch {
	case e.Err != nil && e.Msg == "":
		return e.Err.Error()
	case e.Err != nil:
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// FieldOffset returns the error's byte offset inside the whole field value,
// or the expression offset when Start is unknown.
func (e *Error) FieldOffset() int {
	if e.Start < 0 {
		return e.Offset
	}
	return e.Start + e.Offset
}

func errorf(off int, format string, args ...any) *Error {
	return &Error{Offset: off, Start: -1, Msg: fmt.Sprintf(format, args...)}
}
