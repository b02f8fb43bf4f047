package definition

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/definition/expr"
)

// ParamSource says where a parameter's value came from.
type ParamSource string

// Parameter value sources, in precedence order.
const (
	FromSupplied ParamSource = "--param" // --param, --param-file, API parameterValues
	FromValues   ParamSource = "values"  // the definition's values section
	FromDefault  ParamSource = "default" // the parameter's default attribute
)

// ParamSetting is one parameter after precedence: its value(s) and where
// they came from.
type ParamSetting struct {
	ID       string
	Decl     *Parameter // nil for a value of an undeclared id
	Values   []string
	Source   ParamSource // "" when the parameter has no value
	Pos      Pos         // where the value is written (the declaration for --param)
	Type     string      // declared type, as written
	Optional bool
	Array    bool

	typed []expr.Value
	err   error
}

// HasValue reports whether the parameter got a value from any source.
func (p *ParamSetting) HasValue() bool { return p.Source != "" }

// Secret reports whether the parameter's values are secret (`*myPw`).
func (p *ParamSetting) Secret() bool { return IsSecretKey(p.ID) }

// Describe says where the value came from, for messages: `its default
// (line 12)`, `the values section (line 30)`, `--param`.
func (p *ParamSetting) Describe() string {
	var s string
	switch p.Source {
	case FromSupplied:
		return "--param"
	case FromValues:
		s = "the values section"
	case FromDefault:
		s = "its default"
	default:
		return "no value"
	}
	if p.Pos.IsValid() {
		s += fmt.Sprintf(" (line %d)", p.Pos.Line)
	}
	return s
}

// Value returns the parameter as an expression value: typed Integer and
// Double parameters become numbers, array parameters (or several values)
// lists. An optional parameter without a value is the empty string.
func (p *ParamSetting) Value() (expr.Value, error) {
	if p.err != nil {
		return expr.Value{}, p.err
	}
	if !p.HasValue() {
		return expr.String(""), nil
	}
	if len(p.typed) == 1 && !p.Array {
		return p.typed[0], nil
	}
	return expr.List(p.typed...), nil
}

func settingFor(d *Definition, id string, p *Parameter, supplied map[string][]string) *ParamSetting {
	ps := &ParamSetting{ID: id, Decl: p}
	if p != nil {
		ps.Pos = p.IDPos
		ps.Type, _ = p.Attr("type")
		opt, _ := p.Attr("optional")
		ps.Optional = strings.EqualFold(strings.TrimSpace(opt), "true")
		arr, _ := p.Attr("isArray")
		ps.Array = strings.EqualFold(strings.TrimSpace(arr), "true")
	}
	if v, ok := supplied[id]; ok {
		ps.Values, ps.Source = v, FromSupplied
	} else if pv := d.paramValue(id); pv != nil {
		ps.Source, ps.Pos = FromValues, pv.Pos
		for _, v := range pv.Values {
			ps.Values = append(ps.Values, v.Str)
		}
	} else if p != nil {
		if f := p.AttrField("default"); f != nil && len(f.Values) > 0 {
			ps.Source, ps.Pos = FromDefault, f.Pos
			for _, v := range f.Values {
				ps.Values = append(ps.Values, v.Str)
			}
		}
	}
	if ps.Source == "" {
		return ps
	}
	ps.typed = make([]expr.Value, len(ps.Values))
	for i, v := range ps.Values {
		x, err := typedParam(ps.Type, v)
		if err != nil {
			ps.err = fmt.Errorf("parameter %s: %w (from %s)", id, err, ps.Describe())
			if ps.Secret() {
				ps.err = fmt.Errorf("parameter %s: its value is not a%s %s (from %s)", id, an(ps.Type), ps.Type, ps.Describe())
			}
			break
		}
		ps.typed[i] = x
	}
	return ps
}

func an(typ string) string {
	if strings.HasPrefix(strings.ToLower(typ), "i") {
		return "n"
	}
	return ""
}

// typedParam converts a parameter value by its declared type; strings
// that do not parse as the declared number type are an error.
func typedParam(typ, v string) (expr.Value, error) {
	switch {
	case strings.EqualFold(typ, "Integer"):
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return expr.Value{}, fmt.Errorf("%q is not an Integer", v)
		}
		return expr.Int(n), nil
	case strings.EqualFold(typ, "Double"):
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return expr.Value{}, fmt.Errorf("%q is not a Double", v)
		}
		return expr.Double(f), nil
	}
	return expr.String(v), nil
}

