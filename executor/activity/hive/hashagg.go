package hive

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Hash aggregation: the common Hive aggregation
//
//	SELECT <group columns, count/sum/avg/min/max of columns> FROM <one table>
//	  [WHERE <column comparisons, IS [NOT] NULL, AND/OR/NOT>] [GROUP BY <columns>]
//
// runs here in Go, one map entry per group, reading the table's rows
// straight from its files. The SQLite path would first copy every row into
// the engine (an INSERT per row) and then sort them all for GROUP BY; most
// of a GROUP BY's time went there. Every other query, and any row whose
// value does not have its column's type (the SQLite path applies the
// column's affinity), runs on SQLite. Results are the SQLite path's to the
// value, in the same (key) order: TestHashAggregateMatchesSQLite checks it.
// SET dpl.hive.hashaggregate=false turns it off.

// confHashAggregate is the setting that turns hash aggregation off.
const confHashAggregate = "dpl.hive.hashaggregate"

// errNoHashAgg makes a query fall back to the SQLite path.
var errNoHashAgg = errors.New("not a hash aggregation")

// aggPlan is a recognised aggregation over one table.
type aggPlan struct {
	tbl   *table
	tok   token
	aff   []string // SQLite affinity per column of tbl.allCols()
	used  []int    // columns the query reads
	where pred     // nil: every row
	keys  []int    // GROUP BY columns
	items []aggItem
	names []string
}

// aggItem is one select item: a group column or an aggregate of a column.
type aggItem struct {
	fn  string // "" (group column), count, sum, avg, min, max
	col int    // column index; -1 for count(*)
	key int    // index in keys when fn == ""
}

// pred is a WHERE condition in SQL's three-valued logic.
type pred interface {
	eval(row []any) (val, known bool)
}

type cmpPred struct {
	col int
	op  string
	lit any // int64, float64 or string
}

type nullPred struct {
	col int
	not bool
}

type boolPred struct {
	op   string // and, or, not
	l, r pred
}

func (p cmpPred) eval(row []any) (bool, bool) {
	v := row[p.col]
	if v == nil {
		return false, false
	}
	c := compareValues(v, p.lit)
	switch p.op {
	case "=", "==":
		return c == 0, true
	case "!=", "<>":
		return c != 0, true
	case "<":
		return c < 0, true
	case "<=":
		return c <= 0, true
	case ">":
		return c > 0, true
	}
	return c >= 0, true // >=
}

func (p nullPred) eval(row []any) (bool, bool) { return (row[p.col] == nil) != p.not, true }

func (p boolPred) eval(row []any) (bool, bool) {
	l, lk := p.l.eval(row)
	switch p.op {
	case "not":
		return !l, lk
	case "and":
		if lk && !l {
			return false, true
		}
		r, rk := p.r.eval(row)
		if rk && !r {
			return false, true
		}
		return true, lk && rk
	}
	if lk && l {
		return true, true
	}
	r, rk := p.r.eval(row)
	if rk && r {
		return true, true
	}
	return false, lk && rk
}

