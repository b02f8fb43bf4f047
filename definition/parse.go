package definition

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Parse reads a definition in the file format, the API format or a
// CloudFormation template (JSON), detected from its top-level keys. A
// *SyntaxError is returned for input that is not JSON; everything else that
// is wrong becomes an error Diagnostic on the returned Definition.
func Parse(file string, data []byte) (*Definition, error) {
	return parseJSONWith(file, data, ReadOptions{})
}

// ParseFile reads one definition file ("-" reads standard input) with the
// default ReadOptions; see Load.
func ParseFile(path string) (*Definition, error) {
	d, _, err := Load(path, ReadOptions{})
	return d, err
}

// ParseSource parses a definition read by ReadSource: JSON in any of the
// formats Parse knows, or YAML (CloudFormation templates), whose intrinsic
// functions are resolved with opts. Files named *.json are always read as
// JSON, so their errors are JSON ones.
func ParseSource(file string, data []byte, opts ReadOptions) (*Definition, error) {
	if !strings.EqualFold(filepath.Ext(file), ".json") && LooksLikeYAML(data) {
		d, err := parseYAML(file, data, opts)
		maskSyntaxLine(err, data)
		return d, err
	}
	return parseJSONWith(file, data, opts)
}

func parseJSONWith(file string, data []byte, opts ReadOptions) (*Definition, error) {
	// The file format, by far the most common, is built while it is read:
	// each element of "objects" becomes an Object and its JSON tree is
	// dropped (a 23 MB definition's tree is about 120 MB). Anything else
	// (API-shaped objects, a CloudFormation template, "objects" twice) is
	// read again into a whole tree.
	li := newLineIndex(file, data)
	b := &builder{d: &Definition{File: file}, li: li}
	s := &scanner{file: file, data: data, line: 1, stream: func(e *jnode) bool {
		if e.kind == jObject {
			if f := e.get("fields"); f != nil && f.kind == jArray {
				return false // API-shaped: the whole tree is needed
			}
		}
		b.readObject(e)
		return true
	}}
	root, err := s.parse()
	if err != nil {
		maskSyntaxLine(err, data) // the excerpt must not show secrets
		return nil, err
	}
	switch {
	case s.streamed == 0: // no "objects" list: the tree is whole
		return fromTree(file, root, newLineIndex(file, data), opts)
	case s.streamed == 1 && s.stream != nil && root.get("pipelineObjects") == nil && cloudFormationPipeline(root) == nil:
		b.streamed = true
		return b.fromTree(root, opts)
	}
	if root, err = parseJSON(file, data); err != nil {
		return nil, err
	}
	return fromTree(file, root, newLineIndex(file, data), opts)
}

type builder struct {
	d  *Definition
	li *lineIndex
	// Fields and values are carved from blocks, like the JSON nodes: a
	// large definition makes one allocation per block, not one per value.
	fieldSlab []Field
	valueSlab []Value
	// streamed: the objects were read while parsing (parseJSONWith).
	streamed bool
}

// at resolves a node offset to the position the model keeps.
func (b *builder) at(off srcOff) Pos { return b.li.pos(off) }

func (b *builder) errorf(off srcOff, obj, field, code, format string, args ...any) {
	b.d.Diagnostics = append(b.d.Diagnostics, Diagnostic{Severity: SeverityError, Code: code, ObjectID: obj, Field: field, Message: fmt.Sprintf(format, args...), Pos: b.at(off)})
}

func (b *builder) warnf(off srcOff, obj, field, code, format string, args ...any) {
	b.d.Diagnostics = append(b.d.Diagnostics, Diagnostic{Severity: SeverityWarning, Code: code, ObjectID: obj, Field: field, Message: fmt.Sprintf(format, args...), Pos: b.at(off)})
}

// newField returns a zeroed Field from the current block.
func (b *builder) newField() *Field {
	if len(b.fieldSlab) == cap(b.fieldSlab) {
		b.fieldSlab = make([]Field, 0, 256)
	}
	b.fieldSlab = b.fieldSlab[:len(b.fieldSlab)+1]
	return &b.fieldSlab[len(b.fieldSlab)-1]
}

// values returns room for n values from the current block, capacity capped
// so that appending (overrides, repeated API keys) copies instead of
// overwriting the next field's values.
func (b *builder) values(vs ...Value) []Value {
	n := len(vs)
	if n == 0 {
		return nil
	}
	if len(b.valueSlab)+n > cap(b.valueSlab) {
		b.valueSlab = make([]Value, 0, max(512, n))
	}
	at := len(b.valueSlab)
	b.valueSlab = append(b.valueSlab, vs...)
	return b.valueSlab[at : at+n : at+n]
}

