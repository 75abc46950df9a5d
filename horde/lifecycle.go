package horde

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// MaxUploadBytes bounds one uploaded or inline result image.
const MaxUploadBytes = 32 << 20

// performanceWeight is the weight of the newest job in a worker's
// exponentially weighted moving average of throughput.
const performanceWeight = 0.3

// SubmitResult records a job's result and returns the worker's reward.
// Faulted results re-queue the item. A second submit is KindConflict; an
// unknown job KindNotFound; a job of another worker KindForbidden.
//
// A result is written in one transaction with its ledger entries, which
// kudos.PaymentRules.SettleJob decides: an ok result charges the requester
// the item's cost (never past their floor) and pays the worker's owner what
// was charged (nothing while the worker is paused; part of it held in escrow
// while the owner is not trusted); a censored or csam result moves no kudos.
// The returned reward is the whole of it. Then the moderation checks run (moderation.go, trust.go): csam and
// censored results are strikes against the requester, too-fast results
// raise the worker's suspicion, and the owner progresses toward trust.
func (h *Horde) SubmitResult(ctx context.Context, c Credential, s Submission) (int64, error) {
	s.JobID = strings.TrimSpace(s.JobID)
	if s.JobID == "" {
		return 0, Invalidf("id", "a job id is required")
	}
	switch s.State {
	case "":
		s.State = ResultOK
	case ResultOK, ResultCensored, ResultFaulted, ResultCSAM:
	default:
		return 0, Invalidf("state", "unknown state %q: want ok, censored, faulted or csam", s.State)
	}
	s.State, s.Metadata = censorship(s.State, s.Metadata)
	if len(s.Image) > MaxUploadBytes {
		return 0, Invalidf("generation", "the image is larger than %d bytes", MaxUploadBytes)
	}
	oj, err := h.claimJob(ctx, c, s.JobID)
	if err != nil {
		return 0, err
	}
	if s.Seed == nil {
		// Resolved now, so that a deferred R2 submit stores the seed it settles with.
		seed := oj.job.Seed
		s.Seed = &seed
	}
	if kind := oj.r.req.Kind; s.Kind != "" && s.Kind != kind {
		h.release(oj)
		return 0, Invalidf("id", "job %s is a %s job; submit it to the %s submit route", oj.job.ID, kind, kind)
	}
	if oj.r.req.Kind == KindText && s.State == ResultOK && strings.TrimSpace(s.Text) == "" {
		h.release(oj)
		return 0, Invalidf("generation", "the generation is empty; submit state \"faulted\" if the backend produced nothing")
	}
	if s.State == ResultFaulted {
		return 0, h.failJob(ctx, oj, JobFaulted)
	}
	if s.UseUpload && oj.r.req.Kind == KindImage {
		// A direct upload to the bucket, if any, is the newest: it replaces
		// what an earlier one left (the worker PUT again after a refusal). A
		// censored result may come without a usable image, as inline.
		if _, err := h.takeDirectUpload(ctx, oj.job.ID); err != nil && (s.State == ResultOK || !IsKind(err, KindInvalid)) {
			h.release(oj)
			return 0, err
		}
	}
	if s.UseUpload && s.State == ResultOK && oj.r.req.Kind == KindImage {
		if _, err := h.store.Upload(ctx, oj.job.ID); notFound(err) {
			return h.deferSubmit(ctx, oj, s)
		} else if err != nil {
			h.release(oj)
			return 0, fmt.Errorf("read upload of job %s: %w", oj.job.ID, err)
		}
	}
	return h.finishJob(ctx, oj, s)
}

// Worker-reported censorship in gen_metadata, as the AI Horde reads it.
const (
	metadataCensorship = "censorship" // gen_metadata type
	censorshipCSAM     = "csam"       // its value for csam; any other value is nsfw
)

// censorship is the state of a result whose gen_metadata may report
// censorship, as the AI Horde reads it (horde/classes/stable/
// processing_generation.py): an ok or censored result with a "censorship"
// entry of value "csam" is csam, with any other value censored. A csam
// result always carries the csam entry, so that clients reading
// gen_metadata see it (as the AI Horde's text results do). A faulted result
// stays faulted.
func censorship(state string, md []GenMetadata) (string, []GenMetadata) {
	if state == ResultFaulted {
		return state, md
	}
	hasCSAM := false
	for _, m := range md {
		if m.Type != metadataCensorship {
			continue
		}
		if m.Value == censorshipCSAM {
			hasCSAM = true
		} else if state == ResultOK {
			state = ResultCensored
		}
	}
	switch {
	case hasCSAM:
		state = ResultCSAM
	case state == ResultCSAM:
		md = append(slices.Clip(md), GenMetadata{Type: metadataCensorship, Value: censorshipCSAM})
	}
	return state, md
}

