package horde

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/btree"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// MaxWorkerNameLength bounds a worker's name (the pop defaults and limits are
// the AI Horde's, in horde/aihorde).
const MaxWorkerNameLength = 100

// Pop hands up to p.Amount matching jobs to the worker named p.Name of the
// credential's user (created on first pop, as on the AI Horde, within the
// owner's worker limit: KindForbidden, code TooManyWorkers past it).
// Anonymous: KindForbidden. A worker key for another worker: KindForbidden.
// No job is not an error: the assignments are empty and skipped says why.
//
// All the assignments of one pop are items of one request (the AI Horde's
// batch: one payload, several ids), in item order. Each job is stored
// (StartJob) before Pop returns it.
func (h *Horde) Pop(ctx context.Context, c Credential, p PopRequest) ([]Assignment, Skipped, error) {
	if c.User.Anonymous() {
		return nil, nil, Errorf(KindForbidden, "AnonForbidden", "the anonymous user cannot run a worker; register and use your own API key")
	}
	if err := normalizePop(&p); err != nil {
		return nil, nil, err
	}
	ws, err := h.popWorker(ctx, c, p)
	if err != nil {
		return nil, nil, err
	}
	now := h.clock.Now()
	skipped := Skipped{}

	h.mu.Lock()
	h.announce(ws, c.User, p, now)
	if p.RequireUpfrontKudos {
		h.upfrontAt = now
	}
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
		return h.popShared(ctx, ws, &p, skipped, now)
	}
	r := h.choose(ws, &p, skipped)
	if r == nil {
		h.countOtherModels(ws, skipped)
		h.mu.Unlock()
		return nil, skipped, nil
	}
	jobs := h.take(r, ws, batchSize(ws, r, p.Amount), now)
	r.starting++
	h.mu.Unlock()

	// Durable before acknowledged: only stored jobs are handed out.
	stored := 0
	var werr error
	for _, oj := range jobs {
		if werr = h.store.StartJob(ctx, oj.job); werr != nil {
			break
		}
		stored++
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	r.starting--
	h.cond.Broadcast()
	if stored < len(jobs) {
		h.untake(jobs[stored:])
		h.log.Error("start job", "request", r.req.ID, "worker", ws.w.ID, "err", werr)
		if stored == 0 {
			return nil, skipped, fmt.Errorf("start job of request %s: %w", r.req.ID, werr)
		}
	}
	h.stats.of(r.req.Kind).jobsPopped.Add(int64(stored))
	out := make([]Assignment, 0, stored)
	for _, oj := range jobs[:stored] {
		out = append(out, Assignment{Job: oj.job, Request: r.view(), TTL: r.ttl})
	}
	return out, skipped, nil
}

// normalizePop validates a pop and fills in the AI Horde's defaults.
func normalizePop(p *PopRequest) error {
	if p.Kind != KindImage && p.Kind != KindText {
		return Invalidf("kind", "unknown worker kind %q", p.Kind)
	}
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
	if p.MaxPixels <= 0 {
		p.MaxPixels = aihorde.DefaultMaxPixels
	}
	if p.MaxLength <= 0 {
		p.MaxLength = aihorde.DefaultWorkerMaxLength
	}
	if p.MaxContextLength <= 0 {
		p.MaxContextLength = aihorde.DefaultWorkerMaxContextLength
	}
	p.Models = cleanList(p.Models)
	return nil
}

// cleanList trims names and drops empty and repeated ones, keeping order.
func cleanList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// popWorker finds the worker a pop acts as, creating it on a user key's first
// pop under that name, and checks that the credential may act as it.
func (h *Horde) popWorker(ctx context.Context, c Credential, p PopRequest) (*workerState, error) {
	for attempt := 0; ; attempt++ {
		h.mu.Lock()
		ws := h.workerNames[p.Name]
		if c.WorkerID != "" {
			bound := h.workers[c.WorkerID]
			if bound == nil || ws != bound {
				h.mu.Unlock()
				return nil, wrongWorkerName(bound)
			}
		}
		if ws != nil {
			defer h.mu.Unlock()
			if ws.w.OwnerID != c.User.ID {
				return nil, Errorf(KindForbidden, "WrongCredentials", "the worker name %q belongs to another user", p.Name)
			}
			if ws.w.Kind != p.Kind {
				return nil, Errorf(KindInvalid, "WrongWorkerType", "worker %q is a %s worker", p.Name, ws.w.Kind)
			}
			return ws, nil
		}
		h.mu.Unlock()

		ws, err := h.createPopWorker(ctx, c.User, p)
		if IsKind(err, KindConflict) && attempt == 0 {
			if h.shared() {
				// Perhaps created by another process: read it.
				if err := h.loadWorkers(ctx); err != nil {
					return nil, err
				}
			}
			continue // created concurrently: take the other pop's worker
		}
		return ws, err
	}
}

