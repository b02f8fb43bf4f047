package hive

import (
	"strings"
)

// tableRef is a table a query reads.
type tableRef struct {
	name string
	tok  token
}

// engineFuncs maps Hive function names onto the embedded engine's (SQLite
// built-ins or the hive_* functions registered in funcs.go). A function not
// listed here is refused with its name.
var engineFuncs = map[string]string{
	// aggregates and windowing (SQLite built-ins)
	"count": "count", "sum": "sum", "avg": "avg", "min": "min", "max": "max",
	"collect_list": "json_group_array", "collect_set": "json_group_array",
	"row_number": "row_number", "rank": "rank", "dense_rank": "dense_rank", "ntile": "ntile",
	"lag": "lag", "lead": "lead", "first_value": "first_value", "last_value": "last_value",
	"percent_rank": "percent_rank", "cume_dist": "cume_dist",
	// conditional
	"coalesce": "coalesce", "nvl": "ifnull", "if": "iif", "nullif": "nullif",
	"isnull": "hive_isnull", "isnotnull": "hive_isnotnull",
	"greatest": "max", "least": "min",
	// math
	"abs": "abs", "round": "hive_round", "floor": "hive_floor", "ceil": "hive_ceil", "ceiling": "hive_ceil",
	"sqrt": "sqrt", "exp": "exp", "ln": "ln", "log10": "log10", "log2": "log2", "log": "log",
	"pow": "pow", "power": "pow", "sign": "sign", "pi": "pi", "sin": "sin", "cos": "cos", "tan": "tan",
	"asin": "asin", "acos": "acos", "atan": "atan", "degrees": "degrees", "radians": "radians",
	"rand": "hive_rand", "pmod": "hive_pmod", "negative": "hive_negative", "positive": "hive_positive",
	// strings
	"length": "length", "char_length": "length", "character_length": "length",
	"lower": "lower", "lcase": "lower", "upper": "upper", "ucase": "upper",
	"trim": "trim", "ltrim": "ltrim", "rtrim": "rtrim",
	"substr": "hive_substr", "substring": "hive_substr", "instr": "instr", "locate": "hive_locate",
	"concat": "hive_concat", "concat_ws": "hive_concat_ws", "lpad": "hive_lpad", "rpad": "hive_rpad",
	"split": "hive_split", "size": "hive_size", "regexp_extract": "hive_regexp_extract",
	"regexp_replace": "hive_regexp_replace", "replace": "replace", "reverse": "hive_reverse",
	"repeat": "hive_repeat", "space": "hive_space", "ascii": "hive_ascii", "initcap": "hive_initcap",
	"find_in_set": "hive_find_in_set", "translate": "hive_translate", "printf": "printf",
	"md5": "hive_md5", "sha1": "hive_sha1", "sha": "hive_sha1", "sha2": "hive_sha2", "base64": "hive_base64",
	"format_number": "hive_format_number", "get_json_object": "hive_get_json_object",
	"array_contains": "hive_array_contains", "sort_array": "hive_sort_array", "array": "json_array",
	"map": "json_object", "named_struct": "json_object", "str_to_map": "hive_str_to_map",
	"map_keys": "hive_map_keys", "map_values": "hive_map_values",
	// dates
	"from_unixtime": "hive_from_unixtime", "unix_timestamp": "hive_unix_timestamp", "to_date": "hive_to_date",
	"date_format": "hive_date_format", "datediff": "hive_datediff", "date_add": "hive_date_add",
	"date_sub": "hive_date_sub", "add_months": "hive_add_months", "year": "hive_year", "month": "hive_month",
	"day": "hive_day", "dayofmonth": "hive_day", "hour": "hive_hour", "minute": "hive_minute",
	"second": "hive_second", "weekofyear": "hive_weekofyear", "last_day": "hive_last_day",
	"current_date": "hive_current_date", "current_timestamp": "hive_current_timestamp",
	"cast": "hive_cast",
}

// unsupportedWords are query constructs outside the subset, with advice.
var unsupportedWords = map[string][2]string{
	"lateral":         {"LATERAL VIEW", "table-generating functions such as explode() are not implemented"},
	"transform":       {"TRANSFORM", "streaming rows through scripts needs Hive: run with --emr host"},
	"reduce":          {"REDUCE ... USING", "streaming rows through scripts needs Hive: run with --emr host"},
	"tablesample":     {"TABLESAMPLE", ""},
	"semi":            {"LEFT SEMI JOIN", "write WHERE EXISTS (SELECT ...) or IN (SELECT ...) instead"},
	"grouping":        {"GROUPING SETS", ""},
	"rollup":          {"WITH ROLLUP", ""},
	"cube":            {"WITH CUBE", ""},
	"interval":        {"INTERVAL literals", "use date_add/date_sub"},
	"explode":         {"the table-generating function explode()", ""},
	"posexplode":      {"the table-generating function posexplode()", ""},
	"inline":          {"the table-generating function inline()", ""},
	"json_tuple":      {"the table-generating function json_tuple()", "use get_json_object()"},
	"parse_url_tuple": {"the table-generating function parse_url_tuple()", ""},
	"stack":           {"the table-generating function stack()", ""},
}