// claimJob finds a processing job, checks that c may submit it and marks it
// busy so that a concurrent second submit is refused.
func (h *Horde) claimJob(ctx context.Context, c Credential, jobID string) (*openJob, error) {
	h.mu.Lock()
	oj := h.jobs[jobID]
	if oj == nil {
		h.mu.Unlock()
		if h.shared() {
			return h.claimShared(ctx, c, jobID)
		}
		return nil, h.closedJobError(ctx, jobID)
	}
	defer h.mu.Unlock()
	if err := h.maySubmit(c, oj); err != nil {
		return nil, err
	}
	switch {
	case oj.busy:
		return nil, Errorf(KindConflict, "DuplicateGen", "this job is already being submitted")
	case oj.pending != nil:
		return nil, Errorf(KindConflict, "DuplicateGen", "this job was already submitted and waits for its upload")
	}
	oj.busy = true
	return oj, nil
}

// maySubmit checks that c may submit job oj: its worker's key, or its
// owner's. Caller holds h.mu.
func (h *Horde) maySubmit(c Credential, oj *openJob) error {
	ws := h.workers[oj.job.WorkerID]
	if c.WorkerID != "" && c.WorkerID != oj.job.WorkerID ||
		c.WorkerID == "" && (ws == nil || ws.w.OwnerID != c.User.ID) {
		return Errorf(KindForbidden, "WrongCredentials", "this job belongs to another worker")
	}
	return nil
}

// closedJobError explains why a job id is not processing: unknown, or
// already finished.
func (h *Horde) closedJobError(ctx context.Context, jobID string) error {
	j, err := h.store.Job(ctx, jobID)
	switch {
	case notFound(err):
		return NotFoundf("JobNotFound", "no job has id %s", jobID)
	case err != nil:
		return fmt.Errorf("look up job %s: %w", jobID, err)
	case j.State == JobDone:
		return &Error{Kind: KindConflict, Code: "DuplicateGen", Message: "this job was already submitted", Err: ErrDuplicate}
	default:
		return &Error{Kind: KindConflict, Code: "JobNotProcessing", Message: fmt.Sprintf("this job is %s and takes no result", j.State), Err: ErrDuplicate}
	}
}

// release clears a job's busy mark after a write that changed nothing.
func (h *Horde) release(oj *openJob) {
	h.mu.Lock()
	oj.busy = false
	h.mu.Unlock()
}

// forget drops a job that the store says is no longer processing (it was
// ended by a cancel or expiry that raced with this write).
func (h *Horde) forget(oj *openJob) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.jobs[oj.job.ID]; !ok {
		return
	}
	h.log.Warn("job closed in the store but open in memory", "job", oj.job.ID, "request", oj.r.req.ID)
	delete(h.jobs, oj.job.ID)
	delete(oj.r.jobs, oj.job.ID)
	oj.r.processing--
	oj.r.items[oj.job.Item] = ItemCancelled
	h.releaseItem(oj.r)
}

// duplicate reports whether a store error means "no longer processing".
func duplicate(err error) bool {
	return errors.Is(err, ErrDuplicate) || IsKind(err, KindConflict)
}

// notFound reports whether a store error means "no such row".
func notFound(err error) bool {
	return errors.Is(err, ErrNotFound) || IsKind(err, KindNotFound)
}

