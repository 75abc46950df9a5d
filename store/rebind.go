package store

import (
	"strconv"
	"strings"
	"sync"
)

// The store's queries are written with SQLite's placeholders: ? (the next
// number) and ?N (number N, which may repeat). PostgreSQL takes $N. On
// PostgreSQL every query text is rebound once, at the driver (pgdriver.go),
// and the result cached by text: the store's texts are constants or built
// from a few shapes, so the cache stays small (and stops growing at
// maxRebound entries all the same).

// maxRebound bounds the rebind cache.
const maxRebound = 4096

// rebindCache maps a query text to its PostgreSQL text.
type rebindCache struct {
	mu sync.RWMutex
	m  map[string]string
}

// get returns the rebound text of q.
func (c *rebindCache) get(q string) string {
	if strings.IndexByte(q, '?') < 0 {
		return q
	}
	c.mu.RLock()
	out, ok := c.m[q]
	c.mu.RUnlock()
	if ok {
		return out
	}
	out = rebind(q)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]string)
	}
	if len(c.m) < maxRebound {
		c.m[q] = out
	}
	c.mu.Unlock()
	return out
}

// rebind rewrites the placeholders of q from SQLite's ? and ?N to
// PostgreSQL's $N, numbering a bare ? one past the largest number so far as
// SQLite does. Question marks inside string literals, quoted identifiers
// and comments are left alone.
func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	last := 0 // the largest placeholder number so far
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := closingQuote(q, i)
			b.WriteString(q[i:j])
			i = j - 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end - 1
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			n := last + 1
			if j > i+1 {
				n, _ = strconv.Atoi(q[i+1 : j]) // digits only: cannot fail short of overflow
			}
			last = max(last, n)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// closingQuote returns the index just past the literal or identifier that
// opens at q[i] (a doubled quote stays inside it), or len(q).
func closingQuote(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		if q[j] != quote {
			continue
		}
		if j+1 < len(q) && q[j+1] == quote {
			j++
			continue
		}
		return j + 1
	}
	return len(q)
}
