package definition

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// CloudFormation templates write values with intrinsic functions (Ref,
// Fn::Sub, Fn::Join, ...) and typed scalars (StringValue: 2). The reader
// resolves, before building the model, everything the template itself
// determines: its Parameters (Default, or a --cfn-param override), pseudo
// parameters (AWS::Region ... with overrides or the defaults below),
// Mappings and Conditions. What only a deployed stack knows (Fn::ImportValue,
// Fn::GetAtt, a Ref to a resource) becomes a placeholder expression that no
// check can mistake for a real value, with a CFN_UNRESOLVED warning naming
// the intrinsic.

// CodeCFNUnresolved marks a value that only CloudFormation can resolve.
const CodeCFNUnresolved = "CFN_UNRESOLVED"

// Defaults of the pseudo parameters when no --cfn-param gives them.
var cfnPseudoDefaults = map[string]string{
	"AWS::Region":    "us-east-1",
	"AWS::AccountId": "123456789012",
	"AWS::StackName": "dpl-local",
}

type cfnKind uint8

const (
	cfnString  cfnKind = iota
	cfnList            // a list of strings (CommaDelimitedList, Fn::Split, ...)
	cfnNoValue         // Ref AWS::NoValue: the property is left out
	cfnUnknown         // only a deployed stack knows it; why says which intrinsic
	cfnBool            // a condition's outcome
)

type cfnVal struct {
	kind cfnKind
	s    string
	list []string
	why  string
	b    bool
}

func unknownVal(format string, args ...any) cfnVal {
	return cfnVal{kind: cfnUnknown, why: fmt.Sprintf(format, args...)}
}

type cfnResolver struct {
	b          *builder
	params     map[string]cfnVal // template parameters and pseudo parameters
	resources  map[string]bool
	mappings   *jnode
	conditions *jnode
	condDone   map[string]cfnVal
	condBusy   map[string]bool
	overrides  map[string]string
}

func newCFNResolver(b *builder, root *jnode, overrides map[string]string) *cfnResolver {
	r := &cfnResolver{b: b, params: map[string]cfnVal{}, resources: map[string]bool{},
		condDone: map[string]cfnVal{}, condBusy: map[string]bool{}, overrides: overrides}
	region := cfnPseudoDefaults["AWS::Region"]
	if v, ok := overrides["AWS::Region"]; ok {
		region = v
	}
	partition, suffix := "aws", "amazonaws.com"
	switch {
	case strings.HasPrefix(region, "cn-"):
		partition, suffix = "aws-cn", "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-gov-"):
		partition = "aws-us-gov"
	}
	pseudo := map[string]string{"AWS::Partition": partition, "AWS::URLSuffix": suffix}
	for k, v := range cfnPseudoDefaults {
		pseudo[k] = v
	}
	for k := range pseudo {
		if v, ok := overrides[k]; ok {
			pseudo[k] = v
		}
	}
	for k, v := range pseudo {
		r.params[k] = cfnVal{kind: cfnString, s: v}
	}
	r.params["AWS::NoValue"] = cfnVal{kind: cfnNoValue}
	for _, k := range []string{"AWS::StackId", "AWS::NotificationARNs"} {
		if v, ok := overrides[k]; ok {
			r.params[k] = cfnVal{kind: cfnString, s: v}
		} else {
			r.params[k] = unknownVal("Ref %s", k)
		}
	}
	if res := root.get("Resources"); res != nil && res.kind == jObject {
		for _, m := range res.keys {
			r.resources[m.key] = true
		}
	}
	r.mappings = root.get("Mappings")
	r.conditions = root.get("Conditions")
	if ps := root.get("Parameters"); ps != nil && ps.kind == jObject {
		for _, m := range ps.keys {
			r.params[m.key] = r.parameter(m.key, m.val)
		}
	}
	return r
}

// parameter is a template parameter's value: the override, else its Default.
func (r *cfnResolver) parameter(name string, decl *jnode) cfnVal {
	typ := ""
	if decl.kind == jObject {
		if t := decl.get("Type"); t != nil && t.kind == jString {
			typ = t.str
		}
	}
	s, ok := r.overrides[name]
	if !ok && decl.kind == jObject {
		if def := decl.get("Default"); def != nil {
			switch def.kind {
			case jString, jNumber, jBool:
				s, ok = def.str, true
			case jArray: // YAML lists as defaults of list parameters
				var parts []string
				for _, e := range def.elems {
					parts = append(parts, e.str)
				}
				s, ok = strings.Join(parts, ","), true
			}
		}
	}
	if !ok {
		return unknownVal("Ref %s (a template parameter without a Default; give it with --cfn-param %s=VALUE)", name, name)
	}
	if typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
		list := strings.Split(s, ",")
		for i := range list {
			list[i] = strings.TrimSpace(list[i])
		}
		return cfnVal{kind: cfnList, list: list}
	}
	return cfnVal{kind: cfnString, s: s}
}

