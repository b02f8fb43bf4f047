package hive

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// driverName is the private SQLite driver carrying the Hive functions, so
// they never reach other users of modernc.org/sqlite in the process.
const driverName = "dpl-hive-sqlite"

// registerDriver registers the driver on first use: building it costs
// every dpl command 3 ms at start-up otherwise.
var registerDriver = sync.OnceFunc(func() {
	d := &sqlite.Driver{}
	for name, fn := range scalarFuncs {
		d.MustRegisterDeterministicScalarFunction(name, -1, fn)
	}
	d.MustRegisterScalarFunction("hive_rand", -1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		return rand.Float64(), nil
	})
	d.MustRegisterScalarFunction("hive_unix_timestamp", -1, hiveUnixTimestamp)
	d.MustRegisterScalarFunction("hive_current_date", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
		return time.Now().UTC().Format("2006-01-02"), nil
	})
	d.MustRegisterScalarFunction("hive_current_timestamp", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
		return time.Now().UTC().Format("2006-01-02 15:04:05.000"), nil
	})
	sql.Register(driverName, d)
})

type scalar = func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)

// argsErr reports a wrong number of arguments the way Hive names it.
func argsErr(name string, want string, got int) error {
	return fmt.Errorf("%s() takes %s argument(s), got %d", name, want, got)
}

func str(v driver.Value) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return textOf(v), true
}

func num(v driver.Value) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func integer(v driver.Value) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(strings.TrimSpace(x), 64)
			return int64(f), ferr == nil
		}
		return n, true
	}
	return 0, false
}

var regexCache sync.Map // pattern -> *regexp.Regexp or error

func compileRegex(p string) (*regexp.Regexp, error) {
	if v, ok := regexCache.Load(p); ok {
		if re, ok := v.(*regexp.Regexp); ok {
			return re, nil
		}
		return nil, v.(error)
	}
	re, err := regexp.Compile(p)
	if err != nil {
		err = fmt.Errorf("regular expression %q: %v (Java-only features such as look-around are not supported)", p, err)
		regexCache.Store(p, err)
		return nil, err
	}
	regexCache.Store(p, re)
	return re, nil
}

