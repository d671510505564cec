package index

import (
	"hash/maphash"
	"math/bits"
)

// This file holds the persistent (immutable, structurally shared) hash map the relationship
// graph is kept in: a hash array mapped trie with 32-way bitmap nodes.
//
// Why not memdb tables: every memdb index entry costs a radix-tree insert with its own
// node copies, and a Pod has about ten relationship entries; storing them as rows would
// cost several times the object's own insert. Instead the whole graph state hangs off one
// pointer that the store publishes together with each commit's read transaction (see
// Store.publish), so it commits and aborts with the objects and every View reads the
// state of its own snapshot.
//
// Writes use "transient" ownership: every node records the edit (one per write
// transaction) that created it, and an edit mutates its own nodes in place instead of
// copying them. Nodes of earlier edits are never modified, so committed states are
// immutable and readers need no locks; a large batch copies each path once.

// pedit identifies one write transaction's mutations. It has a size so that distinct
// edits have distinct addresses.
type pedit struct{ _ uint8 }

var hashSeed = maphash.MakeSeed()

// pkey is a map key with its hash.
type pkey interface {
	comparable
	hash() uint64
}

// skey is a string key.
type skey string

func (k skey) hash() uint64 { return maphash.String(hashSeed, string(k)) }

type pmap[K pkey, V any] struct {
	root *pnode[K, V]
	n    int
}

type pnode[K pkey, V any] struct {
	owner  *pedit
	bitmap uint32
	kids   []pslot[K, V]
}

// pslot is a subtree or a leaf (never both).
type pslot[K pkey, V any] struct {
	sub  *pnode[K, V]
	leaf *pleaf[K, V]
}

// pleaf holds one entry; next chains entries whose 64-bit hashes are equal. Leaves are
// immutable.
type pleaf[K pkey, V any] struct {
	h    uint64
	k    K
	v    V
	next *pleaf[K, V]
}

const pbits = 5

func chunk(h uint64, shift uint) uint32 {
	if shift >= 64 {
		return 0
	}
	return uint32(h>>shift) & 31
}

func (m *pmap[K, V]) len() int { return m.n }

func (m *pmap[K, V]) get(k K) (V, bool) {
	h := k.hash()
	n := m.root
	for shift := uint(0); n != nil; shift += pbits {
		bit := uint32(1) << chunk(h, shift)
		if n.bitmap&bit == 0 {
			break
		}
		s := &n.kids[bits.OnesCount32(n.bitmap&(bit-1))]
		if s.sub != nil {
			n = s.sub
			continue
		}
		for l := s.leaf; l != nil; l = l.next {
			if l.h == h && l.k == k {
				return l.v, true
			}
		}
		break
	}
	var zero V
	return zero, false
}

// getString looks a string key up by its bytes without allocating.
func getString[V any](m *pmap[skey, V], b []byte) (V, bool) {
	h := maphash.Bytes(hashSeed, b)
	n := m.root
	for shift := uint(0); n != nil; shift += pbits {
		bit := uint32(1) << chunk(h, shift)
		if n.bitmap&bit == 0 {
			break
		}
		s := &n.kids[bits.OnesCount32(n.bitmap&(bit-1))]
		if s.sub != nil {
			n = s.sub
			continue
		}
		for l := s.leaf; l != nil; l = l.next {
			if l.h == h && string(l.k) == string(b) {
				return l.v, true
			}
		}
		break
	}
	var zero V
	return zero, false
}

func (m *pmap[K, V]) has(k K) bool {
	_, ok := m.get(k)
	return ok
}

func (n *pnode[K, V]) editable(e *pedit) *pnode[K, V] {
	if n.owner == e {
		return n
	}
	c := allocNode[K, V](e, len(n.kids), len(n.kids)+1)
	c.bitmap = n.bitmap
	copy(c.kids, n.kids)
	return c
}

// Nodes are allocated together with their slot array, in size classes, so a path copy
// costs one allocation per level.
type (
	pnode1[K pkey, V any] struct {
		pnode[K, V]
		buf [1]pslot[K, V]
	}
	pnode2[K pkey, V any] struct {
		pnode[K, V]
		buf [2]pslot[K, V]
	}
	pnode4[K pkey, V any] struct {
		pnode[K, V]
		buf [4]pslot[K, V]
	}
	pnode8[K pkey, V any] struct {
		pnode[K, V]
		buf [8]pslot[K, V]
	}
	pnode16[K pkey, V any] struct {
		pnode[K, V]
		buf [16]pslot[K, V]
	}
	pnode32[K pkey, V any] struct {
		pnode[K, V]
		buf [32]pslot[K, V]
	}
)

// allocNode returns a node owned by e with n slots and room for at least want.
func allocNode[K pkey, V any](e *pedit, n, want int) *pnode[K, V] {
	var p *pnode[K, V]
	switch {
	case want <= 1:
		x := new(pnode1[K, V])
		x.kids = x.buf[:n]
		p = &x.pnode
	case want <= 2:
		x := new(pnode2[K, V])
		x.kids = x.buf[:n]
		p = &x.pnode
	case want <= 4:
		x := new(pnode4[K, V])
		x.kids = x.buf[:n]
		p = &x.pnode
	case want <= 8:
		x := new(pnode8[K, V])
		x.kids = x.buf[:n]
		p = &x.pnode
	case want <= 16:
		x := new(pnode16[K, V])
		x.kids = x.buf[:n]
		p = &x.pnode
	default:
		x := new(pnode32[K, V])
		x.kids = x.buf[:n]
		p = &x.pnode
	}
	p.owner = e
	return p
}