// intrinsicName returns the function a node calls ("Ref", "Fn::Sub", ...),
// or "" when the node is not an intrinsic function call.
func intrinsicName(n *jnode) string {
	if n == nil || n.kind != jObject || len(n.keys) != 1 {
		return ""
	}
	k := n.keys[0].key
	if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
		return k
	}
	return ""
}

// resolveProperties rewrites the pipeline resource's Properties in place:
// intrinsic calls become their values and typed scalars become strings.
func (r *cfnResolver) resolveProperties(props *jnode) {
	_ = r.walk(props, "", "")
}

// walk resolves inside n; owner and field name the object and field being
// read, for the diagnostics. It reports whether n was a field entry whose
// value was AWS::NoValue: the whole entry is then left out.
func (r *cfnResolver) walk(n *jnode, owner, field string) (vanished bool) {
	switch n.kind {
	case jObject:
		// Id, Key and Name first: they name the diagnostics of the rest.
		for _, k := range []string{"Id", "Key"} {
			if i := n.index(k); i >= 0 {
				if v, keep := r.value(n.keys[i].val, owner, field); keep {
					n.keys[i].val = v
				}
				if s := n.keys[i].val; s.kind == jString {
					if k == "Id" {
						owner, field = s.str, ""
					} else {
						field = s.str
					}
				}
			}
		}
		kept := n.keys[:0]
		for _, m := range n.keys {
			v, keep := r.value(m.val, owner, cmpOr(field, m.key))
			if !keep {
				// Ref AWS::NoValue: as if not written.
				vanished = vanished || m.key == "StringValue" || m.key == "RefValue"
				continue
			}
			m.val = v
			kept = append(kept, m)
		}
		n.keys = kept
		return vanished && n.index("StringValue") < 0 && n.index("RefValue") < 0
	case jArray:
		kept := n.elems[:0]
		for _, e := range n.elems {
			if v, keep := r.value(e, owner, field); keep {
				kept = append(kept, v)
			}
		}
		n.elems = kept
	}
	return false
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// value resolves one member or element: keep is false for AWS::NoValue.
func (r *cfnResolver) value(n *jnode, owner, field string) (*jnode, bool) {
	switch {
	case n.kind == jNumber || n.kind == jBool:
		// CloudFormation passes typed scalars on as their text.
		return &jnode{kind: jString, pos: n.pos, str: n.str}, true
	case intrinsicName(n) == "":
		return n, !r.walk(n, owner, field)
	}
	v := r.eval(n)
	switch v.kind {
	case cfnNoValue:
		return nil, false
	case cfnString:
		return &jnode{kind: jString, pos: n.pos, str: v.s}, true
	case cfnList:
		l := &jnode{kind: jArray, pos: n.pos}
		for _, s := range v.list {
			l.elems = append(l.elems, &jnode{kind: jString, pos: n.pos, str: s})
		}
		return l, true
	case cfnBool:
		return &jnode{kind: jString, pos: n.pos, str: strconv.FormatBool(v.b)}, true
	}
	ph := CFNPlaceholder(v.why)
	r.b.warnf(n.pos, owner, field, CodeCFNUnresolved,
		"is %s, which only CloudFormation can resolve: dpl reads it as %s and skips the checks that need its value", v.why, ph)
	return &jnode{kind: jString, pos: n.pos, str: ph}, true
}

// CFNPlaceholder is the value dpl reads for an intrinsic it cannot
// resolve: a #{...} expression holding only a string literal, so it is
// treated like a value from an unset parameter (not checked against
// enums, patterns or periods) and shows what it stands for.
func CFNPlaceholder(why string) string {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case '\'', '}', '{', '#', '\n', '\r':
			return -1
		}
		return r
	}, why)
	if i := strings.Index(clean, " ("); i > 0 {
		clean = clean[:i] // the advice is in the warning, not in the value
	}
	return "#{'<" + clean + ">'}"
}

