package schemas

import "unicode"

// Suggest returns the candidate closest to name, for "did you mean" hints,
// or "" when none is close enough. Comparison is case-insensitive and uses
// the optimal-string-alignment (restricted Damerau-Levenshtein) distance, so
// a swap of two neighbouring letters counts as one edit. A candidate equal
// to name ignoring case always wins; otherwise the distance must be at most
// max(1, len/3) (2 for names of 6+ runes, 3 for 9+ ...), ties going to the
// earlier candidate.
func Suggest(name string, candidates []string) string {
	if name == "" {
		return ""
	}
	limit := len([]rune(name)) / 3
	if limit < 1 {
		limit = 1
	}
	// One rune buffer for every candidate and three rows for the distance:
	// a misspelt field is compared with every field of its type, once per
	// object that has it (48,000 times in a large broken definition).
	var abuf, bbuf [64]rune
	var rows [3][65]int
	a := lowerRunes(abuf[:0], name)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == name {
			continue
		}
		b := lowerRunes(bbuf[:0], c)
		if string(b) == string(a) {
			return c
		}
		if d := osaDistance(a, b, bestDist, &rows); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// lowerRunes appends the runes of s, lower-cased as strings.ToLower does
// for names, to buf.
func lowerRunes(buf []rune, s string) []rune {
	for _, r := range s {
		buf = append(buf, unicode.ToLower(r))
	}
	return buf
}

// osaDistance is the optimal-string-alignment distance between a and b.
// It gives up early (returning cap) once every cell of a row reaches cap.
func osaDistance(a, b []rune, cap int, rows *[3][65]int) int {
	if d := len(a) - len(b); d >= cap || -d >= cap {
		return cap
	}
	// Three rows: two back (for transpositions), previous, current; the
	// caller's when b fits.
	var prev2, prev, cur []int
	if len(b) < len(rows[0]) {
		prev2, prev, cur = rows[0][:len(b)+1], rows[1][:len(b)+1], rows[2][:len(b)+1]
		clear(prev2)
	} else {
		prev2, prev, cur = make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin >= cap {
			return cap
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
