package horde

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/google/btree"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// PopAlchemy hands up to p.Amount waiting forms that the alchemist named
// p.Name offers to it (created on the first pop of a user key, as image
// workers are). Its owner's forms come first (and, for a trusted worker,
// those of its priority users), then the others in priority order. A form
// is skipped when its request wants trusted workers and the worker is not
// (skipped "untrusted"), when its source has more tiles than the worker's
// max_tiles, when the worker is slow and the request refuses slow workers,
// and when the worker is in maintenance and the form is not its owner's
// (skipped "worker_id"). Each form is stored processing before it is
// returned. Anonymous: KindForbidden; a worker of another kind under the
// name: KindInvalid "WrongWorkerType".
func (h *Horde) PopAlchemy(ctx context.Context, c Credential, p AlchemyPop) ([]AlchemyAssignment, Skipped, error) {
	if c.User.Anonymous() {
		return nil, nil, Errorf(KindForbidden, "AnonForbidden", "the anonymous user cannot run a worker; register and use your own API key")
	}
	if err := normalizeAlchemyPop(&p); err != nil {
		return nil, nil, err
	}
	ws, err := h.popWorker(ctx, c, PopRequest{Kind: KindAlchemy, Name: p.Name})
	if err != nil {
		return nil, nil, err
	}
	now := h.clock.Now()
	skipped := Skipped{}

	h.mu.Lock()
	h.announceAlchemist(ws, c.User, p, now)
	if h.shared() {
		h.mu.Unlock()
		h.announceShared(ctx, ws, now)
		h.mu.Lock()
	}
	if ws.w.Paused {
		h.mu.Unlock()
		return nil, skipped, nil
	}
	if h.shared() {
		h.mu.Unlock()
		return h.popAlchemyShared(ctx, ws, p, skipped, now)
	}
	picked := h.chooseForms(ws, p, skipped)
	for _, of := range picked {
		h.alch.dequeue(of)
		of.f.State = FormProcessing
		of.f.WorkerID = ws.w.ID
		of.f.WorkerName = ws.w.Name
		of.f.StartedAt = now
		of.f.Deadline = now.Add(AlchemyFormTTL)
		of.busy = true // until stored
		of.oi.activity = now
	}
	h.mu.Unlock()

	stored := picked[:0:0]
	var werr error
	for _, of := range picked {
		if err := h.store.StartAlchemyForm(ctx, of.f.ID, ws.w.ID, of.f.StartedAt, of.f.Deadline); err != nil {
			werr = err
			h.mu.Lock()
			h.untakeForm(of)
			h.mu.Unlock()
			continue
		}
		stored = append(stored, of)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]AlchemyAssignment, 0, len(stored))
	for _, of := range stored {
		of.busy = false
		out = append(out, AlchemyAssignment{Form: copyForm(of.f), SourceRef: of.oi.in.SourceRef, Width: of.oi.in.Width, Height: of.oi.in.Height})
	}
	if len(out) == 0 && werr != nil && !duplicate(werr) {
		return nil, skipped, fmt.Errorf("start alchemy form: %w", werr)
	}
	return out, skipped, nil
}

// untakeForm puts a form whose start could not be stored back to waiting,
// unless it was closed meanwhile (its interrogation cancelled). Caller
// holds h.mu.
func (h *Horde) untakeForm(of *openForm) {
	of.busy = false
	if h.alch.forms[of.f.ID] != of || of.f.State != FormProcessing || of.oi.ending {
		return
	}
	of.f.State = FormWaiting
	of.f.WorkerID, of.f.WorkerName = "", ""
	of.f.StartedAt, of.f.Deadline = time.Time{}, time.Time{}
	h.alch.enqueue(of)
}

// normalizeAlchemyPop validates an alchemist's pop and fills in the AI
// Horde's defaults: amount 1, threads 1, max_tiles 16, forms ["caption"].
// Forms hordebot does not serve are left out (an alchemist offering more
// than hordebot asks for is no error).
func normalizeAlchemyPop(p *AlchemyPop) error {
	name, err := ValidWorkerName(p.Name)
	if err != nil {
		return err
	}
	p.Name = name
	switch {
	case p.Amount == 0:
		p.Amount = 1
	case p.Amount < 0 || p.Amount > aihorde.MaxPopAmount:
		return Invalidf("amount", "amount must be between 1 and %d", aihorde.MaxPopAmount)
	}
	if p.Threads <= 0 {
		p.Threads = 1
	}
	switch {
	case p.MaxTiles == 0:
		p.MaxTiles = DefaultAlchemistMaxTiles
	case p.MaxTiles < 1 || p.MaxTiles > MaxAlchemistMaxTiles:
		return Invalidf("max_tiles", "max_tiles must be between 1 and %d", MaxAlchemistMaxTiles)
	}
	forms := cleanList(p.Forms)
	if len(forms) == 0 {
		forms = []string{FormCaption}
	}
	p.Forms = forms[:0]
	for _, f := range forms {
		if KnownForm(f) {
			p.Forms = append(p.Forms, f)
		}
	}
	return nil
}

