package definition

import "fmt"

// Severity orders diagnostics: errors make a definition invalid, warnings do not.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// MarshalText writes the severity as "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Diagnostic is one finding about a definition, located as precisely as
// the source allows. ObjectID is the object (or parameter) id it is filed
// under; Field the field name, if any.
type Diagnostic struct {
	Severity Severity
	Code     string // service-style code, e.g. INVALID_FIELD_VALUE
	ObjectID string
	Field    string
	Message  string // explanation without code, object or field
	Hint     string // "did you mean ..." and similar, optional
	Pos      Pos
}

// ServiceMessage renders the message the way the service does:
// `CODE: 'field' explanation` (code and field only when known).
func (d Diagnostic) ServiceMessage() string {
	msg := d.Message
	if d.Field != "" {
		msg = fmt.Sprintf("'%s' %s", d.Field, msg)
	}
	if d.Code != "" {
		msg = d.Code + ": " + msg
	}
	if d.Hint != "" {
		msg += " (" + d.Hint + ")"
	}
	return msg
}

// Error renders the diagnostic compiler style: file:line:col: severity: text.
func (d Diagnostic) Error() string {
	where := ""
	switch {
	case d.ObjectID != "" && d.Field != "":
		where = fmt.Sprintf("Object %q field %q: ", d.ObjectID, d.Field)
	case d.ObjectID != "":
		where = fmt.Sprintf("Object %q: ", d.ObjectID)
	}
	text := d.Message
	if d.Code != "" {
		text = d.Code + ": " + text
	}
	if d.Hint != "" {
		text += " (" + d.Hint + ")"
	}
	return fmt.Sprintf("%s: %s: %s%s", d.Pos, d.Severity, where, text)
}