var scalarFuncs = map[string]scalar{
	"hive_cast": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if len(a) != 2 {
			return nil, argsErr("cast", "2", len(a))
		}
		typ, _ := str(a[1])
		if baseType(typ) == "date" {
			s, ok := str(a[0])
			if !ok {
				return nil, nil
			}
			t, ok := parseHiveTime(s)
			if !ok {
				return nil, nil
			}
			return t.Format("2006-01-02"), nil
		}
		if baseType(typ) == "boolean" {
			if s, ok := a[0].(string); ok {
				return b2i(s != ""), nil
			}
		}
		return coerce(typ, a[0]), nil
	},
	"hive_isnull": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		return b2i(len(a) == 1 && a[0] == nil), nil
	},
	"hive_isnotnull": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		return b2i(len(a) == 1 && a[0] != nil), nil
	},
	"hive_round": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if len(a) < 1 || len(a) > 2 {
			return nil, argsErr("round", "1 or 2", len(a))
		}
		if n, ok := a[0].(int64); ok && len(a) == 1 {
			return n, nil
		}
		f, ok := num(a[0])
		if !ok {
			return nil, nil
		}
		d := int64(0)
		if len(a) == 2 {
			d, _ = integer(a[1])
		}
		p := math.Pow(10, float64(d))
		// HALF_UP, as Hive's round does.
		r := math.Floor(math.Abs(f)*p+0.5) / p
		return math.Copysign(r, f), nil
	},
	"hive_floor": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		f, ok := num(arg(a, 0))
		if !ok {
			return nil, nil
		}
		return int64(math.Floor(f)), nil
	},
	"hive_ceil": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		f, ok := num(arg(a, 0))
		if !ok {
			return nil, nil
		}
		return int64(math.Ceil(f)), nil
	},
	"hive_pmod": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		x, ok1 := integer(arg(a, 0))
		y, ok2 := integer(arg(a, 1))
		if !ok1 || !ok2 || y == 0 {
			return nil, nil
		}
		return ((x % y) + y) % y, nil
	},
	"hive_negative": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		switch x := arg(a, 0).(type) {
		case int64:
			return -x, nil
		case float64:
			return -x, nil
		}
		f, ok := num(arg(a, 0))
		if !ok {
			return nil, nil
		}
		return -f, nil
	},
	"hive_positive": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) { return arg(a, 0), nil },
	"hive_substr": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if len(a) < 2 || len(a) > 3 {
			return nil, argsErr("substr", "2 or 3", len(a))
		}
		s, ok := str(a[0])
		pos, ok2 := integer(a[1])
		if !ok || !ok2 {
			return nil, nil
		}
		rs := []rune(s)
		n := int64(len(rs))
		length := n
		if len(a) == 3 {
			l, ok := integer(a[2])
			if !ok {
				return nil, nil
			}
			length = l
		}
		// Hive: 1-based, 0 means 1, negative counts from the end.
		start := pos - 1
		if pos == 0 {
			start = 0
		} else if pos < 0 {
			start = n + pos
		}
		if start < 0 || start >= n || length <= 0 {
			return "", nil
		}
		end := min(start+length, n)
		return string(rs[start:end]), nil
	},
	"hive_locate": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		sub, ok1 := str(arg(a, 0))
		s, ok2 := str(arg(a, 1))
		if !ok1 || !ok2 {
			return nil, nil
		}
		from := int64(1)
		if len(a) > 2 {
			from, _ = integer(a[2])
		}
		rs := []rune(s)
		if from < 1 || from > int64(len(rs))+1 {
			return int64(0), nil
		}
		i := strings.Index(string(rs[from-1:]), sub)
		if i < 0 {
			return int64(0), nil
		}
		return from + int64(utf8.RuneCountInString(string(rs[from-1:])[:i])), nil
	},
	"hive_concat": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		var b strings.Builder
		for _, v := range a {
			s, ok := str(v)
			if !ok {
				return nil, nil // Hive: NULL if any argument is NULL
			}
			b.WriteString(s)
		}
		return b.String(), nil
	},
	"hive_concat_ws": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if len(a) < 1 {
			return nil, argsErr("concat_ws", "at least 2", len(a))
		}
		sep, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		var parts []string
		for _, v := range a[1:] {
			s, ok := str(v)
			if !ok {
				continue
			}
			if items, isArr := jsonArray(s); isArr {
				for _, it := range items {
					if it != nil {
						parts = append(parts, jsonText(it, &rowFormat{}))
					}
				}
				continue
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, sep), nil
	},
	"hive_lpad": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) { return pad(a, true) },
	"hive_rpad": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) { return pad(a, false) },
	"hive_split": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok1 := str(arg(a, 0))
		p, ok2 := str(arg(a, 1))
		if !ok1 || !ok2 {
			return nil, nil
		}
		re, err := compileRegex(p)
		if err != nil {
			return nil, err
		}
		parts := re.Split(s, -1)
		// Java's String.split drops trailing empty strings.
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		b, _ := json.Marshal(nonNilStrings(parts))
		return string(b), nil
	},
	"hive_size": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok := str(arg(a, 0))
		if !ok {
			return int64(-1), nil
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return int64(-1), nil
		}
		switch x := v.(type) {
		case []any:
			return int64(len(x)), nil
		case map[string]any:
			return int64(len(x)), nil
		}
		return int64(-1), nil
	},
	"hive_regexp_extract": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok1 := str(arg(a, 0))
		p, ok2 := str(arg(a, 1))
		if !ok1 || !ok2 {
			return nil, nil
		}
		idx := int64(1)
		if len(a) > 2 {
			idx, _ = integer(a[2])
		}
		re, err := compileRegex(p)
		if err != nil {
			return nil, err
		}
		m := re.FindStringSubmatch(s)
		if m == nil {
			return "", nil
		}
		if idx < 0 || int(idx) >= len(m) {
			return nil, fmt.Errorf("regexp_extract: group %d does not exist in %q", idx, p)
		}
		return m[idx], nil
	},
	"hive_regexp_replace": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok1 := str(arg(a, 0))
		p, ok2 := str(arg(a, 1))
		r, ok3 := str(arg(a, 2))
		if !ok1 || !ok2 || !ok3 {
			return nil, nil
		}
		re, err := compileRegex(p)
		if err != nil {
			return nil, err
		}
		return re.ReplaceAllString(s, javaReplacement(r)), nil
	},
	"regexp": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		// X REGEXP Y calls regexp(Y, X); Hive's RLIKE finds the pattern anywhere.
		p, ok1 := str(arg(a, 0))
		s, ok2 := str(arg(a, 1))
		if !ok1 || !ok2 {
			return nil, nil
		}
		re, err := compileRegex(p)
		if err != nil {
			return nil, err
		}
		return b2i(re.MatchString(s)), nil
	},
	"hive_reverse": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok := str(arg(a, 0))
		if !ok {
			return nil, nil
		}
		rs := []rune(s)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		return string(rs), nil
	},
	"hive_repeat": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok1 := str(arg(a, 0))
		n, ok2 := integer(arg(a, 1))
		if !ok1 || !ok2 {
			return nil, nil
		}
		if n <= 0 {
			return "", nil
		}
		if int64(len(s))*n > 1<<28 {
			return nil, fmt.Errorf("repeat: result too large")
		}
		return strings.Repeat(s, int(n)), nil
	},
	"hive_space": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		n, ok := integer(arg(a, 0))
		if !ok {
			return nil, nil
		}
		if n <= 0 {
			return "", nil
		}
		if n > 1<<28 {
			return nil, fmt.Errorf("space: result too large")
		}
		return strings.Repeat(" ", int(n)), nil
	},
	"hive_ascii": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok := str(arg(a, 0))
		if !ok {
			return nil, nil
		}
		if s == "" {
			return int64(0), nil
		}
		return int64(s[0]), nil
	},
	"hive_initcap": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok := str(arg(a, 0))
		if !ok {
			return nil, nil
		}
		rs := []rune(strings.ToLower(s))
		for i := range rs {
			if i == 0 || unicode.IsSpace(rs[i-1]) {
				rs[i] = unicode.ToUpper(rs[i])
			}
		}
		return string(rs), nil
	},
	"hive_find_in_set": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok1 := str(arg(a, 0))
		set, ok2 := str(arg(a, 1))
		if !ok1 || !ok2 {
			return nil, nil
		}
		if strings.Contains(s, ",") {
			return int64(0), nil
		}
		for i, e := range strings.Split(set, ",") {
			if e == s {
				return int64(i + 1), nil
			}
		}
		return int64(0), nil
	},
	"hive_translate": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok1 := str(arg(a, 0))
		from, ok2 := str(arg(a, 1))
		to, ok3 := str(arg(a, 2))
		if !ok1 || !ok2 || !ok3 {
			return nil, nil
		}
		fr, tr := []rune(from), []rune(to)
		m := map[rune]int{}
		for i, r := range fr {
			if _, dup := m[r]; !dup {
				m[r] = i
			}
		}
		var b strings.Builder
		for _, r := range s {
			i, ok := m[r]
			switch {
			case !ok:
				b.WriteRune(r)
			case i < len(tr):
				b.WriteRune(tr[i])
			}
		}
		return b.String(), nil
	},
	"hive_md5":  hashFunc(func(b []byte) []byte { s := md5.Sum(b); return s[:] }),
	"hive_sha1": hashFunc(func(b []byte) []byte { s := sha1.Sum(b); return s[:] }),
	"hive_sha2": func(c *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		bits, _ := integer(arg(a, 1))
		var h func([]byte) []byte
		switch bits {
		case 0, 256:
			h = func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
		case 224:
			h = func(b []byte) []byte { s := sha256.Sum224(b); return s[:] }
		case 384:
			h = func(b []byte) []byte { s := sha512.Sum384(b); return s[:] }
		case 512:
			h = func(b []byte) []byte { s := sha512.Sum512(b); return s[:] }
		default:
			return nil, nil
		}
		return hashFunc(h)(c, a[:1])
	},
	"hive_base64": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok := str(arg(a, 0))
		if !ok {
			return nil, nil
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	},
	"hive_format_number": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		f, ok1 := num(arg(a, 0))
		d, ok2 := integer(arg(a, 1))
		if !ok1 || !ok2 || d < 0 {
			return nil, nil
		}
		s := strconv.FormatFloat(math.Abs(f), 'f', int(d), 64)
		ip, fp, _ := strings.Cut(s, ".")
		var b strings.Builder
		if f < 0 {
			b.WriteByte('-')
		}
		for i, c := range ip {
			if i > 0 && (len(ip)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		if fp != "" {
			b.WriteString("." + fp)
		}
		return b.String(), nil
	},
	"hive_get_json_object": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok1 := str(arg(a, 0))
		path, ok2 := str(arg(a, 1))
		if !ok1 || !ok2 {
			return nil, nil
		}
		return getJSONObject(s, path), nil
	},
	"hive_array_contains": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok := str(arg(a, 0))
		items, isArr := jsonArray(s)
		if !ok || !isArr || arg(a, 1) == nil {
			return nil, nil
		}
		want := textOf(arg(a, 1))
		for _, it := range items {
			if it != nil && jsonText(it, &rowFormat{}) == want {
				return int64(1), nil
			}
		}
		return int64(0), nil
	},
	"hive_sort_array": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, _ := str(arg(a, 0))
		items, ok := jsonArray(s)
		if !ok {
			return nil, nil
		}
		sort.SliceStable(items, func(i, j int) bool { return lessJSON(items[i], items[j]) })
		b, _ := json.Marshal(items)
		return string(b), nil
	},
	"hive_str_to_map": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok := str(arg(a, 0))
		if !ok {
			return nil, nil
		}
		pairSep, kvSep := ",", ":"
		if len(a) > 1 {
			pairSep, _ = str(a[1])
		}
		if len(a) > 2 {
			kvSep, _ = str(a[2])
		}
		m := map[string]any{}
		for _, p := range strings.Split(s, pairSep) {
			k, v, found := strings.Cut(p, kvSep)
			if found {
				m[k] = v
			} else {
				m[k] = nil
			}
		}
		b, _ := json.Marshal(m)
		return string(b), nil
	},
	"hive_map_keys": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		return mapPart(arg(a, 0), true), nil
	},
	"hive_map_values": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		return mapPart(arg(a, 0), false), nil
	},
	"hive_from_unixtime": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		n, ok := integer(arg(a, 0))
		if !ok {
			return nil, nil
		}
		layout := "2006-01-02 15:04:05"
		if len(a) > 1 {
			p, ok := str(a[1])
			if !ok {
				return nil, nil
			}
			layout = javaLayout(p)
		}
		return time.Unix(n, 0).UTC().Format(layout), nil
	},
	"hive_to_date": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		return withTime(arg(a, 0), func(t time.Time) any { return t.Format("2006-01-02") }), nil
	},
	"hive_date_format": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		p, ok := str(arg(a, 1))
		if !ok {
			return nil, nil
		}
		return withTime(arg(a, 0), func(t time.Time) any { return t.Format(javaLayout(p)) }), nil
	},
	"hive_datediff": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s1, ok1 := str(arg(a, 0))
		s2, ok2 := str(arg(a, 1))
		if !ok1 || !ok2 {
			return nil, nil
		}
		t1, ok1 := parseHiveTime(s1)
		t2, ok2 := parseHiveTime(s2)
		if !ok1 || !ok2 {
			return nil, nil
		}
		d1 := time.Date(t1.Year(), t1.Month(), t1.Day(), 0, 0, 0, 0, time.UTC)
		d2 := time.Date(t2.Year(), t2.Month(), t2.Day(), 0, 0, 0, 0, time.UTC)
		return int64(d1.Sub(d2).Hours() / 24), nil
	},
	"hive_date_add": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) { return addDays(a, 1) },
	"hive_date_sub": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) { return addDays(a, -1) },
	"hive_add_months": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		n, ok := integer(arg(a, 1))
		if !ok {
			return nil, nil
		}
		return withTime(arg(a, 0), func(t time.Time) any {
			y, m, d := t.Date()
			first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
			last := first.AddDate(0, 1, -1).Day()
			// The last day of a month maps to the last day of the result month.
			if d > last || d == time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() {
				d = last
			}
			return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		}), nil
	},
	"hive_last_day": func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		return withTime(arg(a, 0), func(t time.Time) any {
			return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		}), nil
	},
	"hive_year":       timePart(func(t time.Time) int { return t.Year() }),
	"hive_month":      timePart(func(t time.Time) int { return int(t.Month()) }),
	"hive_day":        timePart(func(t time.Time) int { return t.Day() }),
	"hive_hour":       timePart(func(t time.Time) int { return t.Hour() }),
	"hive_minute":     timePart(func(t time.Time) int { return t.Minute() }),
	"hive_second":     timePart(func(t time.Time) int { return t.Second() }),
	"hive_weekofyear": timePart(func(t time.Time) int { _, w := t.ISOWeek(); return w }),
}

