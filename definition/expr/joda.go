package expr

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// This file formats times with Joda-Time DateTimeFormat patterns, the
// dialect the service's format() uses (not Go layouts, not
// SimpleDateFormat, not java.time). Tokenising, field choice per letter
// count and the printers follow Joda-Time 2.x DateTimeFormat /
// DateTimeFormatterBuilder under Locale.US and ISO chronology.

type jodaOp uint8

const (
	opLit         jodaOp = iota
	opEra                // G: AD/BC
	opCentury            // C: century of era
	opYear2              // yy/YY: two-digit year (from the proleptic year)
	opWeekyear2          // xx
	opYear               // y
	opYearOfEra          // Y
	opWeekyear           // x
	opMonth              // M, MM
	opMonthShort         // MMM
	opMonthLong          // MMMM+
	opDay                // d
	opHalfday            // a
	opClockHalf          // h: 1-12
	opHour               // H: 0-23
	opClockDay           // k: 1-24
	opHourHalf           // K: 0-11
	opMinute             // m
	opSecond             // s
	opFraction           // S
	opDow                // e: 1 = Monday
	opDowShort           // E-EEE
	opDowLong            // EEEE+
	opDoy                // D
	opWeek               // w: ISO week of weekyear
	opZoneShort          // z-zzz
	opZoneLong           // zzzz+
	opOffset             // Z: -0800
	opOffsetColon        // ZZ: -08:00
	opZoneID             // ZZZ+
)

type jodaTok struct {
	op  jodaOp
	n   int    // letter count (minimum digits)
	lit string // for opLit
}

// JodaPattern is a compiled Joda-Time DateTimeFormat pattern.
type JodaPattern struct {
	src  string
	toks []jodaTok
}

// PatternError is returned for patterns Joda-Time rejects with an
// IllegalArgumentException.
type PatternError struct {
	Pattern string
	Offset  int // byte offset of the offending component in the pattern
	Msg     string
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("date pattern %q: %s", e.Pattern, e.Msg)
}

var (
	patternCache     sync.Map // string -> *JodaPattern
	patternCacheSize atomic.Int64
)

// maxCachedPatterns bounds the cache; patterns come from definitions, so
// the working set is small, but hostile input must not grow memory.
const maxCachedPatterns = 4096

// CompileJoda compiles (and caches) a Joda-Time pattern.
func CompileJoda(pattern string) (*JodaPattern, error) {
	if p, ok := patternCache.Load(pattern); ok {
		return p.(*JodaPattern), nil
	}
	p, err := compileJoda(pattern)
	if err != nil {
		return nil, err
	}
	if patternCacheSize.Load() < maxCachedPatterns {
		if _, loaded := patternCache.LoadOrStore(pattern, p); !loaded {
			patternCacheSize.Add(1)
		}
	}
	return p, nil
}

// FormatJoda formats t in its own zone with a Joda-Time pattern.
func FormatJoda(t time.Time, pattern string) (string, error) {
	p, err := CompileJoda(pattern)
	if err != nil {
		return "", err
	}
	return p.Format(t), nil
}

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }

func compileJoda(pattern string) (*JodaPattern, error) {
	if pattern == "" {
		return nil, &PatternError{Pattern: pattern, Msg: "invalid pattern specification (empty)"}
	}
	p := &JodaPattern{src: pattern}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if isLetter(c) {
			j := i + 1
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			tok, ok := letterToken(c, j-i)
			if !ok {
				return nil, &PatternError{Pattern: pattern, Offset: i,
					Msg: fmt.Sprintf("illegal pattern component %q (quote literal letters: 'T')", pattern[i:j])}
			}
			p.toks = append(p.toks, tok)
			i = j
			continue
		}
		// Literal text: runs until an unquoted letter; '' is a quote, and
		// an unterminated quote runs to the end (as in Joda).
		var lit []byte
		inQuote := false
		j := i
		for ; j < len(pattern); j++ {
			c := pattern[j]
			if c == '\'' {
				if j+1 < len(pattern) && pattern[j+1] == '\'' {
					j++
					lit = append(lit, '\'')
				} else {
					inQuote = !inQuote
				}
				continue
			}
			if !inQuote && isLetter(c) {
				break
			}
			lit = append(lit, c)
		}
		if len(lit) > 0 {
			if n := len(p.toks); n > 0 && p.toks[n-1].op == opLit {
				p.toks[n-1].lit += string(lit)
			} else {
				p.toks = append(p.toks, jodaTok{op: opLit, lit: string(lit)})
			}
		}
		i = j
	}
	if len(p.toks) == 0 {
		// Joda's builder refuses a formatter with no printers ("'" alone).
		return nil, &PatternError{Pattern: pattern, Msg: "pattern prints nothing"}
	}
	return p, nil
}