// set stores k → v; it reports whether k is new.
func (m *pmap[K, V]) set(e *pedit, k K, v V) bool {
	h := k.hash()
	if m.root == nil {
		m.root = allocNode[K, V](e, 0, 1)
	} else {
		m.root = m.root.editable(e)
	}
	added := m.root.insert(e, h, 0, k, v)
	if added {
		m.n++
	}
	return added
}

func (n *pnode[K, V]) insert(e *pedit, h uint64, shift uint, k K, v V) bool {
	bit := uint32(1) << chunk(h, shift)
	pos := bits.OnesCount32(n.bitmap & (bit - 1))
	if n.bitmap&bit == 0 {
		n.kids = append(n.kids, pslot[K, V]{})
		copy(n.kids[pos+1:], n.kids[pos:])
		n.kids[pos] = pslot[K, V]{leaf: &pleaf[K, V]{h: h, k: k, v: v}}
		n.bitmap |= bit
		return true
	}
	s := &n.kids[pos]
	if s.sub != nil {
		s.sub = s.sub.editable(e)
		return s.sub.insert(e, h, shift+pbits, k, v)
	}
	l := s.leaf
	if l.h == h {
		// Same full hash: replace in or extend the chain (copied: leaves are immutable).
		var chain *pleaf[K, V]
		found := false
		for x := l; x != nil; x = x.next {
			if x.k == k {
				found = true
				chain = &pleaf[K, V]{h: h, k: k, v: v, next: chain}
			} else {
				chain = &pleaf[K, V]{h: x.h, k: x.k, v: x.v, next: chain}
			}
		}
		if !found {
			chain = &pleaf[K, V]{h: h, k: k, v: v, next: chain}
		}
		s.leaf = chain
		return !found
	}
	// Split: push the existing leaf one level down and insert beside it.
	sub := allocNode[K, V](e, 1, 2)
	sub.bitmap = uint32(1) << chunk(l.h, shift+pbits)
	sub.kids[0] = pslot[K, V]{leaf: l}
	s.sub, s.leaf = sub, nil
	return sub.insert(e, h, shift+pbits, k, v)
}

// del removes k; it reports whether k was present.
func (m *pmap[K, V]) del(e *pedit, k K) bool {
	if !m.has(k) {
		return false
	}
	h := k.hash()
	m.root = m.root.editable(e)
	m.root.remove(e, h, 0, k)
	m.n--
	if m.n == 0 {
		m.root = nil
	}
	return true
}

// remove deletes k, known to be present under n (which is editable).
func (n *pnode[K, V]) remove(e *pedit, h uint64, shift uint, k K) {
	bit := uint32(1) << chunk(h, shift)
	pos := bits.OnesCount32(n.bitmap & (bit - 1))
	s := &n.kids[pos]
	if s.sub != nil {
		sub := s.sub.editable(e)
		sub.remove(e, h, shift+pbits, k)
		switch {
		case len(sub.kids) == 0:
			n.dropSlot(pos, bit)
		case len(sub.kids) == 1 && sub.kids[0].leaf != nil:
			s.sub, s.leaf = nil, sub.kids[0].leaf // collapse a lone leaf upwards
		default:
			s.sub = sub
		}
		return
	}
	var chain *pleaf[K, V]
	for x := s.leaf; x != nil; x = x.next {
		if x.k != k {
			chain = &pleaf[K, V]{h: x.h, k: x.k, v: x.v, next: chain}
		}
	}
	if chain == nil {
		n.dropSlot(pos, bit)
		return
	}
	s.leaf = chain
}

func (n *pnode[K, V]) dropSlot(pos int, bit uint32) {
	copy(n.kids[pos:], n.kids[pos+1:])
	n.kids[len(n.kids)-1] = pslot[K, V]{}
	n.kids = n.kids[:len(n.kids)-1]
	n.bitmap &^= bit
}

// each calls fn for every entry (in hash order) until fn returns false; it reports
// whether the walk completed.
func (m *pmap[K, V]) each(fn func(K, V) bool) bool {
	if m.root == nil {
		return true
	}
	return m.root.each(fn)
}

func (n *pnode[K, V]) each(fn func(K, V) bool) bool {
	for i := range n.kids {
		s := &n.kids[i]
		if s.sub != nil {
			if !s.sub.each(fn) {
				return false
			}
			continue
		}
		for l := s.leaf; l != nil; l = l.next {
			if !fn(l.k, l.v) {
				return false
			}
		}
	}
	return true
}

// keys returns every key (in hash order).
func (m *pmap[K, V]) keys() []K {
	out := make([]K, 0, m.n)
	m.each(func(k K, _ V) bool { out = append(out, k); return true })
	return out
}

// pset is a persistent set of string keys with a value each, held behind a pointer so that
// an edit can grow a set it owns without re-storing it in the enclosing map.
type pset[V any] struct {
	owner *pedit
	m     pmap[skey, V]
}

// editableSet returns s itself when e owns it, else a copy owned by e (nil s: a new set).
func editableSet[V any](s *pset[V], e *pedit) *pset[V] {
	if s == nil {
		return &pset[V]{owner: e}
	}
	if s.owner == e {
		return s
	}
	return &pset[V]{owner: e, m: s.m}
}

func (s *pset[V]) len() int {
	if s == nil {
		return 0
	}
	return s.m.n
}