func fromTree(file string, root *jnode, li *lineIndex, opts ReadOptions) (*Definition, error) {
	if root.kind != jObject {
		return nil, &SyntaxError{Pos: li.pos(root.pos), Msg: fmt.Sprintf("the top level is a JSON %s: a pipeline definition is an object with an \"objects\" list", root.kind)}
	}
	return (&builder{d: &Definition{File: file}, li: li}).fromTree(root, opts)
}

func (b *builder) fromTree(root *jnode, opts ReadOptions) (*Definition, error) {
	// Streamed objects' findings come after the top level's, as when the
	// tree is read in order.
	objects := b.d.Diagnostics
	b.d.Diagnostics = nil
	b.warnDuplicateKeys(root, "")
	b.d.Diagnostics = append(b.d.Diagnostics, objects...)
	switch {
	case root.get("pipelineObjects") != nil || isAPIObjects(root.get("objects")):
		b.d.Format = FormatAPI
		b.readAPI(root)
	case cloudFormationPipeline(root) != nil:
		b.d.Format = FormatCloudFormation
		b.readCloudFormation(root, opts.CloudFormation)
	default:
		b.d.Format = FormatFile
		b.readFile(root)
	}
	b.d.index()
	return b.d, nil
}

func (b *builder) warnDuplicateKeys(n *jnode, where string) {
	dup := func(i int) bool { return repeatsKey(n.keys[:i], n.keys[i].key) }
	if len(n.keys) > 32 { // a set beats the pairwise scan on wide objects
		seen := make(map[string]bool, len(n.keys))
		dup = func(i int) bool {
			d := seen[n.keys[i].key]
			seen[n.keys[i].key] = true
			return d
		}
	}
	for i, m := range n.keys {
		if dup(i) {
			b.warnf(m.keyPos, where, m.key, "DUPLICATE_KEY", "appears twice in the same JSON object; the last value is used (as the AWS CLI does)")
		}
	}
}

// isAPIObjects reports whether an "objects" list holds API-shaped members
// ({id, name, fields: [...]}) as some published samples do.
func isAPIObjects(n *jnode) bool {
	if n == nil || n.kind != jArray || len(n.elems) == 0 {
		return false
	}
	for _, e := range n.elems {
		if e.kind == jObject {
			if f := e.get("fields"); f != nil && f.kind == jArray {
				return true
			}
		}
	}
	return false
}

func (b *builder) readFile(root *jnode) {
	objs := root.get("objects")
	switch {
	case objs == nil:
		b.errorf(root.pos, "", "objects", "MISSING_OBJECTS", "the definition has no \"objects\" list")
	case objs.kind != jArray:
		b.errorf(objs.pos, "", "objects", "INVALID_DEFINITION", "\"objects\" must be a list, not a JSON %s", objs.kind)
	case !b.streamed:
		for _, e := range objs.elems {
			b.readObject(e)
		}
	}
	if ps := root.get("parameters"); ps != nil {
		b.readParameters(ps, "id")
	}
	if vs := root.get("values"); vs != nil {
		b.readValues(vs)
	}
	for _, m := range root.keys {
		switch m.key {
		case "objects", "parameters", "values":
		default:
			b.warnf(m.keyPos, "", m.key, "IGNORED_KEY", "top-level key is not part of a pipeline definition and is ignored (known keys: objects, parameters, values)")
		}
	}
}

