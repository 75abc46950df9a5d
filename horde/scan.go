package horde

import "github.com/google/btree"

// cursorBatch is how many entries a cursor reads from its tree at a time.
const cursorBatch = 32

// cursor walks one tree in order, a batch at a time, so that several trees
// can be merged without a pull iterator.
type cursor struct {
	tree *btree.BTreeG[qentry]
	buf  []qentry
	pos  int
	end  bool
}

// head returns the cursor's current entry, reading the next batch if needed.
func (c *cursor) head() (qentry, bool) {
	if c.pos < len(c.buf) {
		return c.buf[c.pos], true
	}
	if c.end {
		return qentry{}, false
	}
	var last qentry
	hasLast := len(c.buf) > 0
	if hasLast {
		last = c.buf[len(c.buf)-1]
	}
	c.buf, c.pos = c.buf[:0], 0
	add := func(e qentry) bool {
		if hasLast && !qless(last, e) {
			return true // the pivot itself, already seen
		}
		c.buf = append(c.buf, e)
		return len(c.buf) < cursorBatch
	}
	if hasLast {
		c.tree.AscendGreaterOrEqual(last, add)
	} else {
		c.tree.Ascend(add)
	}
	if len(c.buf) < cursorBatch {
		c.end = true
	}
	if len(c.buf) == 0 {
		return qentry{}, false
	}
	return c.buf[0], true
}

// merger yields the entries of several trees in one priority order (a k-way
// merge over cursors, kept as a binary heap on their heads). The trees must
// not change while it is used.
type merger []*cursor

func newMerger(trees []*btree.BTreeG[qentry]) *merger {
	m := make(merger, 0, len(trees))
	for _, t := range trees {
		c := &cursor{tree: t, buf: make([]qentry, 0, cursorBatch)}
		if _, ok := c.head(); ok {
			m = append(m, c)
		}
	}
	for i := len(m)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return &m
}

// next returns the next entry in priority order.
func (m *merger) next() (qentry, bool) {
	h := *m
	if len(h) == 0 {
		return qentry{}, false
	}
	c := h[0]
	e := c.buf[c.pos]
	c.pos++
	if _, ok := c.head(); !ok {
		last := len(h) - 1
		h[0] = h[last]
		*m = h[:last]
	}
	m.down(0)
	return e, true
}

func (m merger) less(i, j int) bool {
	return qless(m[i].buf[m[i].pos], m[j].buf[m[j].pos])
}

// down restores the heap order below i.
func (m merger) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(m) {
			return
		}
		best := l
		if r := l + 1; r < len(m) && m.less(r, l) {
			best = r
		}
		if !m.less(best, i) {
			return
		}
		m[i], m[best] = m[best], m[i]
		i = best
	}
}
