package horde

import (
	"math"
	"time"

	"github.com/google/btree"
)

// The queue index holds the waiting requests in memory; it is authoritative
// for what is waiting (the store is authoritative for what happened) and is
// rebuilt from the store's Snapshot at New.
//
// Every waiting request sits in one ordered tree per model it names, keyed by
// (kind, model); a request naming no model sits in the (kind, "") bucket. It
// also sits in one tree per (kind, requester), so that a worker serves its
// owner's requests first without scanning. Trees are ordered by a static
// priority key, then FIFO.

// bucketKey names one queue bucket.
type bucketKey struct {
	kind  RequestKind
	model string // "" for requests that name no model
}

// userKey names one requester's queue.
type userKey struct {
	kind RequestKind
	user int64
}

// qentry is one request's position in a tree. Equal scores are ordered by
// the request's seq, read through r (it never changes): the entry stays at
// 16 bytes, and a waiting request has one in each of its trees.
type qentry struct {
	score int64
	r     *openRequest
}

// qless orders entries: higher score first, then older (lower seq) first.
func qless(a, b qentry) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.r.seq < b.r.seq
}

// ageingPerSecond is the AI Horde's ageing bonus: +50 priority every 10 s
// of waiting, applied to every waiting request.
const ageingPerSecond = 5

// maxPriority bounds the kudos part of the score so that it cannot overflow.
const maxPriority = 1e12

// priorityScore is the static queue key of a request. Adding the ageing bonus
// to every waiting request at every tick is the same order as ranking by
// kudos - 5*submitSeconds, which never changes: no re-keying is needed. The
// score is in thousandths of a kudo so that millisecond submit times order
// correctly.
func priorityScore(kudos int64, submitted time.Time) int64 {
	k := float64(kudos)
	k = math.Max(-maxPriority, math.Min(maxPriority, k))
	return int64(k)*1000 - ageingPerSecond*submitted.UnixMilli()
}

// bucket is one (kind, model) tree with running totals of its waiting items
// (a request naming several models counts in each of its buckets).
type bucket struct {
	tree  *btree.BTreeG[qentry]
	items int     // waiting items
	work  float64 // waiting megapixel-steps or tokens
}

// actEntry keys the expiry tree: oldest activity first, then by seq.
type actEntry struct {
	at int64 // unix nanoseconds of the last pop or of creation
	r  *openRequest
}

func actLess(a, b actEntry) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.r.seq < b.r.seq
}

// btreeDegree suits trees of up to a few hundred thousand small items.
const btreeDegree = 32

// queueIndex is the set of trees. It is not safe for concurrent use: Horde.mu guards it.
type queueIndex struct {
	buckets  map[bucketKey]*bucket
	users    map[userKey]*btree.BTreeG[qentry]
	activity *btree.BTreeG[actEntry]
	free     *btree.FreeListG[qentry]
	requests int // requests in the index
	totals   map[RequestKind]*queueTotal
	names    *interned // the model names, client agents and lists the requests share
}

// queueTotal is the waiting work of one kind, each item counted once.
type queueTotal struct {
	items int
	work  float64
}

func (q *queueIndex) total(k RequestKind) *queueTotal {
	t := q.totals[k]
	if t == nil {
		t = &queueTotal{}
		q.totals[k] = t
	}
	return t
}

func newQueueIndex() *queueIndex {
	return &queueIndex{
		buckets:  make(map[bucketKey]*bucket),
		users:    make(map[userKey]*btree.BTreeG[qentry]),
		activity: btree.NewG(btreeDegree, actLess),
		free:     btree.NewFreeListG[qentry](btree.DefaultFreeListSize),
		totals:   make(map[RequestKind]*queueTotal),
		names:    newInterned(),
	}
}

func (q *queueIndex) bucket(k bucketKey) *bucket {
	b := q.buckets[k]
	if b == nil {
		b = &bucket{tree: btree.NewWithFreeListG(btreeDegree, qless, q.free)}
		q.buckets[k] = b
	}
	return b
}

// add puts a request with waiting items into its trees.
func (q *queueIndex) add(r *openRequest) {
	if r.queued || r.waiting == 0 {
		return
	}
	e := r.entry()
	for _, k := range r.buckets {
		b := q.bucket(k)
		b.tree.ReplaceOrInsert(e)
		b.items += r.waiting
		b.work += float64(r.waiting) * r.itemWork
	}
	uk := userKey{kind: r.req.Kind, user: r.req.UserID}
	ut := q.users[uk]
	if ut == nil {
		ut = btree.NewWithFreeListG(btreeDegree, qless, q.free)
		q.users[uk] = ut
	}
	ut.ReplaceOrInsert(e)
	q.activity.ReplaceOrInsert(actEntry{at: r.activity, r: r})
	t := q.total(r.req.Kind)
	t.items += r.waiting
	t.work += float64(r.waiting) * r.itemWork
	r.queued = true
	q.requests++
}

// remove takes a request out of every tree.
func (q *queueIndex) remove(r *openRequest) {
	if !r.queued {
		return
	}
	e := r.entry()
	for _, k := range r.buckets {
		if b := q.buckets[k]; b != nil {
			b.tree.Delete(e)
			b.items -= r.waiting
			b.work -= float64(r.waiting) * r.itemWork
			if b.tree.Len() == 0 {
				b.items, b.work = 0, 0 // no float drift in an empty bucket
			}
		}
	}
	uk := userKey{kind: r.req.Kind, user: r.req.UserID}
	if ut := q.users[uk]; ut != nil {
		ut.Delete(e)
		if ut.Len() == 0 {
			delete(q.users, uk)
		}
	}
	q.activity.Delete(actEntry{at: r.activity, r: r})
	t := q.total(r.req.Kind)
	t.items -= r.waiting
	t.work -= float64(r.waiting) * r.itemWork
	if t.items <= 0 {
		t.items, t.work = 0, 0
	}
	r.queued = false
	q.requests--
}

// setWaiting changes a request's waiting count by delta, keeping the bucket
// totals in step and taking the request out of (or back into) the trees when
// its last waiting item goes (or one comes back).
func (q *queueIndex) setWaiting(r *openRequest, delta int) {
	if !r.queued {
		r.waiting += delta
		if r.waiting > 0 && !r.ending {
			q.add(r)
		}
		return
	}
	r.waiting += delta
	if r.waiting <= 0 {
		r.waiting -= delta // remove subtracts what the buckets hold
		q.remove(r)
		r.waiting += delta
		return
	}
	for _, k := range r.buckets {
		if b := q.buckets[k]; b != nil {
			b.items += delta
			b.work += float64(delta) * r.itemWork
		}
	}
	t := q.total(r.req.Kind)
	t.items += delta
	t.work += float64(delta) * r.itemWork
}

// touch moves a queued request's expiry clock to at.
func (q *queueIndex) touch(r *openRequest, at time.Time) {
	if r.queued {
		q.activity.Delete(actEntry{at: r.activity, r: r})
		q.activity.ReplaceOrInsert(actEntry{at: at.UnixNano(), r: r})
	}
	r.activity = at.UnixNano()
}
