package definition

import (
	"sort"
	"strings"
)

// Mask is what every command shows instead of a secret value (the value
// of a `*` field or a `*` parameter).
const Mask = "********"

// MaskText replaces every occurrence of each secret in s with Mask,
// longest secret first so that a secret containing another is masked
// whole. Empty secrets are ignored.
func MaskText(s string, secrets []string) string {
	if s == "" || len(secrets) == 0 {
		return s
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			return strings.NewReplacer(replacerPairs(secrets)...).Replace(s)
		}
	}
	return s
}

func replacerPairs(secrets []string) []string {
	sorted := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			sorted = append(sorted, s)
		}
	}
	sort.Slice(sorted, func(i, j int) bool {
		if len(sorted[i]) != len(sorted[j]) {
			return len(sorted[i]) > len(sorted[j])
		}
		return sorted[i] < sorted[j]
	})
	pairs := make([]string, 0, 2*len(sorted))
	for _, s := range sorted {
		pairs = append(pairs, s, Mask)
	}
	return pairs
}

// Secrets returns the secret values r knows before anything runs: the
// values of `*` parameters and the literal values of `*` fields (values
// with expressions are evaluated in the object's own scope when they can
// be). Messages, events and logs pass text through MaskText with them.
func (r *Resolver) Secrets() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, p := range r.order {
		if p.Secret() {
			for _, v := range p.Values {
				add(v)
			}
		}
	}
	for _, o := range r.d.Objects {
		for _, f := range o.Fields {
			if !f.IsSecret() {
				continue
			}
			for _, v := range f.Values {
				if v.IsRef {
					continue
				}
				if !strings.Contains(v.Str, "#{") {
					add(v.Str)
					continue
				}
				if x, err := r.Eval(v.Str, r.Scope(o, nil)); err == nil {
					for _, s := range x.StringList() {
						add(s)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
