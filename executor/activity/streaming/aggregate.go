package streaming

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/definition/expr"
)

// The aggregate reducer (org.apache.hadoop.mapred.lib.aggregate): map
// output lines are "Function:key<TAB>value"; the reducer writes
// "key<TAB>result" in the order of the full "Function:key".

type aggregator interface {
	add(v string) error
	merge(o aggregator)
	report() string
}

type aggTable struct {
	m map[string]aggregator // by "Function:key"
}

func newAggTable() *aggTable { return &aggTable{m: map[string]aggregator{}} }

func (t *aggTable) add(line []byte) error {
	key, val := line, []byte(nil)
	if i := bytes.IndexByte(line, '\t'); i >= 0 {
		key, val = line[:i], line[i+1:]
	}
	a, ok := t.m[string(key)]
	if !ok {
		fn, _, found := strings.Cut(string(key), ":")
		if !found {
			return fmt.Errorf("aggregate reducer: map output key %q has no Function: prefix (LongValueSum:, DoubleValueSum:, UniqValueCount:, ValueHistogram:, LongValueMax:, ...)", key)
		}
		var err error
		if a, err = newAggregator(fn); err != nil {
			return err
		}
		t.m[string(key)] = a
	}
	return a.add(string(val))
}

// part is the subset of keys that belong to partition p of n.
func (t *aggTable) part(p, n int) *aggTable {
	if n == 1 {
		return t
	}
	out := newAggTable()
	for k, a := range t.m {
		if partitionOf([]byte(k), n) == p {
			out.m[k] = a
		}
	}
	return out
}

func (t *aggTable) merge(o *aggTable) {
	for k, a := range o.m {
		if mine, ok := t.m[k]; ok {
			mine.merge(a)
		} else {
			t.m[k] = a
		}
	}
}

func (t *aggTable) report(w io.Writer) error {
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		_, id, _ := strings.Cut(k, ":")
		b.WriteString(id)
		b.WriteByte('\t')
		b.WriteString(t.m[k].report())
		b.WriteByte('\n')
		if b.Len() > 1<<16 {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func newAggregator(fn string) (aggregator, error) {
	switch fn {
	case "LongValueSum":
		return &longSum{}, nil
	case "DoubleValueSum":
		return &doubleSum{}, nil
	case "LongValueMax":
		return &longExt{max: true, v: math.MinInt64}, nil
	case "LongValueMin":
		return &longExt{v: math.MaxInt64}, nil
	case "StringValueMax":
		return &strExt{max: true}, nil
	case "StringValueMin":
		return &strExt{}, nil
	case "UniqValueCount":
		return &uniq{seen: map[string]bool{}}, nil
	case "ValueHistogram":
		return &histogram{counts: map[string]int64{}}, nil
	}
	return nil, fmt.Errorf("aggregate reducer: unknown function %q", fn)
}

type longSum struct{ v int64 }

func (a *longSum) add(v string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return fmt.Errorf("LongValueSum: %q is not an integer", v)
	}
	a.v += n
	return nil
}
func (a *longSum) merge(o aggregator) { a.v += o.(*longSum).v }
func (a *longSum) report() string     { return strconv.FormatInt(a.v, 10) }

type doubleSum struct{ v float64 }

func (a *doubleSum) add(v string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return fmt.Errorf("DoubleValueSum: %q is not a number", v)
	}
	a.v += f
	return nil
}
func (a *doubleSum) merge(o aggregator) { a.v += o.(*doubleSum).v }
func (a *doubleSum) report() string     { return expr.FormatDouble(a.v) }

type longExt struct {
	max bool
	v   int64
}

func (a *longExt) add(v string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return fmt.Errorf("LongValueMax/Min: %q is not an integer", v)
	}
	if a.max && n > a.v || !a.max && n < a.v {
		a.v = n
	}
	return nil
}
func (a *longExt) merge(o aggregator) { a.add(strconv.FormatInt(o.(*longExt).v, 10)) }
func (a *longExt) report() string     { return strconv.FormatInt(a.v, 10) }

type strExt struct {
	max, set bool
	v        string
}

func (a *strExt) add(v string) error {
	if !a.set || a.max && v > a.v || !a.max && v < a.v {
		a.v, a.set = v, true
	}
	return nil
}
func (a *strExt) merge(o aggregator) {
	if x := o.(*strExt); x.set {
		a.add(x.v)
	}
}
func (a *strExt) report() string { return a.v }

type uniq struct{ seen map[string]bool }

func (a *uniq) add(v string) error { a.seen[v] = true; return nil }
func (a *uniq) merge(o aggregator) {
	for k := range o.(*uniq).seen {
		a.seen[k] = true
	}
}
func (a *uniq) report() string { return strconv.Itoa(len(a.seen)) }

// histogram counts values ("value" or "value<TAB>count") and reports:
// number of distinct values, min, median, max and average count, and the
// standard deviation of the counts (Hadoop's ValueHistogram.getReport).
type histogram struct{ counts map[string]int64 }

func (a *histogram) add(v string) error {
	val, count := v, int64(1)
	if i := strings.LastIndexByte(v, '\t'); i >= 0 {
		n, err := strconv.ParseInt(v[i+1:], 10, 64)
		if err != nil {
			return fmt.Errorf("ValueHistogram: count %q is not an integer", v[i+1:])
		}
		val, count = v[:i], n
	}
	a.counts[val] += count
	return nil
}
func (a *histogram) merge(o aggregator) {
	for k, n := range o.(*histogram).counts {
		a.counts[k] += n
	}
}
func (a *histogram) report() string {
	counts := make([]int64, 0, len(a.counts))
	var acc int64
	for _, n := range a.counts {
		counts = append(counts, n)
		acc += n
	}
	sort.Slice(counts, func(i, j int) bool { return counts[i] < counts[j] })
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(counts)))
	if len(counts) > 0 {
		avg := float64(acc) / float64(len(counts))
		var sd float64
		for _, n := range counts {
			d := float64(n) - avg
			sd += d * d
		}
		sd = math.Sqrt(sd / float64(len(counts)))
		fmt.Fprintf(&b, "\t%d\t%d\t%d\t%s\t%s", counts[0], counts[len(counts)/2], counts[len(counts)-1], expr.FormatDouble(avg), expr.FormatDouble(sd))
	}
	return b.String()
}