// clauseWords end a FROM list or a DISTRIBUTE BY expression.
var clauseWords = map[string]bool{
	"where": true, "group": true, "order": true, "having": true, "limit": true, "union": true,
	"on": true, "sort": true, "cluster": true, "distribute": true, "window": true, "join": true,
	"left": true, "right": true, "full": true, "inner": true, "cross": true, "select": true,
}

type parenCtx struct {
	fn      string // engine function name, "" for grouping or a subquery
	bracket string // closing text of [ ] subscripts
	fromSub bool
}

// translate rewrites a HiveQL query (tokens up to EOF) into SQLite SQL and
// lists the tables it reads. Constructs outside the subset fail naming
// themselves.
func (s *Session) translate(toks []token) (string, []tableRef, error) {
	var out strings.Builder
	var refs []tableRef
	ctes := cteNames(toks)
	emit := func(text string) {
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(text)
	}
	stack := []parenCtx{{}}
	inFrom := []bool{false}
	expectTable := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		nextTok := toks[min(i+1, len(toks)-1)]
		if t.kind == tEOF {
			break
		}
		if expectTable && (t.kind == tIdent || t.kind == tQIdent) {
			expectTable = false
			name := strings.ToLower(t.text)
			alias := ""
			if nextTok.isOp(".") && i+2 < len(toks) && (toks[i+2].kind == tIdent || toks[i+2].kind == tQIdent) {
				alias = strings.ToLower(toks[i+2].text)
				name = strings.ToLower(qualify(t.text, toks[i+2].text))
				i += 2
			}
			if ctes[name] {
				emit(quoteIdent(name))
				continue
			}
			if _, ok := s.tables[name]; !ok {
				return "", nil, semanticErr(t, "Table not found '%s'", name)
			}
			refs = append(refs, tableRef{name, t})
			emit(quoteIdent(name))
			if alias != "" && alias != name {
				if n := toks[i+1]; !(n.kind == tQIdent || n.kind == tIdent && !clauseWords[strings.ToLower(n.text)] && !n.is("as", "tablesample", "lateral")) {
					emit("AS " + quoteIdent(alias))
				}
			}
			continue
		}
		switch t.kind {
		case tString:
			emit(quoteString(t.text))
			if prev := toks[max(i-1, 0)]; prev.is("like") && strings.Contains(t.text, `\`) {
				emit(`ESCAPE '\'`)
			}
			continue
		case tNumber:
			emit(t.text)
			continue
		case tQIdent:
			emit(quoteIdent(t.text))
			continue
		case tOp:
			switch t.text {
			case "(":
				ctx := parenCtx{}
				if expectTable {
					ctx.fromSub = true
					expectTable = false
				}
				stack = append(stack, ctx)
				inFrom = append(inFrom, false)
				emit("(")
			case ")":
				if len(stack) == 1 {
					return "", nil, syntaxErr(t, "unbalanced ')'")
				}
				stack = stack[:len(stack)-1]
				inFrom = inFrom[:len(inFrom)-1]
				emit(")")
			case "[":
				ctx := parenCtx{bracket: ") || ']')"}
				if nextTok.kind == tString {
					emit(`->> ('$."' || (`)
					ctx.bracket = `) || '"')`
				} else {
					emit(`->> ('$[' || (`)
				}
				stack = append(stack, ctx)
				inFrom = append(inFrom, false)
			case "]":
				top := stack[len(stack)-1]
				if top.bracket == "" {
					return "", nil, syntaxErr(t, "unbalanced ']'")
				}
				stack = stack[:len(stack)-1]
				inFrom = inFrom[:len(inFrom)-1]
				emit(top.bracket)
			case ",":
				emit(",")
				if inFrom[len(inFrom)-1] {
					expectTable = true
				}
			case "/":
				emit("* 1.0 /") // Hive's / is always floating-point division
			case "!":
				emit("NOT")
			case "&&":
				emit("AND")
			case "<=>":
				emit("IS")
			case ";":
				return "", nil, syntaxErr(t, "unexpected ';'")
			case "{", "}", "?", "^", "~", "->":
				return "", nil, syntaxErr(t, "unexpected '%s'", t.text)
			default:
				emit(t.text)
			}
			continue
		}
		// identifiers and keywords
		lw := strings.ToLower(t.text)
		if u, ok := unsupportedWords[lw]; ok && !(lw == "grouping" && !nextTok.is("sets")) {
			return "", nil, unsupported(t, u[0], u[1])
		}
		if nextTok.isOp("(") && !isSQLKeyword(lw) {
			fn, ok := engineFuncs[lw]
			if !ok {
				return "", nil, unsupported(t, "the function "+lw+"()", "not in dpl's Hive function subset; a UDF from a jar cannot run embedded")
			}
			emit(fn)
			i++ // the "("
			emit("(")
			stack = append(stack, parenCtx{fn: fn})
			inFrom = append(inFrom, false)
			if lw == "collect_set" {
				emit("DISTINCT")
			}
			if lw == "cast" {
				// CAST(expr AS type) -> hive_cast(expr, 'type')
				depth := 0
				j := i + 1
				for ; j < len(toks) && toks[j].kind != tEOF; j++ {
					if toks[j].isOp("(") {
						depth++
					} else if toks[j].isOp(")") {
						depth--
					} else if depth == 0 && toks[j].is("as") {
						break
					}
				}
				if j >= len(toks) || toks[j].kind == tEOF {
					return "", nil, syntaxErr(t, "CAST needs AS type")
				}
				inner, innerRefs, err := s.translate(append(append([]token(nil), toks[i+1:j]...), token{kind: tEOF}))
				if err != nil {
					return "", nil, err
				}
				refs = append(refs, innerRefs...)
				tp := &parser{toks: append(append([]token(nil), toks[j+1:]...), token{kind: tEOF})}
				typ, err := tp.typeName()
				if err != nil {
					return "", nil, err
				}
				if err := tp.expectOp(")"); err != nil {
					return "", nil, err
				}
				emit(inner + ", " + quoteString(typ) + ")")
				stack = stack[:len(stack)-1]
				inFrom = inFrom[:len(inFrom)-1]
				i = j + tp.pos
			}
			continue
		}
		switch lw {
		case "from":
			emit("FROM")
			expectTable = true
			inFrom[len(inFrom)-1] = true
		case "join":
			emit("JOIN")
			expectTable = true
			inFrom[len(inFrom)-1] = true
		case "true":
			emit("1")
		case "false":
			emit("0")
		case "rlike", "regexp":
			emit("REGEXP")
		case "div":
			emit("/")
		case "sort", "cluster":
			if !nextTok.is("by") {
				emit(t.text)
				break
			}
			inFrom[len(inFrom)-1] = false
			emit("ORDER")
		case "distribute":
			if !nextTok.is("by") {
				emit(t.text)
				break
			}
			// One reducer: DISTRIBUTE BY changes nothing; skip its expressions.
			i += 2
			depth := 0
			for ; i < len(toks) && toks[i].kind != tEOF; i++ {
				if toks[i].isOp("(") {
					depth++
				} else if toks[i].isOp(")") {
					if depth == 0 {
						break
					}
					depth--
				} else if depth == 0 && (toks[i].is("sort", "order", "limit", "union", "cluster")) {
					break
				}
			}
			i--
		case "insert":
			return "", nil, unsupported(t, "multi-table INSERT (FROM ... INSERT ...)", "write one INSERT ... SELECT per target")
		case "default", "values", "index":
			if toks[max(i-1, 0)].isOp(".") || !nextTok.isOp("(") {
				emit(quoteIdent(lw))
				break
			}
			emit(t.text)
		default:
			if clauseWords[lw] {
				inFrom[len(inFrom)-1] = lw == "join" || lw == "left" || lw == "right" || lw == "full" || lw == "inner" || lw == "cross"
				if lw == "on" || lw == "where" {
					inFrom[len(inFrom)-1] = false
				}
			}
			if lw == "outer" && toks[max(i-1, 0)].is("left", "right", "full") {
				emit("OUTER")
				break
			}
			emit(t.text)
		}
	}
	if len(stack) != 1 {
		return "", nil, syntaxErr(toks[len(toks)-1], "missing ')'")
	}
	return out.String(), refs, nil
}

// isSQLKeyword lists words that take parentheses without being functions.
func isSQLKeyword(w string) bool {
	switch w {
	case "in", "exists", "as", "on", "from", "join", "over", "values", "and", "or", "not", "using", "select", "with", "union", "all", "when", "then", "else", "by", "partition", "is", "like", "between", "filter":
		return true
	}
	return false
}

// cteNames finds the names WITH defines (name AS ( at the top).
func cteNames(toks []token) map[string]bool {
	names := map[string]bool{}
	depth := 0
	inWith := false
	for i, t := range toks {
		switch {
		case t.isOp("("):
			depth++
		case t.isOp(")"):
			depth--
		case depth == 0 && t.is("with"):
			inWith = true
		case depth == 0 && t.is("select"):
			inWith = false
		}
		if inWith && depth == 0 && (t.kind == tIdent || t.kind == tQIdent) && i+2 < len(toks) && toks[i+1].is("as") && toks[i+2].isOp("(") {
			names[strings.ToLower(t.text)] = true
		}
	}
	return names
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