// finishJob stores a successful result with its ledger entries.
func (h *Horde) finishJob(ctx context.Context, oj *openJob, s Submission) (int64, error) {
	r := oj.r
	r.finishMu.Lock()
	defer r.finishMu.Unlock()
	now := h.clock.Now()

	h.mu.Lock()
	ws := h.workers[oj.job.WorkerID]
	owner, paused, name, trusted := int64(-1), true, "", false
	if ws != nil {
		owner, paused, name, trusted = ws.w.OwnerID, ws.w.Paused, ws.w.Name, ws.w.Trusted
	}
	last := r.done+1 == len(r.items)
	payStyle := r.req.StyleOwnerID() > 0 && !r.stylePaid
	h.mu.Unlock()

	gen := Generation{
		JobID: oj.job.ID, RequestID: r.req.ID, Item: oj.job.Item,
		WorkerID: oj.job.WorkerID, WorkerName: name, Model: oj.job.Model,
		Seed: oj.job.Seed, State: s.State, Metadata: s.Metadata, CreatedAt: now,
	}
	if s.Seed != nil {
		gen.Seed = *s.Seed // as the worker gave it, 0 included, as the AI Horde stores it
	}
	if r.req.Kind == KindImage {
		ref, err := h.resultImage(ctx, r, oj.job.ID, s)
		if err != nil {
			h.release(oj)
			return 0, err
		}
		gen.BlobRef = ref
	} else {
		gen.Text = s.Text
	}

	job := oj.job
	settle := settlement(oj, s.State, owner, paused, trusted, now)
	if payStyle {
		settle.Style = &kudos.StyleFee{RequestID: r.req.ID, OwnerID: r.req.StyleOwnerID(), Amount: kudos.StyleReward}
	}
	pay := h.pay.SettleJob(settle)
	job.State, job.FinishedAt, job.Kudos = JobDone, now, pay.Reward
	f := JobFinish{Job: job, Generation: gen, RequestState: RequestProcessing, Entries: pay.Entries, Holds: pay.Holds,
		Kind: r.req.Kind, Units: GenerationUnits(r.req)}
	if last {
		f.RequestState = RequestDone
	}
	err := h.store.FinishJob(ctx, f)
	if errors.Is(err, kudos.ErrInsufficient) {
		// The requester's balance fell below what their hold promised (a
		// moderator's adjustment, or a transfer that raced their request):
		// charge what is left above their floor, and the worker earns that.
		pay, err = h.settleShort(ctx, &f, settle)
		job = f.Job
	}
	if duplicate(err) {
		h.forget(oj)
		return 0, &Error{Kind: KindConflict, Code: "DuplicateGen", Message: "this job was already submitted or is no longer processing", Err: err}
	}
	if err != nil {
		h.release(oj)
		return 0, fmt.Errorf("finish job %s: %w", job.ID, err)
	}

	h.mu.Lock()
	delete(h.jobs, job.ID)
	delete(r.jobs, job.ID)
	r.items[job.Item] = ItemDone
	r.processing--
	r.done++
	if pay.StyleCharged > 0 {
		r.stylePaid = true
	}
	h.releaseItem(r)
	if ws != nil && h.workers[ws.w.ID] == ws {
		ws.w.Fulfilled++
		ws.w.KudosEarned += pay.Reward
		ws.dropStreak = 0
		if secs := now.Sub(job.StartedAt).Seconds(); secs > 0 && r.itemWork > 0 {
			rate := r.itemWork / secs
			if ws.w.Performance <= 0 {
				ws.w.Performance = rate
			} else {
				ws.w.Performance += performanceWeight * (rate - ws.w.Performance)
			}
			ws.announced = ws.announced || ws.speedClassChanged()
		}
		ws.dirty = true
	}
	for _, e := range f.Entries {
		if b, ok := h.balances[e.UserID]; ok {
			h.balances[e.UserID] = b + e.Delta
		}
	}
	h.recordCompletion(now, r.req.Kind, r.itemWork)
	requestDone := r.done == len(r.items)
	if requestDone {
		r.state = RequestDone
		h.q.remove(r)
		delete(h.reqs, r.req.ID)
		delete(h.parsed, r.req.ID)
	}
	h.mu.Unlock()

	st := h.stats.of(r.req.Kind)
	st.jobsDone.Add(1)
	st.kudosRewarded.Add(pay.Reward)
	st.kudosCharged.Add(pay.Charged)
	if requestDone {
		st.requestEnded(RequestDone)
		h.publish(EventFinished, r.req.ID)
	}

	if s.State == ResultOK {
		h.noteFinished(job.WorkerID, now)
	}
	if h.cfg.OnGeneration != nil && r.req.WebhookURL() != "" {
		h.cfg.OnGeneration(ctx, r.req, gen, pay.Reward)
	}
	h.mod.afterResult(ctx, resultFacts{
		job: job, req: r.req, state: s.State, owner: owner, worker: name, trusted: trusted,
		reward: pay.Reward, work: r.itemWork, elapsed: now.Sub(job.StartedAt), submitted: now,
	})
	return pay.Reward, nil
}