// eval computes an intrinsic function call.
func (r *cfnResolver) eval(n *jnode) cfnVal {
	switch n.kind {
	case jString, jNumber, jBool:
		return cfnVal{kind: cfnString, s: n.str}
	case jNull:
		return unknownVal("null")
	case jArray:
		out := cfnVal{kind: cfnList}
		for _, e := range n.elems {
			v := r.eval(e)
			switch v.kind {
			case cfnString:
				out.list = append(out.list, v.s)
			case cfnList:
				out.list = append(out.list, v.list...)
			case cfnNoValue:
			default:
				return v
			}
		}
		return out
	}
	name := intrinsicName(n)
	if name == "" {
		return unknownVal("a JSON object that is not an intrinsic function")
	}
	arg := n.keys[0].val
	switch name {
	case "Ref":
		if arg.kind != jString {
			return unknownVal("a Ref without a name")
		}
		if v, ok := r.params[arg.str]; ok {
			return v
		}
		if r.resources[arg.str] {
			return unknownVal("Ref %s (the physical id of a resource)", arg.str)
		}
		return unknownVal("Ref %s (neither a parameter nor a resource of the template)", arg.str)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::Join":
		if arg.kind != jArray || len(arg.elems) != 2 {
			return unknownVal("Fn::Join without [delimiter, list]")
		}
		delim, list := r.eval(arg.elems[0]), r.eval(arg.elems[1])
		if delim.kind != cfnString {
			return delim
		}
		if list.kind == cfnString {
			list = cfnVal{kind: cfnList, list: []string{list.s}}
		}
		if list.kind != cfnList {
			return list
		}
		return cfnVal{kind: cfnString, s: strings.Join(list.list, delim.s)}
	case "Fn::Select":
		if arg.kind != jArray || len(arg.elems) != 2 {
			return unknownVal("Fn::Select without [index, list]")
		}
		idx, list := r.eval(arg.elems[0]), r.eval(arg.elems[1])
		if idx.kind != cfnString {
			return idx
		}
		if list.kind != cfnList {
			return list
		}
		i, err := strconv.Atoi(idx.s)
		if err != nil || i < 0 || i >= len(list.list) {
			return unknownVal("Fn::Select index %q out of range", idx.s)
		}
		return cfnVal{kind: cfnString, s: list.list[i]}
	case "Fn::Split":
		if arg.kind != jArray || len(arg.elems) != 2 {
			return unknownVal("Fn::Split without [delimiter, string]")
		}
		delim, s := r.eval(arg.elems[0]), r.eval(arg.elems[1])
		if delim.kind != cfnString {
			return delim
		}
		if s.kind != cfnString {
			return s
		}
		return cfnVal{kind: cfnList, list: strings.Split(s.s, delim.s)}
	case "Fn::If":
		if arg.kind != jArray || len(arg.elems) != 3 || arg.elems[0].kind != jString {
			return unknownVal("Fn::If without [condition, then, else]")
		}
		c := r.condition(arg.elems[0].str)
		if c.kind != cfnBool {
			return c
		}
		if c.b {
			return r.eval(arg.elems[1])
		}
		return r.eval(arg.elems[2])
	case "Fn::Base64":
		v := r.eval(arg)
		if v.kind != cfnString {
			return v
		}
		return cfnVal{kind: cfnString, s: base64.StdEncoding.EncodeToString([]byte(v.s))}
	case "Fn::FindInMap":
		return r.findInMap(arg)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		return r.boolean(n)
	case "Fn::ImportValue":
		v := r.eval(arg)
		if v.kind == cfnString {
			return unknownVal("Fn::ImportValue %q (an export of another stack)", v.s)
		}
		return unknownVal("Fn::ImportValue (an export of another stack)")
	case "Fn::GetAtt":
		var parts []string
		if arg.kind == jArray {
			for _, e := range arg.elems {
				parts = append(parts, e.str)
			}
		} else {
			parts = append(parts, arg.str)
		}
		return unknownVal("Fn::GetAtt %s (an attribute of a deployed resource)", strings.Join(parts, "."))
	}
	return unknownVal("%s", name)
}

// sub implements Fn::Sub: "${Name}" is a parameter, pseudo parameter or
// variable; "${Res.Attr}" an attribute (unresolved); "${!Literal}" is the
// literal text "${Literal}".
func (r *cfnResolver) sub(arg *jnode) cfnVal {
	tmpl := arg
	vars := map[string]cfnVal{}
	if arg.kind == jArray {
		if len(arg.elems) != 2 || arg.elems[1].kind != jObject {
			return unknownVal("Fn::Sub without [string, {variables}]")
		}
		tmpl = arg.elems[0]
		for _, m := range arg.elems[1].keys {
			vars[m.key] = r.eval(m.val)
		}
	}
	if tmpl.kind != jString {
		return unknownVal("Fn::Sub of a non-string")
	}
	s := tmpl.str
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return cfnVal{kind: cfnString, s: b.String()}
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return cfnVal{kind: cfnString, s: b.String()}
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		s = s[i+j+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		name = strings.TrimSpace(name)
		v, ok := vars[name]
		if !ok {
			v, ok = r.params[name]
		}
		switch {
		case ok && v.kind == cfnString:
			b.WriteString(v.s)
		case ok && v.kind == cfnList:
			return unknownVal("Fn::Sub of the list ${%s}", name)
		case ok:
			return v
		case strings.Contains(name, "."):
			return unknownVal("Fn::GetAtt %s (an attribute of a deployed resource, in Fn::Sub)", name)
		case r.resources[name]:
			return unknownVal("Ref %s (the physical id of a resource, in Fn::Sub)", name)
		default:
			return unknownVal("${%s} in Fn::Sub (neither a parameter nor a resource of the template)", name)
		}
	}
}