// wrongWorkerName is the refusal of a pop under another name than the one
// the worker key was registered with: it names the expected name and the
// setting of each worker that holds it, so that the owner can fix it.
func wrongWorkerName(bound *workerState) error {
	if bound == nil {
		return Errorf(KindForbidden, "WrongCredentials",
			"the worker this API key was registered for no longer exists; register a worker again with /worker register")
	}
	return Errorf(KindForbidden, "WrongCredentials",
		"this API key belongs to worker `%s`; set dreamer_name (horde-worker-reGen, AI-Horde-Worker), kai_name (KoboldAI bridge) or --name (hordeworker) to it",
		bound.w.Name)
}

// createPopWorker creates the worker a user key's first pop under a new
// name acts as, within the owner's worker limit (see workerLimit). A name
// taken meanwhile is KindConflict.
func (h *Horde) createPopWorker(ctx context.Context, owner User, p PopRequest) (*workerState, error) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	_, taken := h.workerNames[p.Name]
	limitErr := h.workerLimit(owner)
	h.mu.Unlock()
	switch {
	case taken:
		return nil, Errorf(KindConflict, "WorkerNameTaken", "a worker named %q already exists", p.Name)
	case limitErr != nil:
		return nil, limitErr
	}
	w := Worker{ID: newID(), Name: p.Name, OwnerID: owner.ID, Kind: p.Kind, Trusted: owner.Trusted, CreatedAt: h.clock.Now()}
	err := h.store.SaveWorker(ctx, w)
	if IsKind(err, KindConflict) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("create worker %q: %w", p.Name, err)
	}
	h.log.Info("worker created on first pop", "worker", w.ID, "name", w.Name, "owner", w.OwnerID, "kind", w.Kind)
	h.mu.Lock()
	ws := &workerState{w: w, validatedBackend: IsValidatedBackend(w.BridgeAgent)}
	h.workers[w.ID] = ws
	h.workerNames[w.Name] = ws
	h.mu.Unlock()
	return ws, nil
}

// announce refreshes a worker's capabilities and uptime from its pop. Caller holds h.mu.
func (h *Horde) announce(ws *workerState, owner User, p PopRequest, now time.Time) {
	w := &ws.w
	h.countUptime(ws, now)
	w.LastPop = now
	if ws.limitMaxSteps != p.LimitMaxSteps || ws.extraSlow != p.ExtraSlowWorker || ws.stepLimit == 0 ||
		!slices.Equal(w.Models, p.Models) {
		ws.limitMaxSteps, ws.extraSlow = p.LimitMaxSteps, p.ExtraSlowWorker
		ws.stepLimit = h.lowestAverageSteps(p.Models)
	}
	changed := !slices.Equal(w.Models, p.Models) || !slices.Equal(w.Blacklist, p.Blacklist) ||
		w.MaxPixels != p.MaxPixels || w.NSFW != p.NSFW || w.Threads != p.Threads ||
		w.AllowImg2Img != p.AllowImg2Img || w.AllowPainting != p.AllowPainting ||
		w.AllowPostProcessing != p.AllowPostProcessing || w.AllowLora != p.AllowLora ||
		w.MaxLength != p.MaxLength || w.MaxContextLength != p.MaxContextLength ||
		w.BridgeAgent != p.BridgeAgent || w.Trusted != owner.Trusted
	if !changed {
		return
	}
	w.Models = slices.Clone(p.Models)
	ws.setBlacklist(slices.Clone(p.Blacklist))
	w.MaxPixels, w.NSFW, w.Threads = p.MaxPixels, p.NSFW, p.Threads
	w.AllowImg2Img, w.AllowPainting = p.AllowImg2Img, p.AllowPainting
	w.AllowPostProcessing, w.AllowLora = p.AllowPostProcessing, p.AllowLora
	w.MaxLength, w.MaxContextLength = p.MaxLength, p.MaxContextLength
	w.BridgeAgent = p.BridgeAgent
	ws.validatedBackend = IsValidatedBackend(p.BridgeAgent)
	w.Trusted = owner.Trusted
	ws.dirty, ws.announced = true, true
}