func (b *builder) readObject(e *jnode) {
	if e.kind != jObject {
		b.errorf(e.pos, "", "", "INVALID_OBJECT", "each element of \"objects\" must be a JSON object, not a %s", e.kind)
		return
	}
	o := &Object{Pos: b.at(e.pos)}
	idn := e.get("id")
	switch {
	case idn == nil:
		b.errorf(e.pos, "", "id", "MISSING_ID", "object has no \"id\"")
	case idn.kind != jString:
		b.errorf(idn.pos, "", "id", "INVALID_ID", "\"id\" must be a string, not a %s", idn.kind)
	default:
		o.ID, o.IDPos = idn.str, b.at(idn.pos)
		if o.ID == "" {
			b.errorf(idn.pos, "", "id", "INVALID_ID", "\"id\" is empty")
		}
	}
	b.warnDuplicateKeys(e, o.ID)
	o.Name = o.ID
	if nn := e.get("name"); nn != nil {
		if nn.kind != jString {
			b.errorf(nn.pos, o.ID, "name", "INVALID_FIELD_VALUE", "\"name\" must be a string, not a %s", nn.kind)
		} else {
			o.Name, o.NamePos, o.HasName = nn.str, b.at(nn.pos), true
		}
	}
	o.Fields = make([]*Field, 0, len(e.keys))
	var at map[string]int // only for objects with repeated keys
	for i, m := range e.keys {
		if m.key == "id" || m.key == "name" {
			continue
		}
		f := b.field(o.ID, m)
		if at == nil && repeatsKey(e.keys[:i], m.key) {
			at = map[string]int{}
			for j, g := range o.Fields {
				at[g.Key] = j
			}
		}
		if at != nil {
			if j, dup := at[m.key]; dup {
				o.Fields[j] = f // the last duplicate wins, as in the CLI
				continue
			}
			at[m.key] = len(o.Fields)
		}
		o.Fields = append(o.Fields, f)
	}
	b.d.Objects = append(b.d.Objects, o)
}

// field converts a JSON member to a Field: a string, a {"ref": id} or a
// list of those. Other JSON kinds are reported (the service only takes
// strings) but kept as their literal text so nothing is lost.
func (b *builder) field(objID string, m jmember) *Field {
	f := b.newField()
	*f = Field{Key: m.key, Pos: b.at(m.keyPos), Owner: objID}
	if m.val.kind == jArray {
		f.List = true
		var one [8]Value
		vs := one[:0]
		for _, el := range m.val.elems {
			if v, ok := b.value(objID, m.key, el); ok {
				vs = append(vs, v)
			}
		}
		f.Values = b.values(vs...)
		if len(m.val.elems) == 0 {
			b.warnf(m.val.pos, objID, m.key, "EMPTY_LIST", "is an empty list, which the service receives as no value at all")
		}
		return f
	}
	if v, ok := b.value(objID, m.key, m.val); ok {
		f.Values = b.values(v)
	}
	return f
}

func (b *builder) value(objID, key string, n *jnode) (Value, bool) {
	switch n.kind {
	case jString:
		return Value{Str: n.str, Pos: b.at(n.pos)}, true
	case jObject:
		if len(n.keys) == 1 && n.keys[0].key == "ref" {
			r := n.keys[0].val
			if r.kind != jString {
				b.errorf(r.pos, objID, key, "INVALID_REF", "\"ref\" must name an object id as a string, not a %s", r.kind)
				return Value{}, false
			}
			return Value{Ref: r.str, IsRef: true, Pos: b.at(n.pos)}, true
		}
		b.errorf(n.pos, objID, key, "INVALID_FIELD_VALUE", "an object value must be exactly {\"ref\": \"<id>\"}")
		return Value{}, false
	case jArray:
		b.errorf(n.pos, objID, key, "INVALID_FIELD_VALUE", "lists cannot be nested")
		return Value{}, false
	default:
		b.errorf(n.pos, objID, key, "INVALID_FIELD_VALUE", "value %s is a JSON %s; write it as a string (\"%s\")", n.str, n.kind, n.str)
		return Value{Str: n.str, Pos: b.at(n.pos)}, true
	}
}

func (b *builder) readParameters(ps *jnode, idKey string) {
	if ps.kind != jArray {
		b.errorf(ps.pos, "", "parameters", "INVALID_DEFINITION", "\"parameters\" must be a list, not a JSON %s", ps.kind)
		return
	}
	for _, e := range ps.elems {
		if e.kind != jObject {
			b.errorf(e.pos, "", "", "INVALID_PARAMETER", "each parameter must be a JSON object, not a %s", e.kind)
			continue
		}
		p := &Parameter{Pos: b.at(e.pos)}
		if idn := e.get(idKey); idn == nil || idn.kind != jString || idn.str == "" {
			b.errorf(e.pos, "", "id", "MISSING_ID", "parameter has no string \"id\"")
		} else {
			p.ID, p.IDPos = idn.str, b.at(idn.pos)
		}
		b.warnDuplicateKeys(e, p.ID)
		for _, m := range e.keys {
			if m.key == idKey {
				continue
			}
			if m.key == "attributes" && m.val.kind == jArray {
				b.readKeyValues(p.ID, m.val, "key", func(f *Field) { p.Attrs = append(p.Attrs, f) })
				continue
			}
			p.Attrs = append(p.Attrs, b.field(p.ID, m))
		}
		b.d.Parameters = append(b.d.Parameters, p)
	}
}