func letterToken(c byte, n int) (jodaTok, bool) {
	t := jodaTok{n: n}
	switch c {
	case 'G':
		t.op = opEra
	case 'C':
		t.op = opCentury
	case 'x', 'y', 'Y':
		switch {
		case n == 2 && c == 'x':
			t.op = opWeekyear2
		case n == 2:
			t.op = opYear2
		case c == 'x':
			t.op = opWeekyear
		case c == 'y':
			t.op = opYear
		default:
			t.op = opYearOfEra
		}
	case 'M':
		switch {
		case n >= 4:
			t.op = opMonthLong
		case n == 3:
			t.op = opMonthShort
		default:
			t.op = opMonth
		}
	case 'd':
		t.op = opDay
	case 'a':
		t.op = opHalfday
	case 'h':
		t.op = opClockHalf
	case 'H':
		t.op = opHour
	case 'k':
		t.op = opClockDay
	case 'K':
		t.op = opHourHalf
	case 'm':
		t.op = opMinute
	case 's':
		t.op = opSecond
	case 'S':
		t.op = opFraction
	case 'e':
		t.op = opDow
	case 'E':
		t.op = opDowShort
		if n >= 4 {
			t.op = opDowLong
		}
	case 'D':
		t.op = opDoy
	case 'w':
		t.op = opWeek
	case 'z':
		t.op = opZoneShort
		if n >= 4 {
			t.op = opZoneLong
		}
	case 'Z':
		switch n {
		case 1:
			t.op = opOffset
		case 2:
			t.op = opOffsetColon
		default:
			t.op = opZoneID
		}
	default:
		return t, false
	}
	return t, true
}

var (
	monthLong = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	monthShort = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	dowLong    = [...]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	dowShort   = [...]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
)

// Format renders t (in its own zone) with the pattern.
func (p *JodaPattern) Format(t time.Time) string {
	var buf [64]byte
	return string(p.AppendFormat(buf[:0], t))
}

// String returns the pattern source.
func (p *JodaPattern) String() string { return p.src }

// AppendFormat appends the formatted time to b. Joda-Time has millisecond
// precision, so finer digits are dropped.
func (p *JodaPattern) AppendFormat(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	millis := t.Nanosecond() / 1e6
	yoe := year
	if year <= 0 {
		yoe = 1 - year
	}
	for _, tok := range p.toks {
		switch tok.op {
		case opLit:
			b = append(b, tok.lit...)
		case opEra:
			if year <= 0 {
				b = append(b, "BC"...)
			} else {
				b = append(b, "AD"...)
			}
		case opCentury:
			b = appendPadded(b, int64(yoe/100), tok.n)
		case opYear2:
			b = appendPadded(b, int64(abs(year)%100), 2)
		case opWeekyear2:
			wy, _ := t.ISOWeek()
			b = appendPadded(b, int64(abs(wy)%100), 2)
		case opYear:
			b = appendPadded(b, int64(year), tok.n)
		case opYearOfEra:
			b = appendPadded(b, int64(yoe), tok.n)
		case opWeekyear:
			wy, _ := t.ISOWeek()
			b = appendPadded(b, int64(wy), tok.n)
		case opMonth:
			b = appendPadded(b, int64(month), tok.n)
		case opMonthShort:
			b = append(b, monthShort[month-1]...)
		case opMonthLong:
			b = append(b, monthLong[month-1]...)
		case opDay:
			b = appendPadded(b, int64(day), tok.n)
		case opHalfday:
			if hour < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case opClockHalf:
			h := hour % 12
			if h == 0 {
				h = 12
			}
			b = appendPadded(b, int64(h), tok.n)
		case opHour:
			b = appendPadded(b, int64(hour), tok.n)
		case opClockDay:
			h := hour
			if h == 0 {
				h = 24
			}
			b = appendPadded(b, int64(h), tok.n)
		case opHourHalf:
			b = appendPadded(b, int64(hour%12), tok.n)
		case opMinute:
			b = appendPadded(b, int64(minute), tok.n)
		case opSecond:
			b = appendPadded(b, int64(sec), tok.n)
		case opFraction:
			b = appendFraction(b, int64(millis), tok.n)
		case opDow:
			b = appendPadded(b, int64(isoWeekday(t)), tok.n)
		case opDowShort:
			b = append(b, dowShort[isoWeekday(t)-1]...)
		case opDowLong:
			b = append(b, dowLong[isoWeekday(t)-1]...)
		case opDoy:
			b = appendPadded(b, int64(t.YearDay()), tok.n)
		case opWeek:
			_, w := t.ISOWeek()
			b = appendPadded(b, int64(w), tok.n)
		case opZoneShort, opZoneLong:
			b = append(b, zoneDisplayName(t, tok.op == opZoneLong)...)
		case opOffset, opOffsetColon:
			_, off := t.Zone()
			b = appendOffset(b, off, tok.op == opOffsetColon)
		case opZoneID:
			b = append(b, zoneID(t.Location())...)
		}
	}
	return b
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func isoWeekday(t time.Time) int {
	wd := int(t.Weekday())
	if wd == 0 {
		return 7
	}
	return wd
}

// appendPadded writes v with at least width digits (a minus sign comes
// first and does not count), like Joda's FormatUtils.appendPaddedInteger.
func appendPadded(b []byte, v int64, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var tmp [20]byte
	digits := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(digits); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, digits...)
}

