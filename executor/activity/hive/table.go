package hive

import (
	"regexp"
	"strings"
)

// column is a table column; typ is the lower-case Hive type.
type column struct {
	name, typ string
}

// Serde kinds.
const (
	serdeDelimited = "delimited" // LazySimpleSerDe
	serdeCSV       = "csv"       // OpenCSVSerde
	serdeRegex     = "regex"     // RegexSerDe
	serdeJSON      = "json"      // JsonSerDe (hcatalog, openx)
	serdeDDBExport = "ddbexport" // DynamoDBExportSerDe
)

// rowFormat says how rows are laid out in a table's files.
type rowFormat struct {
	kind string
	// delimited
	field, collection, mapKey string
	escape                    string // "" = none
	null                      string
	// csv
	sep, quote, esc rune
	// regex
	regex *regexp.Regexp
	// json: skip malformed lines (openx ignore.malformed.json)
	ignoreMalformed bool
	// ddbexport: hive column -> attribute
	mapping map[string]string
}

func defaultDelimited() *rowFormat {
	return &rowFormat{kind: serdeDelimited, field: "\x01", collection: "\x02", mapKey: "\x03", null: `\N`}
}

// partition is one registered partition: its values in partition-column
// order and its folder.
type partition struct {
	values   []string
	location string
}

// table is a metastore entry.
type table struct {
	name       string
	external   bool
	cols       []column
	partCols   []column
	location   string // normalised: s3://... or an absolute local path
	format     *rowFormat
	props      map[string]string
	dynamo     *dynamoTable // STORED BY DynamoDBStorageHandler
	partitions []partition
	skipHeader int

	// loaded is true while the SQLite copy matches the data.
	loaded bool
}

func (t *table) allCols() []column { return append(append([]column(nil), t.cols...), t.partCols...) }

func (t *table) partition(values []string) *partition {
	for i := range t.partitions {
		if equalStrings(t.partitions[i].values, values) {
			return &t.partitions[i]
		}
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// partDir is the folder name of a partition: k1=v1/k2=v2 (Hive escapes
// path characters in values).
func (t *table) partDir(values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = t.partCols[i].name + "=" + escapePathValue(v)
	}
	return strings.Join(parts, "/")
}

func escapePathValue(v string) string {
	var b strings.Builder
	for _, c := range []byte(v) {
		if c < 0x20 || strings.IndexByte("\"#%'*/:=?\\\x7f{[]^", c) >= 0 {
			b.WriteString("%" + strings.ToUpper(hex2(c)))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

func unescapePathValue(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			if n, ok := unhex(v[i+1 : i+3]); ok {
				b.WriteByte(n)
				i += 2
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func unhex(s string) (byte, bool) {
	var n byte
	for _, c := range strings.ToLower(s) {
		d := strings.IndexRune("0123456789abcdef", c)
		if d < 0 {
			return 0, false
		}
		n = n*16 + byte(d)
	}
	return n, true
}

// sqliteType is the column affinity a Hive type gets in the embedded engine.
func sqliteType(typ string) string {
	switch baseType(typ) {
	case "tinyint", "smallint", "int", "bigint", "boolean":
		return "INTEGER"
	case "float", "double", "decimal":
		return "REAL"
	case "binary":
		return "BLOB"
	}
	return "TEXT"
}

// baseType strips parameters: decimal(10,2) -> decimal, array<int> -> array.
func baseType(typ string) string {
	if i := strings.IndexAny(typ, "(<"); i >= 0 {
		return typ[:i]
	}
	return typ
}

// elemTypes returns the element types of array<...> and map<...,...>.
func elemTypes(typ string) []string {
	i := strings.IndexByte(typ, '<')
	if i < 0 || !strings.HasSuffix(typ, ">") {
		return nil
	}
	inner := typ[i+1 : len(typ)-1]
	var out []string
	depth, start := 0, 0
	for j, c := range inner {
		switch c {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, inner[start:j])
				start = j + 1
			}
		}
	}
	return append(out, inner[start:])
}
