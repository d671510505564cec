package graph

import "sort"

// Labels is a compact, read-only label set: keys and values alternating in one slice,
// sorted by key, keys unique. It implements k8s.io/apimachinery/pkg/labels.Labels, so
// selectors match it directly.
//
// The store keeps one per object: a Go map of a few labels costs ≈320 B (header and one
// bucket) and one more pointer-dense object for the garbage collector; this costs the
// slice header and 32 B per label (index.BenchmarkMemoryPerObject).
type Labels []string

// LabelsFromMap returns the set m holds (nil for an empty m).
func LabelsFromMap(m map[string]string) Labels {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	l := make(Labels, 0, 2*len(keys))
	for _, k := range keys {
		l = append(l, k, m[k])
	}
	return l
}

// Len is the number of labels.
func (l Labels) Len() int { return len(l) / 2 }

// index returns the position of key k's pair, or -1.
func (l Labels) index(k string) int {
	lo, hi := 0, len(l)/2
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l[2*m] < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(l)/2 && l[2*lo] == k {
		return 2 * lo
	}
	return -1
}

// Has reports whether key k is set.
func (l Labels) Has(k string) bool { return l.index(k) >= 0 }

// Get returns the value of key k ("" when unset).
func (l Labels) Get(k string) string {
	if i := l.index(k); i >= 0 {
		return l[i+1]
	}
	return ""
}

// Lookup returns the value of key k and whether it is set.
func (l Labels) Lookup(k string) (string, bool) {
	if i := l.index(k); i >= 0 {
		return l[i+1], true
	}
	return "", false
}

// Map returns the labels as a new map (nil when empty).
func (l Labels) Map() map[string]string {
	if len(l) == 0 {
		return nil
	}
	m := make(map[string]string, len(l)/2)
	for i := 0; i < len(l); i += 2 {
		m[l[i]] = l[i+1]
	}
	return m
}

// Equal reports whether both sets hold the same labels.
func (l Labels) Equal(o Labels) bool {
	if len(l) != len(o) {
		return false
	}
	for i := range l {
		if l[i] != o[i] {
			return false
		}
	}
	return true
}
