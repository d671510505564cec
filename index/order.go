package index

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// orderKey is one compiled OrderBy.
type orderKey struct {
	field string
	desc  bool
}

var orderFields = map[string]bool{
	OrderCluster: true, OrderNamespace: true, OrderName: true, OrderCreatedAt: true,
	OrderResourceVersion: true, OrderGroup: true, OrderVersion: true, OrderResource: true,
	OrderKind: true, OrderUID: true,
}

func compileOrder(in []OrderBy) ([]orderKey, error) {
	out := make([]orderKey, 0, len(in))
	for _, o := range in {
		f := strings.TrimSpace(o.Field)
		if !orderFields[f] {
			return nil, invalid("orderby", "unknown field %q (supported: cluster, namespace, name, created_at, resource_version, group, version, resource, kind, uid)", o.Field)
		}
		out = append(out, orderKey{field: f, desc: o.Desc})
	}
	return out, nil
}

func orderString(keys []orderKey) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.field)
		if k.desc {
			b.WriteString(" desc")
		}
	}
	return b.String()
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseRV reads a resourceVersion as a number; anything else counts as 0 (like SQL's CAST).
func parseRV(s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func cmpField(field string, a, b *Record) int {
	switch field {
	case OrderCluster:
		return cmpString(a.Cluster, b.Cluster)
	case OrderNamespace:
		return cmpString(a.Namespace, b.Namespace)
	case OrderName:
		return cmpString(a.Name, b.Name)
	case OrderCreatedAt:
		return a.Created.Compare(b.Created)
	case OrderResourceVersion:
		x, y := parseRV(a.ResourceVersion), parseRV(b.ResourceVersion)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return cmpString(a.ResourceVersion, b.ResourceVersion)
	case OrderGroup:
		return cmpString(a.GVR.Group, b.GVR.Group)
	case OrderVersion:
		return cmpString(a.GVR.Version, b.GVR.Version)
	case OrderResource:
		return cmpString(a.GVR.Resource, b.GVR.Resource)
	case OrderKind:
		return cmpString(a.Kind, b.Kind)
	case OrderUID:
		return cmpString(a.UID, b.UID)
	}
	return 0
}

// cmpIdentity orders by (cluster, group, version, resource, namespace, name): the identity
// index order and the tie-breaker of every ordering.
func cmpIdentity(a, b *Record) int {
	if c := cmpString(a.Cluster, b.Cluster); c != 0 {
		return c
	}
	if c := cmpString(a.GVR.Group, b.GVR.Group); c != 0 {
		return c
	}
	if c := cmpString(a.GVR.Version, b.GVR.Version); c != 0 {
		return c
	}
	if c := cmpString(a.GVR.Resource, b.GVR.Resource); c != 0 {
		return c
	}
	if c := cmpString(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return cmpString(a.Name, b.Name)
}

func compareRecords(keys []orderKey, a, b *Record) int {
	for _, k := range keys {
		c := cmpField(k.field, a, b)
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return cmpIdentity(a, b)
}

// cursor is where a page starts: after a keyset position or after an offset.
type cursor struct {
	after  *Record // keyset: items strictly after this position
	offset int64   // offset: skip this many matches
}

// continueToken is the JSON inside a keyset continue token.
type continueToken struct {
	V  int      `json:"v"`
	O  string   `json:"o"`  // the orderby the token was issued for
	K  []string `json:"k"`  // values of the order keys of the last item
	ID []string `json:"id"` // identity of the last item
}

const tokenVersion = 1

// maxTokenLen bounds what is decoded from a client.
const maxTokenLen = 16 << 10

func fieldText(field string, r *Record) string {
	switch field {
	case OrderCluster:
		return r.Cluster
	case OrderNamespace:
		return r.Namespace
	case OrderName:
		return r.Name
	case OrderCreatedAt:
		return r.Created.UTC().Format(time.RFC3339Nano)
	case OrderResourceVersion:
		return r.ResourceVersion
	case OrderGroup:
		return r.GVR.Group
	case OrderVersion:
		return r.GVR.Version
	case OrderResource:
		return r.GVR.Resource
	case OrderKind:
		return r.Kind
	case OrderUID:
		return r.UID
	}
	return ""
}

func setFieldText(field string, r *Record, s string) error {
	switch field {
	case OrderCluster:
		r.Cluster = s
	case OrderNamespace:
		r.Namespace = s
	case OrderName:
		r.Name = s
	case OrderCreatedAt:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return err
		}
		r.Created = t
	case OrderResourceVersion:
		r.ResourceVersion = s
	case OrderGroup:
		r.GVR.Group = s
	case OrderVersion:
		r.GVR.Version = s
	case OrderResource:
		r.GVR.Resource = s
	case OrderKind:
		r.Kind = s
	case OrderUID:
		r.UID = s
	}
	return nil
}

// encodeContinue makes the keyset token for a page that ended at last.
func encodeContinue(keys []orderKey, last *Record) string {
	t := continueToken{V: tokenVersion, O: orderString(keys),
		ID: []string{last.Cluster, last.GVR.Group, last.GVR.Version, last.GVR.Resource, last.Namespace, last.Name}}
	for _, k := range keys {
		t.K = append(t.K, fieldText(k.field, last))
	}
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeContinue parses a continue value: a decimal offset, or a keyset token issued for the
// same orderby.
func decodeContinue(s string, keys []orderKey) (cursor, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return cursor{}, nil
	}
	if isDecimal(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return cursor{}, invalid("continue", "offset %q is out of range", s)
		}
		return cursor{offset: n}, nil
	}
	if s[0] == '-' && isDecimal(s[1:]) {
		return cursor{}, invalid("continue", "negative offset %q", s)
	}
	if len(s) > maxTokenLen {
		return cursor{}, invalid("continue", "token is too long (%d bytes)", len(s))
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, invalid("continue", "malformed token: not a continue token of this server or a decimal offset")
	}
	var t continueToken
	if err := json.Unmarshal(raw, &t); err != nil {
		return cursor{}, invalid("continue", "malformed token: not a continue token of this server or a decimal offset")
	}
	if t.V != tokenVersion {
		return cursor{}, invalid("continue", "token version %d is not supported", t.V)
	}
	if t.O != orderString(keys) {
		return cursor{}, invalid("continue", "token was issued for orderby %q, this request orders by %q", t.O, orderString(keys))
	}
	if len(t.ID) != 6 || len(t.K) != len(keys) {
		return cursor{}, invalid("continue", "malformed token: wrong number of key values")
	}
	r := &Record{Cluster: t.ID[0], GVR: GVR{t.ID[1], t.ID[2], t.ID[3]}, Namespace: t.ID[4], Name: t.ID[5]}
	for i, k := range keys {
		if err := setFieldText(k.field, r, t.K[i]); err != nil {
			return cursor{}, invalid("continue", "malformed token: %s value %q", k.field, t.K[i])
		}
	}
	// The identity fields are always the item's own: restore them over the order values.
	r.Cluster, r.GVR, r.Namespace, r.Name = t.ID[0], GVR{t.ID[1], t.ID[2], t.ID[3]}, t.ID[4], t.ID[5]
	return cursor{after: r}, nil
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