func arg(a []driver.Value, i int) driver.Value {
	if i < len(a) {
		return a[i]
	}
	return nil
}

func pad(a []driver.Value, left bool) (driver.Value, error) {
	s, ok1 := str(arg(a, 0))
	n, ok2 := integer(arg(a, 1))
	p, ok3 := str(arg(a, 2))
	if !ok1 || !ok2 || !ok3 {
		return nil, nil
	}
	if n > 1<<28 {
		return nil, fmt.Errorf("pad: result too large")
	}
	rs := []rune(s)
	if int64(len(rs)) >= n {
		return string(rs[:max(n, 0)]), nil
	}
	if p == "" {
		return nil, nil
	}
	var fill []rune
	pr := []rune(p)
	for int64(len(fill)+len(rs)) < n {
		fill = append(fill, pr[len(fill)%len(pr)])
	}
	if left {
		return string(fill) + s, nil
	}
	return s + string(fill), nil
}

func hashFunc(h func([]byte) []byte) scalar {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok := str(arg(a, 0))
		if !ok {
			return nil, nil
		}
		return hex.EncodeToString(h([]byte(s))), nil
	}
}

func jsonArray(s string) ([]any, bool) {
	if !strings.HasPrefix(strings.TrimSpace(s), "[") {
		return nil, false
	}
	var items []any
	if err := json.Unmarshal([]byte(s), &items); err != nil {
		return nil, false
	}
	return items, true
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func lessJSON(a, b any) bool {
	fa, aok := a.(float64)
	fb, bok := b.(float64)
	if aok && bok {
		return fa < fb
	}
	if a == nil {
		return b != nil
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}

func mapPart(v any, keys bool) any {
	s, ok := str(v)
	if !ok {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil
	}
	var out []any
	for _, k := range sortedKeys(m) {
		if keys {
			out = append(out, k)
		} else {
			out = append(out, m[k])
		}
	}
	b, _ := json.Marshal(nonNil(out))
	return string(b)
}

// javaReplacement turns Java's $1 group references into Go's ${1}.
func javaReplacement(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		switch {
		case r[i] == '\\' && i+1 < len(r):
			i++
			if r[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(r[i])
			}
		case r[i] == '$' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			j := i + 1
			for j < len(r) && r[j] >= '0' && r[j] <= '9' {
				j++
			}
			b.WriteString("${" + r[i+1:j] + "}")
			i = j - 1
		case r[i] == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(r[i])
		}
	}
	return b.String()
}

// getJSONObject implements Hive's JSONPath subset: $, .name, ['name'],
// [n] and [*].
func getJSONObject(doc, path string) any {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil || !strings.HasPrefix(path, "$") {
		return nil
	}
	cur := []any{v}
	p := path[1:]
	wild := false
	for p != "" {
		var next []any
		switch {
		case strings.HasPrefix(p, "["):
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil
			}
			key := p[1:end]
			p = p[end+1:]
			for _, c := range cur {
				switch {
				case key == "*":
					wild = true
					if arr, ok := c.([]any); ok {
						next = append(next, arr...)
					}
				case strings.HasPrefix(key, "'") || strings.HasPrefix(key, `"`):
					if m, ok := c.(map[string]any); ok {
						if x, ok := m[strings.Trim(key, `'"`)]; ok {
							next = append(next, x)
						}
					}
				default:
					n, err := strconv.Atoi(key)
					if arr, ok := c.([]any); ok && err == nil && n >= 0 && n < len(arr) {
						next = append(next, arr[n])
					}
				}
			}
		case strings.HasPrefix(p, "."):
			p = p[1:]
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			key := p[:end]
			p = p[end:]
			for _, c := range cur {
				switch x := c.(type) {
				case map[string]any:
					if y, ok := x[key]; ok {
						next = append(next, y)
					}
				case []any: // $.a.b over an array maps over its elements
					for _, e := range x {
						if m, ok := e.(map[string]any); ok {
							if y, ok := m[key]; ok {
								next = append(next, y)
							}
						}
					}
				}
			}
		default:
			return nil
		}
		cur = next
		if len(cur) == 0 {
			return nil
		}
	}
	var res any = cur[0]
	if wild || len(cur) > 1 {
		res = cur
	}
	switch x := res.(type) {
	case nil:
		return nil
	case string:
		return x
	case float64:
		return jsonText(x, &rowFormat{})
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(res)
	return string(b)
}

// Dates and timestamps are strings "yyyy-MM-dd[ HH:mm:ss[.fff]]" in UTC.
var hiveTimeLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02"}

func parseHiveTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range hiveTimeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func withTime(v any, f func(time.Time) any) any {
	if n, ok := v.(int64); ok {
		return f(time.Unix(n, 0).UTC())
	}
	s, ok := str(v)
	if !ok {
		return nil
	}
	t, ok := parseHiveTime(s)
	if !ok {
		return nil
	}
	return f(t)
}

func timePart(part func(time.Time) int) scalar {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		return withTime(arg(a, 0), func(t time.Time) any { return int64(part(t)) }), nil
	}
}

