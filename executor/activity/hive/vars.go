package hive

import (
	"os"
	"regexp"
	"strings"
)

var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_.:-]*)\}`)

// substitute replaces ${VAR}, ${hivevar:VAR}, ${hiveconf:VAR}, ${env:VAR}
// and ${system:VAR} the way Hive's variable substitution does: unknown
// variables stay as written. Values may hold variables themselves (up to
// Hive's 40 levels).
func (s *Session) substitute(text string) string {
	for depth := 0; depth < 40 && strings.Contains(text, "${"); depth++ {
		changed := false
		text = varRE.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			ns, key, found := strings.Cut(name, ":")
			if !found {
				key, ns = ns, ""
			}
			var v string
			ok := false
			switch strings.ToLower(ns) {
			case "":
				if v, ok = s.hivevar[key]; !ok {
					v, ok = s.conf[key]
				}
			case "hivevar":
				v, ok = s.hivevar[key]
			case "hiveconf":
				v, ok = s.conf[key]
			case "env":
				v, ok = os.LookupEnv(key)
			case "system":
				v, ok = s.conf[key]
			}
			if !ok {
				return m
			}
			changed = true
			return v
		})
		if !changed {
			break
		}
	}
	return text
}
