package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dpl-dev/dpl/definition"
)

// Result is the outcome of validating one file.
type Result struct {
	File        string
	Definition  *definition.Definition // nil when the file is not JSON
	Diagnostics []definition.Diagnostic
	// Syntax is set when the file is not JSON; Diagnostics then holds it
	// as a single SYNTAX_ERROR.
	Syntax *definition.SyntaxError
}

// Errored reports whether the file has errors.
func (r *Result) Errored() bool { return Errored(r.Diagnostics) }

// Bytes parses and validates one definition held in memory. Only a read
// failure is returned as an error; bad JSON becomes a Result with Syntax.
func Bytes(file string, data []byte, opts Options) (*Result, error) {
	d, err := definition.ParseSource(file, data, definition.ReadOptions{})
	var se *definition.SyntaxError
	switch {
	case errors.As(err, &se):
		return &Result{File: file, Syntax: se, Diagnostics: []definition.Diagnostic{{
			Severity: definition.SeverityError, Code: "SYNTAX_ERROR", Message: se.Msg, Pos: se.Pos}}}, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &Result{File: file, Definition: d, Diagnostics: Definition(d, opts)}, nil
}

// File reads and validates one file ("-" is standard input).
func File(path string, opts Options) (*Result, error) {
	name, data, err := definition.ReadSource(path, definition.ReadOptions{})
	if err != nil {
		return nil, err
	}
	return Bytes(name, data, opts)
}

// Counts returns the number of errors and warnings.
func Counts(results []*Result) (errs, warns int) {
	for _, r := range results {
		for _, d := range r.Diagnostics {
			if d.Severity == definition.SeverityError {
				errs++
			} else {
				warns++
			}
		}
	}
	return errs, warns
}

// TextOptions control the compiler-style output.
type TextOptions struct {
	Color bool // ANSI colours (the command enables them on terminals only)
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
	ansiCyan   = "\x1b[36m"
)

// WriteText writes the diagnostics compiler style, grouped by file, with a
// caret excerpt for syntax errors and a summary line.
func WriteText(w io.Writer, results []*Result, o TextOptions) error {
	paint := func(code, s string) string {
		if !o.Color {
			return s
		}
		return code + s + ansiReset
	}
	var b strings.Builder
	for _, r := range results {
		for _, d := range r.Diagnostics {
			sev := paint(ansiYellow, "warning")
			if d.Severity == definition.SeverityError {
				sev = paint(ansiRed, "error")
			}
			pos := d.Pos
			if pos.File == "" {
				pos.File = r.File
			}
			hint := ""
			if d.Hint != "" {
				hint = paint(ansiCyan, "("+d.Hint+")")
			}
			fmt.Fprintf(&b, "%s: %s: %s\n", paint(ansiBold, pos.String()), sev, describe(d, hint))
		}
		if r.Syntax != nil {
			if ex := r.Syntax.Excerpt(); ex != "" {
				for _, line := range strings.Split(strings.TrimRight(ex, "\n"), "\n") {
					fmt.Fprintf(&b, "    %s\n", line)
				}
			}
		}
	}
	errs, warns := Counts(results)
	bad := 0
	for _, r := range results {
		if r.Errored() {
			bad++
		}
	}
	summary := fmt.Sprintf("%s, %s in %s", plural(errs, "error"), plural(warns, "warning"), plural(len(results), "file"))
	if bad == 0 {
		summary += ": valid"
	} else {
		summary += fmt.Sprintf(": %d invalid", bad)
	}
	fmt.Fprintln(&b, summary)
	_, err := io.WriteString(w, b.String())
	return err
}

// describe renders a diagnostic without its position and severity:
// `Object "Id" field "f": CODE: message (hint)`.
func describe(d definition.Diagnostic, hint string) string {
	where := ""
	switch {
	case d.ObjectID != "" && d.Field != "":
		where = fmt.Sprintf("Object %q field %q: ", d.ObjectID, d.Field)
	case d.ObjectID != "":
		where = fmt.Sprintf("Object %q: ", d.ObjectID)
	case d.Field != "":
		where = fmt.Sprintf("field %q: ", d.Field)
	}
	text := where + d.Message
	if d.Code != "" {
		text = where + d.Code + ": " + d.Message
	}
	if hint != "" {
		text += " " + hint
	}
	return text
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// JSONReport is the service's ValidatePipelineDefinition response shape
// plus located diagnostics and the file name.
type JSONReport struct {
	File               string           `json:"file"`
	Errored            bool             `json:"errored"`
	ValidationErrors   []ObjectMessages `json:"validationErrors"`
	ValidationWarnings []ObjectWarnings `json:"validationWarnings"`
	Diagnostics        []JSONDiagnostic `json:"diagnostics"`
}

// ObjectMessages are the error messages of one object (or parameter).
type ObjectMessages struct {
	ID     string   `json:"id"`
	Errors []string `json:"errors"`
}

// ObjectWarnings are the warning messages of one object (or parameter).
type ObjectWarnings struct {
	ID       string   `json:"id"`
	Warnings []string `json:"warnings"`
}

// JSONDiagnostic is one located finding.
type JSONDiagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code,omitempty"`
	ID       string `json:"id"`
	Field    string `json:"field"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Excerpt  string `json:"excerpt,omitempty"`
}

// Report converts a result to the JSON shape. Messages are grouped per
// object id in order of first appearance, as the service does.
func (r *Result) Report() JSONReport {
	rep := JSONReport{File: r.File, Errored: r.Errored(),
		ValidationErrors: []ObjectMessages{}, ValidationWarnings: []ObjectWarnings{}, Diagnostics: []JSONDiagnostic{}}
	errIdx, warnIdx := map[string]int{}, map[string]int{}
	for _, d := range r.Diagnostics {
		msg := d.ServiceMessage()
		if d.Severity == definition.SeverityError {
			i, ok := errIdx[d.ObjectID]
			if !ok {
				i = len(rep.ValidationErrors)
				errIdx[d.ObjectID] = i
				rep.ValidationErrors = append(rep.ValidationErrors, ObjectMessages{ID: d.ObjectID})
			}
			rep.ValidationErrors[i].Errors = append(rep.ValidationErrors[i].Errors, msg)
		} else {
			i, ok := warnIdx[d.ObjectID]
			if !ok {
				i = len(rep.ValidationWarnings)
				warnIdx[d.ObjectID] = i
				rep.ValidationWarnings = append(rep.ValidationWarnings, ObjectWarnings{ID: d.ObjectID})
			}
			rep.ValidationWarnings[i].Warnings = append(rep.ValidationWarnings[i].Warnings, msg)
		}
		file := d.Pos.File
		if file == "" {
			file = r.File
		}
		jd := JSONDiagnostic{Severity: d.Severity.String(), Code: d.Code, ID: d.ObjectID, Field: d.Field,
			Message: msg, Hint: d.Hint, File: file, Line: int(d.Pos.Line), Column: int(d.Pos.Col)}
		if r.Syntax != nil {
			jd.Excerpt = r.Syntax.Excerpt()
		}
		rep.Diagnostics = append(rep.Diagnostics, jd)
	}
	return rep
}

// WriteJSON writes one JSON document for a single file, or an array of
// documents (each with its "file") for several.
func WriteJSON(w io.Writer, results []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if len(results) == 1 {
		return enc.Encode(results[0].Report())
	}
	reps := make([]JSONReport, len(results))
	for i, r := range results {
		reps[i] = r.Report()
	}
	return enc.Encode(reps)
}