// settlement is what paying for job oj needs to know.
func settlement(oj *openJob, state string, owner int64, paused, trusted bool, now time.Time) kudos.JobSettlement {
	r := oj.r
	return kudos.JobSettlement{
		JobID: oj.job.ID, What: string(r.req.Kind), RequesterID: r.req.UserID, OwnerID: owner,
		Result: state, Cost: r.itemCost, Charge: r.itemCost,
		Paused: paused, OwnerTrusted: trusted, At: now,
	}
}

// settleShort settles a job whose requester cannot be charged its whole
// cost: it charges what their balance holds above their floor (perhaps
// nothing), pays the worker that, and writes f again.
func (h *Horde) settleShort(ctx context.Context, f *JobFinish, settle kudos.JobSettlement) (kudos.JobPayout, error) {
	balance, err := h.store.Balance(ctx, settle.RequesterID)
	if err != nil {
		return kudos.JobPayout{}, fmt.Errorf("read balance of user %d: %w", settle.RequesterID, err)
	}
	settle.Charge = h.pay.Chargeable(settle.RequesterID, balance, settle.Cost)
	if f := settle.Style; f != nil && h.pay.Chargeable(settle.RequesterID, balance-settle.Charge, f.Amount) < f.Amount {
		// The style fee is not held with the request's items: a requester
		// who cannot pay it after the item pays it with a later item, or not.
		settle.Style = nil
	}
	pay := h.pay.SettleJob(settle)
	h.log.Warn("requester below their hold at finish; charging what is left above their floor",
		"job", settle.JobID, "user", settle.RequesterID, "cost", settle.Cost, "charged", pay.Charged)
	f.Job.Kudos, f.Entries, f.Holds = pay.Reward, pay.Entries, pay.Holds
	return pay, h.store.FinishJob(ctx, *f)
}

// resultImage stores an image result and returns its blob ref: inline bytes,
// or the upload the worker PUT before submitting. Either must pass
// Config.CheckImage: an ok result that does not is KindInvalid and nothing
// is stored or paid; a censored or csam result may come without an image,
// and one that is not a real image is kept without it.
func (h *Horde) resultImage(ctx context.Context, r *openRequest, jobID string, s Submission) (string, error) {
	switch {
	case len(s.Image) > 0:
		if err := h.checkImage(r, s.Image); err != nil {
			if s.State != ResultOK {
				return "", nil
			}
			return "", err
		}
		ref, err := h.store.PutBlob(ctx, s.Image)
		if err != nil {
			return "", fmt.Errorf("store result of job %s: %w", jobID, err)
		}
		return ref, nil
	case s.UseUpload:
		ref, err := h.store.Upload(ctx, jobID)
		if notFound(err) {
			if s.State != ResultOK {
				return "", nil
			}
			return "", Invalidf("generation", "no image was uploaded for this job")
		}
		if err != nil {
			return "", fmt.Errorf("read upload of job %s: %w", jobID, err)
		}
		if h.cfg.CheckImage != nil {
			data, err := h.store.Blob(ctx, ref)
			if err != nil {
				return "", fmt.Errorf("read upload %s of job %s: %w", ref, jobID, err)
			}
			if err := h.checkImage(r, data); err != nil {
				if s.State != ResultOK {
					return "", nil
				}
				return "", err
			}
		}
		return ref, nil
	case s.State == ResultOK:
		return "", Invalidf("generation", "the generation is missing")
	}
	return "", nil
}

// checkImage applies Config.CheckImage to a result of r.
func (h *Horde) checkImage(r *openRequest, data []byte) error {
	if h.cfg.CheckImage == nil || r.req.Image == nil {
		return nil
	}
	p := r.req.Image
	if err := h.cfg.CheckImage(data, p.Width, p.Height, len(p.PostProcessing) > 0); err != nil {
		return &Error{Kind: KindInvalid, Field: "generation",
			Message: fmt.Sprintf("the result is refused: %v", err), Err: err}
	}
	return nil
}