// planHashAggregate recognises a query (tokens after INSERT ... TABLE t or
// the whole SELECT) that hash aggregation runs; nil for any other.
func (s *Session) planHashAggregate(toks []token) *aggPlan {
	if v, ok := s.conf[confHashAggregate]; ok && strings.EqualFold(strings.TrimSpace(v), "false") {
		return nil
	}
	p := &parser{toks: toks}
	if !p.accept("select") {
		return nil
	}
	p.accept("all")
	// Select items are parsed before the table is known: keep the tokens.
	type rawItem struct {
		fn        string
		star      bool
		col, col2 token // col2: column after "alias."
		alias     string
	}
	var raw []rawItem
	for {
		var it rawItem
		t := p.next()
		if t.kind == tIdent && p.peek().isOp("(") {
			it.fn = strings.ToLower(t.text)
			switch it.fn {
			case "count", "sum", "avg", "min", "max":
			default:
				return nil
			}
			p.next()
			if p.acceptOp("*") {
				if it.fn != "count" {
					return nil
				}
				it.star = true
			} else {
				c := p.next()
				if !isColumnToken(c) {
					return nil
				}
				it.col = c
				if p.acceptOp(".") {
					if it.col2 = p.next(); !isColumnToken(it.col2) {
						return nil
					}
				}
			}
			if !p.acceptOp(")") {
				return nil
			}
		} else {
			if !isColumnToken(t) {
				return nil
			}
			it.col = t
			if p.acceptOp(".") {
				if it.col2 = p.next(); !isColumnToken(it.col2) {
					return nil
				}
			}
		}
		if p.accept("as") {
			a := p.next()
			if !isColumnToken(a) {
				return nil
			}
			it.alias = strings.ToLower(a.text)
		} else if a := p.peek(); a.kind == tQIdent || a.kind == tIdent && !a.is("from") {
			it.alias = strings.ToLower(p.next().text)
		}
		raw = append(raw, it)
		if !p.acceptOp(",") {
			break
		}
	}
	if !p.accept("from") {
		return nil
	}
	tt := p.peek()
	name, _, err := p.tableName()
	if err != nil {
		return nil
	}
	tbl, ok := s.tables[name]
	if !ok {
		return nil
	}
	alias := ""
	if p.accept("as") {
		alias = strings.ToLower(p.next().text)
	} else if a := p.peek(); a.kind == tQIdent || a.kind == tIdent && !a.is("where", "group") {
		alias = strings.ToLower(p.next().text)
	}
	cols := tbl.allCols()
	plan := &aggPlan{tbl: tbl, tok: tt, aff: make([]string, len(cols))}
	for i, c := range cols {
		plan.aff[i] = sqliteType(c.typ)
	}
	used := map[int]bool{}
	colIndex := func(a, b token) int {
		ref := a
		if b.kind != tEOF {
			q := strings.ToLower(a.text)
			if q != alias && q != strings.ToLower(tt.text) && q != name {
				return -1
			}
			ref = b
		}
		for i, c := range cols {
			if strings.EqualFold(c.name, ref.text) {
				if plan.aff[i] == "BLOB" {
					return -1 // binary columns: SQLite's comparisons of blobs are not worth copying
				}
				used[i] = true
				return i
			}
		}
		return -1
	}
	if p.accept("where") {
		plan.where = parseOr(p, colIndex, plan.aff)
		if plan.where == nil {
			return nil
		}
	}
	if p.accept("group", "by") {
		for {
			c := p.next()
			var c2 token
			if !isColumnToken(c) {
				return nil
			}
			if p.acceptOp(".") {
				if c2 = p.next(); !isColumnToken(c2) {
					return nil
				}
			}
			i := colIndex(c, c2)
			if i < 0 || slices.Contains(plan.keys, i) {
				return nil
			}
			plan.keys = append(plan.keys, i)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.peek().kind != tEOF {
		return nil // HAVING, ORDER BY, LIMIT, JOIN, UNION...: SQLite
	}
	aggregates := 0
	for n, it := range raw {
		item := aggItem{fn: it.fn, col: -1}
		if !it.star {
			if item.col = colIndex(it.col, it.col2); item.col < 0 {
				return nil
			}
		}
		name := it.alias
		if it.fn == "" {
			item.key = slices.Index(plan.keys, item.col)
			if item.key < 0 {
				return nil // a bare column outside GROUP BY: SQLite decides
			}
			if name == "" {
				name = strings.ToLower(cols[item.col].name)
			}
		} else {
			aggregates++
			if (it.fn == "sum" || it.fn == "avg") && plan.aff[item.col] == "TEXT" {
				return nil // SQLite reads numbers out of text; not copied here
			}
			if name == "" {
				name = fmt.Sprintf("_c%d", n)
			}
		}
		plan.items = append(plan.items, item)
		plan.names = append(plan.names, name)
	}
	if aggregates == 0 && len(plan.keys) == 0 {
		return nil // a plain scan
	}
	for i := range used {
		plan.used = append(plan.used, i)
	}
	slices.Sort(plan.used)
	return plan
}

func isColumnToken(t token) bool {
	return t.kind == tQIdent || t.kind == tIdent && !clauseWords[strings.ToLower(t.text)] && !t.is("as", "and", "or", "not", "is", "null", "distinct", "case")
}

type colResolver func(a, b token) int

func parseOr(p *parser, col colResolver, aff []string) pred {
	l := parseAnd(p, col, aff)
	for l != nil && (p.peek().is("or") || p.peek().isOp("||")) {
		p.next()
		r := parseAnd(p, col, aff)
		if r == nil {
			return nil
		}
		l = boolPred{op: "or", l: l, r: r}
	}
	return l
}

func parseAnd(p *parser, col colResolver, aff []string) pred {
	l := parseNot(p, col, aff)
	for l != nil && (p.peek().is("and") || p.peek().isOp("&&")) {
		p.next()
		r := parseNot(p, col, aff)
		if r == nil {
			return nil
		}
		l = boolPred{op: "and", l: l, r: r}
	}
	return l
}

func parseNot(p *parser, col colResolver, aff []string) pred {
	if p.peek().is("not") || p.peek().isOp("!") {
		p.next()
		inner := parseNot(p, col, aff)
		if inner == nil {
			return nil
		}
		return boolPred{op: "not", l: inner}
	}
	if p.acceptOp("(") {
		inner := parseOr(p, col, aff)
		if inner == nil || !p.acceptOp(")") {
			return nil
		}
		return inner
	}
	c := p.next()
	if !isColumnToken(c) {
		return nil
	}
	var c2 token
	if p.acceptOp(".") {
		if c2 = p.next(); !isColumnToken(c2) {
			return nil
		}
	}
	i := col(c, c2)
	if i < 0 {
		return nil
	}
	if p.accept("is") {
		not := p.accept("not")
		if !p.accept("null") {
			return nil
		}
		return nullPred{col: i, not: not}
	}
	op := p.next()
	switch {
	case op.kind != tOp:
		return nil
	case op.text == "=" || op.text == "==" || op.text == "!=" || op.text == "<>" || op.text == "<" || op.text == "<=" || op.text == ">" || op.text == ">=":
	default:
		return nil
	}
	neg := p.acceptOp("-")
	lt := p.next()
	var lit any
	switch {
	case lt.kind == tNumber && aff[i] != "TEXT":
		text := lt.text
		if neg {
			text = "-" + text
		}
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			lit = n
		} else if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(f, 0) {
			lit = f
		} else {
			return nil
		}
	case lt.kind == tString && !neg && aff[i] == "TEXT":
		lit = lt.text
	default:
		return nil // a cross-type comparison: SQLite's affinity rules decide
	}
	return cmpPred{col: i, op: op.text, lit: lit}
}

// aggState accumulates one aggregate of one group, as SQLite's sum, avg,
// count, min and max do (sum: exact integers until one overflows or a
// real arrives, then Kahan-Babuska-Neumaier summation).
type aggState struct {
	cnt          int64
	isum         int64
	rsum, rerr   float64
	approx, ovfl bool
	best         any
}

func (a *aggState) add(fn string, v any) {
	if fn == "count" {
		if v != nil {
			a.cnt++
		}
		return
	}
	if v == nil {
		return
	}
	switch fn {
	case "min", "max":
		if a.best == nil {
			a.best = ownValue(v)
			return
		}
		c := compareValues(v, a.best)
		if fn == "min" && c < 0 || fn == "max" && c > 0 {
			a.best = ownValue(v)
		}
		return
	}
	a.cnt++
	n, isInt := v.(int64)
	if !a.approx {
		if isInt {
			if s, ok := addInt64(a.isum, n); ok {
				a.isum = s
				return
			}
			a.ovfl = true
			a.kbnInit(a.isum)
			a.approx = true
			a.kbnInt(n)
			return
		}
		a.kbnInit(a.isum)
		a.approx = true
		a.kbn(v.(float64))
		return
	}
	if isInt {
		a.kbnInt(n)
		return
	}
	a.ovfl = false
	a.kbn(v.(float64))
}

func addInt64(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

const kbnExact = 4503599627370496 // 2^52: larger integers are split

func (a *aggState) kbnInit(n int64) {
	if n <= -kbnExact || n >= kbnExact {
		small := n % 16384
		a.rsum, a.rerr = float64(n-small), float64(small)
		return
	}
	a.rsum, a.rerr = float64(n), 0
}

func (a *aggState) kbnInt(n int64) {
	if n <= -kbnExact || n >= kbnExact {
		small := n % 16384
		a.kbn(float64(n - small))
		a.kbn(float64(small))
		return
	}
	a.kbn(float64(n))
}

func (a *aggState) kbn(r float64) {
	s := a.rsum
	t := s + r
	if math.Abs(s) > math.Abs(r) {
		a.rerr += (s - t) + r
	} else {
		a.rerr += (r - t) + s
	}
	a.rsum = t
}

func (a *aggState) approxSum() float64 {
	if math.IsInf(a.rerr, 0) || math.IsNaN(a.rerr) {
		return a.rsum
	}
	return a.rsum + a.rerr
}

// result is the aggregate's value, as SQLite returns it.
func (a *aggState) result(fn string) (any, error) {
	switch fn {
	case "count":
		return a.cnt, nil
	case "min", "max":
		return a.best, nil
	}
	if a.cnt == 0 {
		return nil, nil
	}
	if fn == "avg" {
		if a.approx {
			return a.approxSum() / float64(a.cnt), nil
		}
		return float64(a.isum) / float64(a.cnt), nil
	}
	if !a.approx {
		return a.isum, nil
	}
	if a.ovfl {
		return nil, errors.New("integer overflow")
	}
	return a.approxSum(), nil
}

type aggGroup struct {
	keys   []any
	states []aggState
}

// run reads the table and aggregates it. errNoHashAgg: a value did not
// have its column's type; the caller runs the query on SQLite.
func (plan *aggPlan) run(ctx context.Context, s *Session) (*memRows, error) {
	groups := map[string]*aggGroup{}
	var key []byte
	global := len(plan.keys) == 0
	err := s.readTable(ctx, plan.tok, plan.tbl, func(row []any) error {
		for _, c := range plan.used {
			v, ok := fitAffinity(plan.aff[c], row[c])
			if !ok {
				return errNoHashAgg
			}
			row[c] = v
		}
		if plan.where != nil {
			if ok, known := plan.where.eval(row); !ok || !known {
				return nil
			}
		}
		key = key[:0]
		for _, c := range plan.keys {
			key = appendGroupKey(key, row[c])
		}
		g := groups[string(key)]
		if g == nil {
			g = &aggGroup{keys: make([]any, len(plan.keys)), states: make([]aggState, len(plan.items))}
			for i, c := range plan.keys {
				g.keys[i] = ownValue(row[c])
			}
			groups[string(key)] = g
		}
		for i, it := range plan.items {
			if it.fn == "" {
				continue
			}
			if it.col < 0 {
				g.states[i].cnt++ // count(*)
				continue
			}
			g.states[i].add(it.fn, row[it.col])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if global && len(groups) == 0 {
		groups[""] = &aggGroup{states: make([]aggState, len(plan.items))} // an aggregate of no rows is one row
	}
	list := make([]*aggGroup, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b *aggGroup) int {
		for i := range a.keys {
			if c := compareValues(a.keys[i], b.keys[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	out := &memRows{names: plan.names, pos: -1}
	for _, g := range list {
		row := make([]any, len(plan.items))
		for i, it := range plan.items {
			if it.fn == "" {
				row[i] = g.keys[it.key]
				continue
			}
			v, err := g.states[i].result(it.fn)
			if err != nil {
				return nil, engineErr(plan.tok, err)
			}
			row[i] = v
		}
		out.rows = append(out.rows, row)
	}
	return out, nil
}

// fitAffinity converts a value the way SQLite stores it in a column of that
// affinity; false when the SQLite path would convert it in a way not
// copied here.
func fitAffinity(aff string, v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case int64:
		switch aff {
		case "INTEGER":
			return x, true
		case "REAL":
			return float64(x), true
		}
	case float64:
		if math.IsNaN(x) {
			return nil, true // SQLite stores NaN as NULL
		}
		switch aff {
		case "REAL":
			if x == 0 {
				x = 0 // stored as the integer 0: the sign of -0.0 is lost
			}
			return x, true
		case "INTEGER":
			// sqlite3RealSameAsInt: only reals within ±2^51 become integers.
			if x == math.Trunc(x) && x > -2251799813685248 && x < 2251799813685248 {
				return int64(x), true
			}
			return x, true
		}
	case string:
		return x, aff == "TEXT"
	}
	return nil, false
}

// ownValue copies a string out of the line buffer it may point into.
func ownValue(v any) any {
	if s, ok := v.(string); ok {
		return strings.Clone(s)
	}
	return v
}

// appendGroupKey encodes a value so that two values SQLite's GROUP BY
// treats as one group encode alike.
func appendGroupKey(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'n')
	case int64:
		return binary.LittleEndian.AppendUint64(append(b, 'i'), uint64(x))
	case float64:
		if x == 0 {
			x = 0 // -0 and 0 are one group
		}
		if x == math.Trunc(x) && x >= -9.223372036854775e18 && x <= 9.223372036854775e18 {
			return binary.LittleEndian.AppendUint64(append(b, 'i'), uint64(int64(x)))
		}
		return binary.LittleEndian.AppendUint64(append(b, 'f'), math.Float64bits(x))
	case string:
		b = binary.AppendUvarint(append(b, 's'), uint64(len(x)))
		return append(b, x...)
	}
	return append(b, '?')
}

// compareValues orders values as SQLite does: NULL, numbers, text (BINARY
// collation), blobs.
func compareValues(a, b any) int {
	ca, cb := valueClass(a), valueClass(b)
	if ca != cb {
		return ca - cb
	}
	switch x := a.(type) {
	case nil:
		return 0
	case int64:
		switch y := b.(type) {
		case int64:
			return cmpOrdered(x, y)
		case float64:
			return -compareFloatInt(y, x)
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return cmpOrdered(x, y)
		case int64:
			return compareFloatInt(x, y)
		}
	case string:
		return strings.Compare(x, b.(string))
	case []byte:
		return bytes.Compare(x, b.([]byte))
	}
	return 0
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareFloatInt compares exactly, without rounding the integer.
func compareFloatInt(f float64, n int64) int {
	switch {
	case f < -9.223372036854775808e18:
		return -1
	case f >= 9.223372036854775808e18:
		return 1
	}
	t := int64(f)
	if c := cmpOrdered(t, n); c != 0 {
		return c
	}
	return cmpOrdered(f, float64(t))
}

func valueClass(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case int64, float64:
		return 1
	case string:
		return 2
	}
	return 3
}

// resultRows is a query's result: SQLite's rows or hash aggregation's.
type resultRows interface {
	Columns() ([]string, error)
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// memRows is a result held in memory.
type memRows struct {
	names []string
	rows  [][]any
	pos   int
}

func (m *memRows) Columns() ([]string, error) { return m.names, nil }
func (m *memRows) Next() bool                 { m.pos++; return m.pos < len(m.rows) }
func (m *memRows) Err() error                 { return nil }
func (m *memRows) Close() error               { return nil }

func (m *memRows) Scan(dest ...any) error {
	if m.pos < 0 || m.pos >= len(m.rows) {
		return errors.New("scan outside the result")
	}
	if len(dest) != len(m.names) {
		return fmt.Errorf("scan of %d columns into %d values", len(m.names), len(dest))
	}
	for i, d := range dest {
		p, ok := d.(*any)
		if !ok {
			return fmt.Errorf("scan into %T", d)
		}
		*p = m.rows[m.pos][i]
	}
	return nil
}