// announceAlchemist refreshes an alchemist's capabilities and uptime from
// its pop: its forms are its Models. Caller holds h.mu.
func (h *Horde) announceAlchemist(ws *workerState, owner User, p AlchemyPop, now time.Time) {
	w := &ws.w
	h.countUptime(ws, now)
	w.LastPop = now
	ws.maxTiles = p.MaxTiles
	if slices.Equal(w.Models, p.Forms) && w.Threads == p.Threads && w.BridgeAgent == p.BridgeAgent && w.Trusted == owner.Trusted {
		return
	}
	w.Models = slices.Clone(p.Forms)
	w.Threads, w.BridgeAgent, w.Trusted = p.Threads, p.BridgeAgent, owner.Trusted
	ws.validatedBackend = IsValidatedBackend(p.BridgeAgent)
	ws.dirty, ws.announced = true, true
}

// chooseForms picks up to p.Amount waiting forms for ws, counting what it
// skips. It examines at most cfg.PopScanLimit entries. Caller holds h.mu.
func (h *Horde) chooseForms(ws *workerState, p AlchemyPop, skipped Skipped) []*openForm {
	offered := make(map[string]bool, len(p.Forms))
	for _, f := range p.Forms {
		offered[f] = true
	}
	budget := h.cfg.PopScanLimit
	var picked []*openForm
	taken := make(map[*openForm]bool)
	// walk collects up to want servable forms of t, in priority order.
	walk := func(t *btree.BTreeG[formEntry], want int) []*openForm {
		var got []*openForm
		t.Ascend(func(e formEntry) bool {
			if budget <= 0 || len(got) == want {
				return false
			}
			of := e.f
			if taken[of] || !offered[of.f.Name] {
				return true
			}
			budget--
			if reason := canServeForm(ws, of); reason != "" {
				if reason != skipSilently {
					skipped[reason]++
				}
				return true
			}
			got = append(got, of)
			return true
		})
		return got
	}
	// best merges candidates from several trees and takes the best.
	best := func(cands []*openForm) {
		sort.Slice(cands, func(i, j int) bool { return formLess(cands[i].entry(), cands[j].entry()) })
		for _, of := range cands {
			if len(picked) == p.Amount {
				return
			}
			if !taken[of] {
				taken[of] = true
				picked = append(picked, of)
			}
		}
	}

	first := firstAlchemyUsers(ws, p)
	var cands []*openForm
	for _, u := range first {
		if t := h.alch.byUser[u]; t != nil {
			cands = append(cands, walk(t, p.Amount)...)
		}
	}
	best(cands)
	if len(picked) == p.Amount || ws.w.Maintenance {
		return picked
	}
	cands = cands[:0]
	for _, f := range p.Forms {
		if t := h.alch.byForm[f]; t != nil {
			cands = append(cands, walk(t, p.Amount-len(picked))...)
		}
	}
	best(cands)
	return picked
}

// firstAlchemyUsers are the users whose forms an alchemist takes first: its
// owner's and, for a trusted one, its priority users'. Caller holds h.mu.
func firstAlchemyUsers(ws *workerState, p AlchemyPop) []int64 {
	first := []int64{ws.w.OwnerID}
	if ws.w.Trusted {
		for _, name := range p.PriorityUsernames {
			if id, ok := parseUsernameID(name); ok && !slices.Contains(first, id) {
				first = append(first, id)
			}
		}
	}
	return first
}

// skipSilently is a skip reason the AI Horde does not report (it filters
// such forms out in its query: max_tiles, speed).
const skipSilently = "-"

// canServeForm says why ws may not take of ("" if it may). Caller holds h.mu.
func canServeForm(ws *workerState, of *openForm) string {
	if of.oi.ending {
		return skipSilently
	}
	return canServeInterrogation(ws, &of.oi.in)
}

// canServeInterrogation says why ws may not take a form of in ("" if it
// may). Caller holds h.mu.
func canServeInterrogation(ws *workerState, in *Interrogation) string {
	switch {
	case in.TrustedWorkers && !ws.w.Trusted:
		return SkipUntrusted
	case ws.w.Maintenance && in.UserID != ws.w.OwnerID:
		return SkipWorkerID
	case in.Tiles > max(ws.maxTiles, 1):
		return skipSilently
	case !in.SlowWorkers && ws.w.Performance >= SlowAlchemistSeconds:
		return skipSilently
	}
	return ""
}

// copyForm is a copy of f that shares no map with it.
func copyForm(f AlchemyForm) AlchemyForm {
	f.Payload = maps.Clone(f.Payload)
	return f
}