func (b *builder) readValues(vs *jnode) {
	if vs.kind != jObject {
		b.errorf(vs.pos, "", "values", "INVALID_DEFINITION", "\"values\" must be an object mapping parameter ids to values, not a JSON %s", vs.kind)
		return
	}
	b.warnDuplicateKeys(vs, "values")
	for _, m := range vs.keys {
		f := b.field(m.key, m)
		b.d.Values = append(b.d.Values, &ParamValue{ID: m.key, Values: f.Values, List: f.List, Pos: b.at(m.keyPos)})
	}
}

// readAPI reads {"pipelineObjects": [{id, name, fields: [{key, stringValue|refValue}]}],
// "parameterObjects": [{id, attributes: [{key, stringValue}]}], "parameterValues": [{id, stringValue}]}.
func (b *builder) readAPI(root *jnode) {
	b.checkMembers(root, "", "", "pipelineObjects", "parameterObjects", "parameterValues", "objects", "parameters", "values", "metadata")
	objs := root.get("pipelineObjects")
	if objs == nil {
		objs = root.get("objects")
	}
	if objs.kind != jArray {
		b.errorf(objs.pos, "", "pipelineObjects", "INVALID_DEFINITION", "must be a list, not a JSON %s", objs.kind)
	} else {
		for _, e := range objs.elems {
			b.readAPIObject(e)
		}
	}
	if ps := root.get("parameterObjects"); ps != nil {
		b.readParameters(ps, "id")
	} else if ps := root.get("parameters"); ps != nil {
		b.readParameters(ps, "id")
	}
	if vs := root.get("parameterValues"); vs != nil {
		b.readAPIValues(vs)
	} else if vs := root.get("values"); vs != nil {
		b.readValues(vs)
	}
}

func (b *builder) readAPIObject(e *jnode) {
	if e.kind != jObject {
		b.errorf(e.pos, "", "", "INVALID_OBJECT", "each pipeline object must be a JSON object, not a %s", e.kind)
		return
	}
	o := &Object{Pos: b.at(e.pos)}
	if idn := e.get("id"); idn == nil || idn.kind != jString || idn.str == "" {
		b.errorf(e.pos, "", "id", "MISSING_ID", "pipeline object has no string \"id\"")
	} else {
		o.ID, o.IDPos = idn.str, b.at(idn.pos)
	}
	b.checkMembers(e, o.ID, "", "id", "name", "fields")
	o.Name = o.ID
	if nn := e.get("name"); nn != nil && nn.kind == jString {
		o.Name, o.NamePos, o.HasName = nn.str, b.at(nn.pos), true
	} else {
		b.errorf(e.pos, o.ID, "name", "MISSING_NAME", "pipeline object has no \"name\" (the API requires one)")
	}
	fields := e.get("fields")
	if fields == nil || fields.kind != jArray {
		b.errorf(e.pos, o.ID, "fields", "INVALID_OBJECT", "pipeline object has no \"fields\" list")
	} else {
		b.readKeyValues(o.ID, fields, "key", func(f *Field) { o.Fields = append(o.Fields, f) })
	}
	b.d.Objects = append(b.d.Objects, o)
}

// readKeyValues folds API key/value entries into fields; a repeated key
// becomes one multi-valued field, in order.
func (b *builder) readKeyValues(owner string, list *jnode, keyName string, add func(*Field)) {
	byKey := map[string]*Field{}
	for _, kv := range list.elems {
		if kv.kind != jObject {
			b.errorf(kv.pos, owner, "", "INVALID_FIELD", "each field must be an object {\"key\": ..., \"stringValue\"|\"refValue\": ...}")
			continue
		}
		kn := kv.get(keyName)
		if kn == nil || kn.kind != jString || kn.str == "" {
			b.errorf(kv.pos, owner, "", "INVALID_FIELD", "field has no string %q", keyName)
			continue
		}
		var v Value
		mistyped := b.checkMembers(kv, owner, kn.str, keyName, "stringValue", "refValue")
		sv, rv := kv.get("stringValue"), kv.get("refValue")
		switch {
		case sv != nil && rv != nil:
			b.errorf(kv.pos, owner, kn.str, "INVALID_FIELD", "has both stringValue and refValue")
			continue
		case sv != nil && sv.kind == jString:
			v = Value{Str: sv.str, Pos: b.at(sv.pos)}
		case rv != nil && rv.kind == jString:
			v = Value{Ref: rv.str, IsRef: true, Pos: b.at(rv.pos)}
		default:
			if !mistyped { // else already reported with a did-you-mean
				b.errorf(kv.pos, owner, kn.str, "INVALID_FIELD", "has neither a string stringValue nor refValue")
			}
			continue
		}
		if f := byKey[kn.str]; f != nil {
			f.Values = append(f.Values, v)
			f.List = true
			continue
		}
		f := &Field{Key: kn.str, Values: []Value{v}, Pos: b.at(kn.pos), Owner: owner}
		byKey[kn.str] = f
		add(f)
	}
}