// paramValue returns the `values` entry for id, or nil.
func (d *Definition) paramValue(id string) *ParamValue {
	for _, v := range d.Values {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// Param returns the setting of parameter id, nil when there is no such
// parameter and no value for it. #{myPw} reads a declared *myPw, as AWS's
// own templates do.
func (r *Resolver) Param(id string) *ParamSetting {
	if p, ok := r.params[id]; ok {
		return p
	}
	if !strings.HasPrefix(id, "*") {
		if p, ok := r.params["*"+id]; ok && p.Decl != nil {
			return p
		}
	}
	return nil
}

// Params returns the declared parameters' settings in declaration order.
func (r *Resolver) Params() []*ParamSetting { return r.order }

// paramValue resolves a name as a parameter. ok is false when there is
// no such parameter, or it has no value and is not optional.
func (r *Resolver) paramValue(id string) (expr.Value, bool, error) {
	p := r.Param(id)
	if p == nil || (!p.HasValue() && !p.Optional) {
		return expr.Value{}, false, nil
	}
	if r.masked && p.Secret() && p.HasValue() {
		return expr.String(Mask), true, nil
	}
	v, err := p.Value()
	return v, true, err
}

// OptionalWithoutValue returns the optional parameter that a string value
// consists of, exactly `#{myParam}`, when that parameter has no value:
// such a value is absent, as if the field were not written.
func (r *Resolver) OptionalWithoutValue(s string) *ParamSetting {
	if !r.absentParams {
		return nil
	}
	name, ok := wholeReference(s)
	if !ok {
		return nil
	}
	if p := r.Param(name); p != nil && p.Optional && !p.HasValue() {
		return p
	}
	return nil
}

func (r *Resolver) absent(v Value) bool { return !v.IsRef && r.OptionalWithoutValue(v.Str) != nil }

// wholeReference returns name when s is exactly one #{name} reference
// to a plain name (`myParam`, `*myPassword`).
func wholeReference(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "#{") || !strings.HasSuffix(s, "}") {
		return "", false
	}
	name := strings.TrimSpace(s[2 : len(s)-1])
	plain := strings.TrimPrefix(name, "*")
	if plain == "" {
		return "", false
	}
	for _, c := range plain {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", false
		}
	}
	return name, true
}

// Effective returns o's effective fields as the parameters leave them:
// d.Effective(o), except that a value which is only a reference to an
// optional parameter without a value is dropped, and a field left with no
// values is absent, so an inherited value (if any) shows through.
func (r *Resolver) Effective(o *Object) *Effective {
	if r.shared != nil {
		return r.shared.Effective(o)
	}
	base := r.d.Effective(o)
	if !r.absentParams {
		return base
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.eff == nil {
		r.eff = map[*Object]*Effective{}
	}
	if e, ok := r.eff[o]; ok {
		return e
	}
	e := r.dropAbsent(o, base)
	r.eff[o] = e
	return e
}

func (r *Resolver) dropAbsent(o *Object, base *Effective) *Effective {
	changed := false
	for _, k := range base.Keys {
		if r.hasAbsent(base.Get(k)) {
			changed = true
			break
		}
	}
	if !changed {
		return base
	}
	keys, fields := make([]string, 0, len(base.Keys)), make([]*Field, 0, len(base.Keys))
	chain := append([]*Object{o}, r.d.Parents(o)...)
	for i, k := range base.Keys {
		f := base.fields[i]
		if !r.hasAbsent(f) {
			keys, fields = append(keys, k), append(fields, f)
			continue
		}
		// Walk the chain from the owner of f on for the first writer of k
		// that leaves a value.
		past := false
		for _, a := range chain {
			if a.ID == f.Owner {
				past = true
			}
			if !past {
				continue
			}
			af := a.Field(k)
			if af == nil || (k == "parent" && a != o) {
				continue
			}
			if kept := r.withoutAbsent(af); kept != nil {
				keys, fields = append(keys, k), append(fields, kept)
				break
			}
		}
	}
	return newEffective(base.Type, keys, fields)
}

func (r *Resolver) hasAbsent(f *Field) bool {
	for _, v := range f.Values {
		if r.absent(v) {
			return true
		}
	}
	return false
}

// withoutAbsent returns f without its absent values; nil when none remain.
func (r *Resolver) withoutAbsent(f *Field) *Field {
	if !r.hasAbsent(f) {
		return f
	}
	g := *f
	g.Values = nil
	for _, v := range f.Values {
		if !r.absent(v) {
			g.Values = append(g.Values, v)
		}
	}
	if len(g.Values) == 0 {
		return nil
	}
	return &g
}
