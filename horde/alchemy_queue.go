package horde

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/google/btree"
)

// The alchemy queue holds the open interrogations in memory, guarded by
// Horde.mu like the image and text queue, and is rebuilt from the store at
// New. Every waiting form sits in the tree of its form name and in the tree
// of its requester (a worker serves its owner first), ordered by the same
// static priority key as image requests (the requester's kudos, aged +50
// per 10 s), then FIFO. A pop walks only the trees of the forms it offers.

// alchemyQueue is the open interrogations and their waiting forms.
type alchemyQueue struct {
	reqs   map[string]*openInterrogation // interrogations with an open form
	forms  map[string]*openForm          // waiting and processing forms by id
	byForm map[string]*btree.BTreeG[formEntry]
	byUser map[int64]*btree.BTreeG[formEntry]
	seq    uint64
}

func newAlchemyQueue() *alchemyQueue {
	return &alchemyQueue{
		reqs:   make(map[string]*openInterrogation),
		forms:  make(map[string]*openForm),
		byForm: make(map[string]*btree.BTreeG[formEntry]),
		byUser: make(map[int64]*btree.BTreeG[formEntry]),
	}
}

// openInterrogation is an interrogation with an open form. in.Forms is not
// kept up to date: the forms are.
type openInterrogation struct {
	in    Interrogation
	forms []*openForm // every form, in index order
	// finishMu serialises the writes that end forms or the interrogation
	// (submit, fault, abort, cancel, expiry). Lock it before Horde.mu.
	finishMu sync.Mutex
	// Guarded by Horde.mu.
	activity time.Time // creation or the last pop: the expiry clock
	ending   bool      // a cancel or an expiry is being written
}

// open is how many forms of the interrogation are waiting or processing.
// Caller holds h.mu.
func (oi *openInterrogation) open() (waiting, processing int) {
	for _, of := range oi.forms {
		switch of.f.State {
		case FormWaiting:
			waiting++
		case FormProcessing:
			processing++
		}
	}
	return waiting, processing
}

// openForm is one form's state in memory. Guarded by Horde.mu.
type openForm struct {
	f      AlchemyForm
	oi     *openInterrogation
	seq    uint64
	busy   bool // a submit, an abort or an upload's settle is being written
	queued bool
}

// formEntry is a waiting form's key in the trees.
type formEntry struct {
	score int64
	f     *openForm
}

func formLess(a, b formEntry) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.f.seq < b.f.seq
}

func (of *openForm) entry() formEntry {
	return formEntry{score: priorityScore(of.oi.in.Priority, of.oi.in.CreatedAt), f: of}
}

// enqueue puts a waiting form into its trees. Caller holds h.mu.
func (q *alchemyQueue) enqueue(of *openForm) {
	if of.queued || of.f.State != FormWaiting {
		return
	}
	e := of.entry()
	t := q.byForm[of.f.Name]
	if t == nil {
		t = btree.NewG(btreeDegree, formLess)
		q.byForm[of.f.Name] = t
	}
	t.ReplaceOrInsert(e)
	u := q.byUser[of.oi.in.UserID]
	if u == nil {
		u = btree.NewG(btreeDegree, formLess)
		q.byUser[of.oi.in.UserID] = u
	}
	u.ReplaceOrInsert(e)
	of.queued = true
}

// dequeue takes a form out of its trees. Caller holds h.mu.
func (q *alchemyQueue) dequeue(of *openForm) {
	if !of.queued {
		return
	}
	e := of.entry()
	if t := q.byForm[of.f.Name]; t != nil {
		t.Delete(e)
		if t.Len() == 0 {
			delete(q.byForm, of.f.Name)
		}
	}
	if u := q.byUser[of.oi.in.UserID]; u != nil {
		u.Delete(e)
		if u.Len() == 0 {
			delete(q.byUser, of.oi.in.UserID)
		}
	}
	of.queued = false
}

// add indexes an interrogation loaded or just created: its open forms go
// into the maps (waiting ones into the trees) and hold their cost against
// the requester. Caller holds h.mu.
func (h *Horde) addInterrogation(in Interrogation) *openInterrogation {
	q := h.alch
	oi := &openInterrogation{in: in, activity: in.CreatedAt}
	oi.in.Forms = nil
	for _, f := range in.Forms {
		q.seq++
		of := &openForm{f: f, oi: oi, seq: q.seq}
		oi.forms = append(oi.forms, of)
		if f.State.Finished() {
			continue
		}
		q.forms[f.ID] = of
		h.holdForms(in.UserID, 1, f.Cost)
		q.enqueue(of)
		if f.StartedAt.After(oi.activity) {
			oi.activity = f.StartedAt
		}
	}
	q.reqs[in.ID] = oi
	return oi
}

// closeForm drops a form that just finished from the maps and its
// requester's hold, and the interrogation when it has no open form left.
// Caller holds h.mu.
func (h *Horde) closeForm(of *openForm) {
	q := h.alch
	q.dequeue(of)
	if _, ok := q.forms[of.f.ID]; ok {
		delete(q.forms, of.f.ID)
		h.holdForms(of.oi.in.UserID, -1, -of.f.Cost)
	}
	if w, p := of.oi.open(); w+p == 0 && q.reqs[of.oi.in.ID] == of.oi {
		delete(q.reqs, of.oi.in.ID)
	}
}

// loadAlchemy rebuilds the alchemy queue from the store.
func (h *Horde) loadAlchemy(ctx context.Context) error {
	if h.shared() {
		return nil // a shared queue's forms are read where they live
	}
	ins, err := h.store.OpenInterrogations(ctx)
	if err != nil {
		return fmt.Errorf("load open interrogations: %w", err)
	}
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].CreatedAt.Before(ins[j].CreatedAt) })
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, in := range ins {
		h.addInterrogation(in)
	}
	return nil
}

// QueuedForms is how many alchemy forms wait (on a shared queue, in every
// process's).
func (h *Horde) QueuedForms(ctx context.Context) (int, error) {
	if h.shared() {
		n, err := h.cfg.Queue.QueuedForms(ctx)
		if err != nil {
			return 0, fmt.Errorf("count the waiting alchemy forms: %w", err)
		}
		return n, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.queuedFormsLocked(), nil
}

func (h *Horde) queuedFormsLocked() int {
	n := 0
	for _, t := range h.alch.byForm {
		n += t.Len()
	}
	return n
}