func (b *builder) readAPIValues(vs *jnode) {
	if vs.kind != jArray {
		b.errorf(vs.pos, "", "parameterValues", "INVALID_DEFINITION", "must be a list of {id, stringValue}")
		return
	}
	byID := map[string]*ParamValue{}
	for _, e := range vs.elems {
		if b.checkMembers(e, "", "parameterValues", "id", "stringValue") {
			continue
		}
		idn, sv := e.get("id"), e.get("stringValue")
		if e.kind != jObject || idn == nil || idn.kind != jString || sv == nil || sv.kind != jString {
			b.errorf(e.pos, "", "parameterValues", "INVALID_DEFINITION", "each parameter value must be {\"id\": ..., \"stringValue\": ...}")
			continue
		}
		v := Value{Str: sv.str, Pos: b.at(sv.pos)}
		if pv := byID[idn.str]; pv != nil {
			pv.Values = append(pv.Values, v)
			pv.List = true
			continue
		}
		pv := &ParamValue{ID: idn.str, Values: []Value{v}, Pos: b.at(idn.pos)}
		byID[idn.str] = pv
		b.d.Values = append(b.d.Values, pv)
	}
}

// cloudFormationPipeline finds the first AWS::DataPipeline::Pipeline
// resource's Properties in a CloudFormation template, or nil.
func cloudFormationPipeline(root *jnode) *jnode {
	res := root.get("Resources")
	if res == nil || res.kind != jObject {
		return nil
	}
	for _, m := range res.keys {
		if m.val.kind != jObject {
			continue
		}
		if t := m.val.get("Type"); t != nil && t.str == "AWS::DataPipeline::Pipeline" {
			if p := m.val.get("Properties"); p != nil && p.kind == jObject {
				return p
			}
		}
	}
	return nil
}

// readCloudFormation reads PipelineObjects/ParameterObjects/ParameterValues
// in CloudFormation's capitalised shape (Id, Name, Fields[Key, StringValue|RefValue]).
func (b *builder) readCloudFormation(root *jnode, params map[string]string) {
	props := cloudFormationPipeline(root)
	newCFNResolver(b, root, params).resolveProperties(props)
	b.checkMembers(lowerKeys(props), "", "", "name", "description", "activate", "parameterObjects", "parameterValues", "pipelineObjects", "pipelineTags")
	if objs := props.get("PipelineObjects"); objs != nil && objs.kind == jArray {
		for _, e := range objs.elems {
			b.readAPIObject(lowerKeys(e))
		}
	} else {
		b.errorf(props.pos, "", "PipelineObjects", "MISSING_OBJECTS", "the AWS::DataPipeline::Pipeline resource has no PipelineObjects list")
	}
	if ps := props.get("ParameterObjects"); ps != nil {
		b.readParameters(lowerKeys(ps), "id")
	}
	if vs := props.get("ParameterValues"); vs != nil {
		b.readAPIValues(lowerKeys(vs))
	}
}

// lowerKeys maps CloudFormation's capitalised member names to the API's.
func lowerKeys(n *jnode) *jnode {
	c := *n
	switch n.kind {
	case jObject:
		c.keys = make([]jmember, len(n.keys))
		for i, m := range n.keys {
			k := m.key
			if k != "" && k[0] >= 'A' && k[0] <= 'Z' {
				k = strings.ToLower(k[:1]) + k[1:]
			}
			c.keys[i] = jmember{key: k, keyPos: m.keyPos, val: lowerKeys(m.val)}
		}
	case jArray:
		c.elems = make([]*jnode, len(n.elems))
		for i, e := range n.elems {
			c.elems[i] = lowerKeys(e)
		}
	}
	return &c
}

// repeatsKey reports whether key is among the members already read.
func repeatsKey(before []jmember, key string) bool {
	for _, m := range before {
		if m.key == key {
			return true
		}
	}
	return false
}