// appendFraction ports Joda's Fraction printer for fraction-of-second with
// minDigits = maxDigits = n: digits are truncated, never rounded.
func appendFraction(b []byte, millis int64, n int) []byte {
	if millis == 0 {
		for i := 0; i < n; i++ {
			b = append(b, '0')
		}
		return b
	}
	maxDigits := min(n, 18)
	var scalar int64
	for {
		scalar = 1
		for i := 0; i < maxDigits; i++ {
			scalar *= 10
		}
		// Java long arithmetic: shrink while 1000*scalar overflows.
		if (1000*scalar)/scalar == 1000 {
			break
		}
		maxDigits--
	}
	str := strconv.FormatInt(millis*scalar/1000, 10)
	minDigits, digits := n, maxDigits
	for len(str) < digits {
		b = append(b, '0')
		minDigits--
		digits--
	}
	length := len(str)
	if minDigits < digits {
		for minDigits < digits && length > 1 && str[length-1] == '0' {
			digits--
			length--
		}
	}
	return append(b, str[:length]...)
}

// appendOffset prints Joda's TimeZoneOffset as the pattern letters set it
// up: hours and minutes only, and +0000 (not "Z") for a zero offset ("Z"
// is only the parse text).
func appendOffset(b []byte, off int, colon bool) []byte {
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = appendPadded(b, int64(off/3600), 2)
	if colon {
		b = append(b, ':')
	}
	return appendPadded(b, int64(off%3600/60), 2)
}

// printOffset is Joda's DateTimeZone.printOffset: +hh:mm[:ss].
func printOffset(off int) string {
	b := make([]byte, 0, 9)
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = appendPadded(b, int64(off/3600), 2)
	b = append(b, ':')
	b = appendPadded(b, int64(off%3600/60), 2)
	if s := off % 60; s != 0 {
		b = append(b, ':')
		b = appendPadded(b, int64(s), 2)
	}
	return string(b)
}

// zoneID is the id Joda reports for the zone (canonical for known links).
func zoneID(loc *time.Location) string {
	name := loc.String()
	if z, ok := zoneNames[name]; ok {
		return z.id
	}
	return name
}

// zoneDisplayName is Joda's getShortName/getName under Locale.US. Joda
// picks the standard or daylight name by whether the offset is the
// standard one; the tz abbreviation tells that reliably (Go's IsDST is
// inverted for zones with negative DST such as Europe/Dublin), with IsDST
// as the fallback for numeric abbreviations like "-03".
func zoneDisplayName(t time.Time, long bool) string {
	z, ok := zoneNames[t.Location().String()]
	if !ok {
		_, off := t.Zone()
		return printOffset(off)
	}
	abbr, _ := t.Zone()
	dst := t.IsDST()
	switch {
	case abbr == z.stdShort:
		dst = false
	case abbr == z.dstShort:
		dst = true
	}
	switch {
	case dst && long:
		return z.dstLong
	case dst:
		return z.dstShort
	case long:
		return z.stdLong
	}
	return z.stdShort
}

// formatDefault renders a DateTime as yyyy-MM-dd'T'HH:mm:ss in its zone.
func formatDefault(t time.Time) string {
	var buf [24]byte
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b := appendPadded(buf[:0], int64(y), 4)
	b = append(b, '-')
	b = appendPadded(b, int64(mo), 2)
	b = append(b, '-')
	b = appendPadded(b, int64(d), 2)
	b = append(b, 'T')
	b = appendPadded(b, int64(h), 2)
	b = append(b, ':')
	b = appendPadded(b, int64(mi), 2)
	b = append(b, ':')
	b = appendPadded(b, int64(s), 2)
	return string(b)
}