// choose returns the best waiting request the worker may take now, counting
// what it passes over in skipped. It examines at most cfg.PopScanLimit
// entries: first the queues of the worker's owner and (for a trusted
// worker only) of the pop's priority users, then (unless the worker is in
// maintenance) the buckets of its models and the no-model bucket, each walk
// in priority order. The first walk applies every matching rule (canServe),
// so priority users only come first among requests the worker could take
// anyway. Caller holds h.mu.
func (h *Horde) choose(ws *workerState, p *PopRequest, skipped Skipped) *openRequest {
	s := scanner{h: h, ws: ws, upfront: p.RequireUpfrontKudos, budget: h.cfg.PopScanLimit}
	defer s.counts.addTo(skipped)

	s.first = h.firstUsers(ws, p)
	var trees []*btree.BTreeG[qentry]
	for _, u := range s.first {
		if t := h.q.users[userKey{kind: ws.w.Kind, user: u}]; t != nil {
			trees = append(trees, t)
		}
	}
	if r := s.scan(trees, true); r != nil || ws.w.Maintenance {
		return r
	}
	s.firstScanned = len(trees) > 0

	trees = trees[:0]
	add := func(model string) {
		if b := h.q.buckets[bucketKey{kind: ws.w.Kind, model: model}]; b != nil && b.tree.Len() > 0 {
			trees = append(trees, b.tree)
		}
	}
	for _, m := range ws.w.Models {
		add(m)
	}
	add("")
	return s.scan(trees, false)
}

// firstUsers are the users whose requests a pop serves first: the worker's
// owner, then (for a trusted worker) the pop's priority users. Caller holds h.mu.
func (h *Horde) firstUsers(ws *workerState, p *PopRequest) []int64 {
	first := []int64{ws.w.OwnerID}
	for _, name := range h.priorityUsernames(ws, p) {
		if id, ok := parseUsernameID(name); ok && !slices.Contains(first, id) {
			first = append(first, id)
		}
	}
	return first
}

// priorityUsernames is the pop's priority_usernames as honoured: a trusted
// worker's list, nothing for an untrusted one. An untrusted owner naming a
// member could otherwise pull that member's requests on purpose (to report
// their results, or to see their prompts). Caller holds h.mu.
func (h *Horde) priorityUsernames(ws *workerState, p *PopRequest) []string {
	if !ws.w.Trusted {
		return nil
	}
	return p.PriorityUsernames
}

// scanner is one pop's walk over the queue.
type scanner struct {
	h       *Horde
	ws      *workerState
	upfront bool
	budget  int
	counts  skipCounts

	first        []int64 // owner and priority users, served first
	firstScanned bool    // their queues were walked already
	seen         map[*openRequest]struct{}
}

// scan walks trees in merged priority order and returns the first request the
// worker may take. A request sits in several trees when it names several
// models, and in its user's tree too: the seen set, kept only for such
// requests, makes each count once. Caller holds h.mu.
func (s *scanner) scan(trees []*btree.BTreeG[qentry], firstTier bool) *openRequest {
	if len(trees) == 0 {
		return nil
	}
	m := newMerger(trees)
	for s.budget > 0 {
		e, ok := m.next()
		if !ok {
			return nil
		}
		r := e.r
		if firstTier || len(r.buckets) > 1 || (s.firstScanned && slices.Contains(s.first, r.req.UserID)) {
			if s.seen == nil {
				s.seen = make(map[*openRequest]struct{})
			}
			if _, dup := s.seen[r]; dup {
				continue
			}
			s.seen[r] = struct{}{}
		}
		s.budget--
		if s.serves(r, firstTier) {
			return r
		}
	}
	return nil
}

// serves applies every matching rule to a request the walk reached and
// counts why the worker passes it over when it does. In the first tier
// (owner and priority users) the models are checked too; later the request
// was found in one of the worker's model buckets. Caller holds h.mu.
func (s *scanner) serves(r *openRequest, firstTier bool) bool {
	var reason skipReason
	if firstTier {
		reason = canServe(s.ws, r)
	} else {
		reason = canServeModel(s.ws, r) // found in one of the worker's model buckets
	}
	if reason == canServeOK && s.ws.w.Maintenance && r.req.UserID != s.ws.w.OwnerID {
		reason = reasonWorkerID // a worker in maintenance serves only its owner
	}
	if reason == canServeOK && s.upfront && s.h.balances[r.req.UserID] < r.itemCost {
		reason = reasonKudos
	}
	if reason == canServeOK {
		return true
	}
	s.counts[reason]++
	return false
}