func addDays(a []driver.Value, sign int) (driver.Value, error) {
	n, ok := integer(arg(a, 1))
	if !ok {
		return nil, nil
	}
	return withTime(arg(a, 0), func(t time.Time) any { return t.AddDate(0, 0, sign*int(n)).Format("2006-01-02") }), nil
}

func hiveUnixTimestamp(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if len(a) == 0 {
		return time.Now().Unix(), nil
	}
	s, ok := str(a[0])
	if !ok {
		return nil, nil
	}
	if len(a) > 1 {
		p, ok := str(a[1])
		if !ok {
			return nil, nil
		}
		t, err := time.ParseInLocation(javaLayout(p), s, time.UTC)
		if err != nil {
			return nil, nil
		}
		return t.Unix(), nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(s), time.UTC)
	if err != nil {
		return nil, nil
	}
	return t.Unix(), nil
}

// javaLayout converts a java.text.SimpleDateFormat pattern to a Go layout.
func javaLayout(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		if c == '\'' {
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				b.WriteString(p[i+1:])
				break
			}
			if j == 0 {
				b.WriteByte('\'')
			} else {
				b.WriteString(p[i+1 : i+1+j])
			}
			i += j + 2
			continue
		}
		n := 1
		for i+n < len(p) && p[i+n] == c {
			n++
		}
		i += n
		switch c {
		case 'y':
			if n == 2 {
				b.WriteString("06")
			} else {
				b.WriteString("2006")
			}
		case 'M':
			switch {
			case n >= 4:
				b.WriteString("January")
			case n == 3:
				b.WriteString("Jan")
			case n == 2:
				b.WriteString("01")
			default:
				b.WriteString("1")
			}
		case 'd':
			if n >= 2 {
				b.WriteString("02")
			} else {
				b.WriteString("2")
			}
		case 'H':
			b.WriteString("15")
		case 'h':
			if n >= 2 {
				b.WriteString("03")
			} else {
				b.WriteString("3")
			}
		case 'm':
			if n >= 2 {
				b.WriteString("04")
			} else {
				b.WriteString("4")
			}
		case 's':
			if n >= 2 {
				b.WriteString("05")
			} else {
				b.WriteString("5")
			}
		case 'S':
			b.WriteString(strings.Repeat("0", n))
		case 'a':
			b.WriteString("PM")
		case 'E':
			if n >= 4 {
				b.WriteString("Monday")
			} else {
				b.WriteString("Mon")
			}
		case 'z':
			b.WriteString("MST")
		case 'Z':
			b.WriteString("-0700")
		case 'X':
			b.WriteString("Z07:00")
		case 'D':
			b.WriteString("002")
		default:
			b.WriteString(strings.Repeat(string(c), n))
		}
	}
	return b.String()
}