// failJob ends a processing job as faulted (the worker said so) or aborted
// (past its TTL) and puts its item back in the queue. The worker's drop
// streak grows and may put it into maintenance; a request with more than
// MaxFaults faulted jobs is ended faulted.
func (h *Horde) failJob(ctx context.Context, oj *openJob, state JobState) error {
	r := oj.r
	r.finishMu.Lock()
	defer r.finishMu.Unlock()
	now := h.clock.Now()
	err := h.store.FailJob(ctx, oj.job.ID, state, now)
	if duplicate(err) {
		h.forget(oj)
		return &Error{Kind: KindConflict, Code: "DuplicateGen", Message: "this job is no longer processing", Err: err}
	}
	if err != nil {
		h.release(oj)
		return fmt.Errorf("fail job %s (%s): %w", oj.job.ID, state, err)
	}

	h.mu.Lock()
	delete(h.jobs, oj.job.ID)
	delete(r.jobs, oj.job.ID)
	r.items[oj.job.Item] = ItemWaiting
	r.processing--
	r.restarted++
	if state == JobFaulted {
		r.faults++
	}
	if !h.shared() { // the store puts a shared queue's item back
		h.q.setWaiting(r, 1)
		h.q.touch(r, now) // waiting again: the expiry clock restarts
	}
	h.stats.of(r.req.Kind).jobFailed(state)
	var save *Worker
	if ws := h.workers[oj.job.WorkerID]; ws != nil {
		ws.w.Dropped++
		ws.dropStreak++
		ws.dirty = true
		if ws.dropStreak >= h.cfg.DropsForMaintenance && !ws.w.Maintenance {
			ws.w.Maintenance = true
			w := ws.snapshot()
			save = &w
			h.log.Warn("worker put into maintenance after dropping jobs", "worker", ws.w.ID, "name", ws.w.Name, "dropped_in_a_row", ws.dropStreak)
		}
	}
	tooMany := r.faults > MaxFaults && !r.ending
	if tooMany {
		r.ending = true
		h.q.remove(r)
	}
	h.mu.Unlock()

	if save != nil {
		if err := h.saveWorker(ctx, *save); err != nil {
			h.log.Error("save worker put into maintenance", "worker", save.ID, "err", err)
		}
	}
	if tooMany {
		reason := fmt.Sprintf("%d jobs faulted", r.faults)
		if err := h.endRequest(ctx, r, RequestFaulted, reason); err != nil {
			// The fault itself is stored; the sweep retries the ending.
			h.mu.Lock()
			h.pendingEnds[r] = pendingEnd{state: RequestFaulted, reason: reason}
			h.mu.Unlock()
			h.log.Error("end faulted request", "request", r.req.ID, "err", err)
		}
	}
	return nil
}

// pendingEnd is a request ending whose store write failed, retried by Sweep.
type pendingEnd struct {
	state  RequestState
	reason string
}

// endRequest writes a request's final state. The caller holds r.finishMu and
// has set r.ending and taken r out of the queue under h.mu. It waits for
// pops of r whose writes are in flight, so that EndRequest cancels their jobs
// too. On failure r goes back in the queue.
func (h *Horde) endRequest(ctx context.Context, r *openRequest, state RequestState, reason string) error {
	h.mu.Lock()
	for r.starting > 0 {
		h.cond.Wait()
	}
	h.mu.Unlock()
	err := h.store.EndRequest(ctx, r.req.ID, state, reason, h.clock.Now())
	if duplicate(err) {
		err = nil // already finished in the store: memory only catches up
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		r.ending = false
		h.q.add(r)
		return fmt.Errorf("end request %s as %s: %w", r.req.ID, state, err)
	}
	for id := range r.jobs {
		delete(h.jobs, id)
	}
	clear(r.jobs)
	for i, st := range r.items {
		if st == ItemWaiting || st == ItemProcessing {
			r.items[i] = ItemCancelled
			h.releaseItem(r)
		}
	}
	r.waiting, r.processing = 0, 0
	r.state = state
	delete(h.reqs, r.req.ID)
	delete(h.pendingEnds, r)
	h.stats.of(r.req.Kind).requestEnded(state)
	h.publish(EventFinished, r.req.ID)
	h.log.Info("request ended", "request", r.req.ID, "state", state, "reason", reason)
	return nil
}

// Blob returns a stored result image.
func (h *Horde) Blob(ctx context.Context, ref string) ([]byte, error) {
	data, err := h.store.Blob(ctx, ref)
	if notFound(err) {
		return nil, NotFoundf("BlobNotFound", "no image %s", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", ref, err)
	}
	return data, nil
}