// countOtherModels adds to skipped["models"] the waiting requests in the
// buckets of models the worker does not offer, which a pop never examines.
// Only a pop that found nothing pays for it; a request naming several such
// models counts once per model. Caller holds h.mu.
func (h *Horde) countOtherModels(ws *workerState, skipped Skipped) {
	n := 0
	for k, b := range h.q.buckets {
		if k.kind == ws.w.Kind && k.model != "" && !ws.w.HasModel(k.model) {
			n += b.tree.Len()
		}
	}
	if n > 0 {
		skipped[SkipModels] += n
	}
}

// parseUsernameID reads the id from an AI Horde username "name#id".
func parseUsernameID(s string) (int64, bool) {
	i := strings.LastIndexByte(s, '#')
	if i < 0 {
		return 0, false
	}
	id, err := strconv.ParseInt(s[i+1:], 10, 64)
	return id, err == nil
}

// take marks up to amount waiting items of r processing for worker ws and
// returns their jobs (not yet stored). Caller holds h.mu.
func (h *Horde) take(r *openRequest, ws *workerState, amount int, now time.Time) []*openJob {
	model := pickModel(&ws.w, &r.req)
	var jobs []*openJob
	for i, st := range r.items {
		if len(jobs) == amount {
			break
		}
		if st != ItemWaiting {
			continue
		}
		r.items[i] = ItemProcessing
		oj := &openJob{job: newJob(r, ws, model, i, now), r: r}
		h.jobs[oj.job.ID] = oj
		r.addJob(oj)
		jobs = append(jobs, oj)
	}
	r.processing += len(jobs)
	r.state = RequestProcessing
	h.q.setWaiting(r, -len(jobs))
	h.q.touch(r, now)
	return jobs
}

// newJob is the job of item i of r for worker ws, running model, popped now.
func newJob(r *openRequest, ws *workerState, model string, i int, now time.Time) Job {
	j := Job{
		ID:        newID(),
		RequestID: r.req.ID,
		Item:      i,
		WorkerID:  ws.w.ID,
		Model:     model,
		State:     JobProcessing,
		StartedAt: now,
		Deadline:  now.Add(r.ttl),
	}
	if r.req.Image != nil {
		j.Seed = itemSeed(r.seedBase, r.req.Image.SeedVariation, i, len(r.items))
	}
	return j
}

// batchSize is how many items of r a pop asking for amount takes: the AI
// Horde's get_safe_amount. An image batch is bounded by what the worker's
// max_pixels says of its memory (max_pixels/3.5 per job it asked for,
// over the request's pixels, grown 40% for each post-processor and 80%
// more for a heavy one, and by the model's batching multiplier), at least
// one; disable_batching is one. Text jobs batch as asked.
func batchSize(ws *workerState, r *openRequest, amount int) int {
	if r.req.DisableBatching || amount <= 1 {
		return 1
	}
	p := r.req.Image
	if p == nil || p.Pixels() <= 0 {
		return amount
	}
	cost := float64(p.Pixels()) * (1 + 0.4*float64(len(p.PostProcessing)))
	for _, pp := range p.PostProcessing {
		if heavyPostProcessors[pp] {
			cost *= 1.8
			break
		}
	}
	mult := 1.0
	for _, m := range r.req.Models {
		mult = max(mult, batchingMultipliers[m])
	}
	cost *= mult
	n := int(math.Round(float64(ws.w.MaxPixels) / 3.5 * float64(amount) / cost))
	return min(max(n, 1), amount)
}

// heavyPostProcessors are the AI Horde's post-processors that need a lot of
// memory, so that a worker batches fewer jobs that use them.
var heavyPostProcessors = map[string]bool{
	"RealESRGAN_x4plus": true, "RealESRGAN_x4plus_anime_6B": true, "NMKD_Siax": true, "4x_AnimeSharp": true,
	"CodeFormers": true, "4xNomos8kSC": true, "4xLSDIRplus": true, "4xNomos2_hq_dat2": true, "RestoreFormer": true,
}

// batchingMultipliers are the AI Horde's BASELINE_BATCHING_MULTIPLIERS: the
// large models a batch counts several times. Like the AI Horde, they are
// looked up by the request's model names.
var batchingMultipliers = map[string]float64{"flux_1": 5, "qwen_image": 10, "z_image_turbo": 8}

// untake undoes take for jobs that could not be stored. Caller holds h.mu.
func (h *Horde) untake(jobs []*openJob) {
	for _, oj := range jobs {
		r := oj.r
		delete(h.jobs, oj.job.ID)
		delete(r.jobs, oj.job.ID)
		r.items[oj.job.Item] = ItemWaiting
		r.processing--
		if r.processing == 0 && r.done == 0 {
			r.state = RequestWaiting
		}
		h.q.setWaiting(r, 1)
	}
}