func (r *cfnResolver) findInMap(arg *jnode) cfnVal {
	if arg.kind != jArray || len(arg.elems) < 3 {
		return unknownVal("Fn::FindInMap without [map, key, key]")
	}
	var keys [3]string
	for i := range keys {
		v := r.eval(arg.elems[i])
		if v.kind != cfnString {
			return v
		}
		keys[i] = v.s
	}
	n := r.mappings
	for _, k := range keys {
		if n == nil || n.kind != jObject {
			n = nil
			break
		}
		n = n.get(k)
	}
	if n == nil {
		return unknownVal("Fn::FindInMap %s (not in the template's Mappings)", strings.Join(keys[:], "."))
	}
	return r.eval(n)
}

// condition evaluates a named entry of the template's Conditions.
func (r *cfnResolver) condition(name string) cfnVal {
	if v, ok := r.condDone[name]; ok {
		return v
	}
	var def *jnode
	if r.conditions != nil && r.conditions.kind == jObject {
		def = r.conditions.get(name)
	}
	if def == nil {
		return unknownVal("Fn::If on the undefined condition %s", name)
	}
	if r.condBusy[name] {
		return unknownVal("the condition %s, which refers to itself", name)
	}
	r.condBusy[name] = true
	v := r.boolean(def)
	delete(r.condBusy, name)
	r.condDone[name] = v
	return v
}

func (r *cfnResolver) boolean(n *jnode) cfnVal {
	name := intrinsicName(n)
	if name == "" {
		if n.kind == jBool || n.kind == jString {
			return cfnVal{kind: cfnBool, b: n.str == "true"}
		}
		return unknownVal("a condition that is not a condition function")
	}
	arg := n.keys[0].val
	switch name {
	case "Condition":
		return r.condition(arg.str)
	case "Fn::Equals":
		if arg.kind != jArray || len(arg.elems) != 2 {
			return unknownVal("Fn::Equals without two values")
		}
		a, b := r.eval(arg.elems[0]), r.eval(arg.elems[1])
		if a.kind == cfnUnknown {
			return a
		}
		if b.kind == cfnUnknown {
			return b
		}
		return cfnVal{kind: cfnBool, b: a.s == b.s && strings.Join(a.list, ",") == strings.Join(b.list, ",")}
	case "Fn::Not", "Fn::And", "Fn::Or":
		if arg.kind != jArray || len(arg.elems) == 0 {
			return unknownVal("%s without a list of conditions", name)
		}
		var vs []bool
		for _, e := range arg.elems {
			v := r.boolean(e)
			if v.kind != cfnBool {
				return v
			}
			vs = append(vs, v.b)
		}
		out := name == "Fn::And"
		switch name {
		case "Fn::Not":
			out = !vs[0]
		case "Fn::And":
			for _, v := range vs {
				out = out && v
			}
		case "Fn::Or":
			for _, v := range vs {
				out = out || v
			}
		}
		return cfnVal{kind: cfnBool, b: out}
	}
	v := r.eval(n)
	if v.kind == cfnString {
		return cfnVal{kind: cfnBool, b: v.s == "true"}
	}
	return v
}

// CFNParams parses --cfn-param K=V flags (pseudo parameters included:
// AWS::Region=eu-west-1).
func CFNParams(flags []string) (map[string]string, error) {
	out := make(map[string]string, len(flags))
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--cfn-param %q: want NAME=VALUE (a template parameter or a pseudo parameter such as AWS::Region)", f)
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, nil
}

// CFNPseudoParameters lists the pseudo parameters dpl resolves and their
// defaults, for help texts.
func CFNPseudoParameters() []string {
	var out []string
	for k, v := range cfnPseudoDefaults {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return append(out, "AWS::Partition and AWS::URLSuffix follow AWS::Region")
}
