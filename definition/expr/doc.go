// Package expr implements the AWS Data Pipeline expression language: the
// `#{...}` templates in field values, with a lexer and parser (an AST
// whose nodes carry byte offsets), an evaluator, the documented function
// library and a Joda-Time DateTimeFormat formatter.
//
// Entry points:
//
//	t, err := expr.ParseTemplate(fieldValue) // cached; syntax errors as *Error
//	v, err := t.Eval(scope)                  // substitutes every #{...}
//	segs, err := expr.Scan(fieldValue)       // every #{...} with offsets, parsed, not evaluated
//	e, err := expr.Parse("plusDays(x, 1)")   // one expression; e.Refs(), e.Calls()
//	s, err := expr.FormatJoda(t, "YYYY-MM-dd")
//
// Language decisions where the service's documentation is silent (see
// runtime.md §1):
//
//   - Precedence: unary minus < `^` (right-associative) and `* /` bind
//     tighter than `+ -`; `-2^2` is -4.0. Integer division truncates,
//     division by zero is an error, `^` always yields a Double.
//   - `+` concatenates when either side is a String; otherwise operands
//     must be numbers. Strings that hold numbers count as numbers for
//     `- * / ^` and unary minus, because parameter and field values arrive
//     as strings. Function arguments are coerced the same way: numeric
//     strings to Integer, `yyyy-MM-ddTHH:mm:ss` strings to DateTime.
//   - Strings have no escapes: a string ends at the next matching quote,
//     so `'` is written inside "..." and vice versa. There is no escape
//     for `#{` either; a `#` not followed by `{` is literal text, and an
//     expression ends at the first `}` outside a quoted string.
//   - `*name` where an operand is expected is a (secret) name such as
//     `*myPassword`, never multiplication.
//   - `x.f(a)` is `f(x, a)` for every function; `x.name` reads a field of
//     the object x refers to (Value of Kind Object).
//   - Lists map element-wise through operators, functions and field
//     traversal; when several operands are lists every combination is
//     produced, and results are flattened (lists never nest). A template
//     that is exactly one expression returns its value as is (a list stays
//     a list); with surrounding text, a list repeats the text per element.
//   - DateTimes render as `yyyy-MM-dd'T'HH:mm:ss` in their own zone;
//     doubles like Java's Double.toString (4.0, 0.5, 1.0E7).
//   - Date arithmetic follows Joda-Time: minutes and hours are absolute,
//     days to years work on the wall clock (months clamp to the month's
//     end); a wall time inside a DST gap moves forward past it and one in
//     an overlap takes the earlier instant.
//
// Errors are *Error values: Offset is the byte offset inside the
// expression, Start the offset of the expression in the field value.
// Names a Scope does not know wrap ErrUnknown.
package expr
