package horde

import (
	"context"
	"fmt"

	"github.com/hordebot/hordebot/kudos"
)

// Holds: what each requester's open requests still owe. A request's items
// that are not done (waiting, processing) hold their cost against the
// requester from the moment the request is accepted until each item is
// finished (charged), cancelled or the request ends (released). The holds
// are derived from the open requests, which are durable, so New rebuilds
// them from the store and nothing about them needs saving.
//
// Submit refuses a request whose cost, on top of the holds, would take the
// requester below their floor (KindKudosUpfront), or whose items, on top of
// the open ones, pass the requester's concurrency (KindRateLimited,
// "TooManyPrompts"). The kudos engine asks Held before a transfer, so that
// kudos promised to queued requests cannot be given away.

// userHold is one requester's open items and the kudos they hold.
type userHold struct {
	items int
	forms int // open alchemy forms (alchemy_queue.go): their own concurrency
	kudos int64
}

// hold adds items (and their kudos) to a user's hold; negative values
// release. Caller holds h.mu.
func (h *Horde) hold(userID int64, items int, kudos int64) {
	if h.shared() {
		return // the shared queue's holds are read from the store (Held)
	}
	uh := h.holds[userID]
	if uh == nil {
		if items <= 0 {
			return
		}
		uh = &userHold{}
		h.holds[userID] = uh
	}
	uh.items += items
	uh.kudos += kudos
	if uh.items <= 0 && uh.forms <= 0 {
		delete(h.holds, userID)
	}
}

// holdForms adds alchemy forms (and their kudos) to a user's hold; negative
// values release. Caller holds h.mu.
func (h *Horde) holdForms(userID int64, forms int, kudos int64) {
	uh := h.holds[userID]
	if uh == nil {
		if forms <= 0 {
			return
		}
		uh = &userHold{}
		h.holds[userID] = uh
	}
	uh.forms += forms
	uh.kudos += kudos
	if uh.items <= 0 && uh.forms <= 0 {
		delete(h.holds, userID)
	}
}

// reserveForms checks that n new alchemy forms costing cost fit the
// requester's alchemy concurrency (AlchemyConcurrencyFactor times their
// concurrency) and floor given what their open requests and forms hold,
// and holds them. Caller holds h.mu; balance was read just before.
func (h *Horde) reserveForms(userID int64, n int, cost, balance int64) error {
	var open int
	var held int64
	if uh := h.holds[userID]; uh != nil {
		open, held = uh.forms, uh.kudos
	}
	if limit := h.concurrency(userID) * AlchemyConcurrencyFactor; open+n > limit {
		return Errorf(KindRateLimited, "TooManyPrompts",
			"you have %d alchemy forms queued or in progress and may have at most %d; wait for some to finish", open, limit).
			InCase("forms").With("Open", open).With("Limit", limit)
	}
	if missing := h.pay.Shortfall(userID, balance, held, cost); missing > 0 {
		return shortfall(cost, balance, held, missing)
	}
	h.holdForms(userID, n, cost)
	return nil
}

// releaseItem releases one item of r from its requester's hold (done or
// cancelled). Caller holds h.mu.
func (h *Horde) releaseItem(r *openRequest) { h.hold(r.req.UserID, -1, -r.itemCost) }

// Held returns how many items a user's open requests still have to finish
// and the kudos they hold. The kudos engine counts the kudos against what
// the user may give away.
func (h *Horde) Held(ctx context.Context, userID int64) (items int, kudos int64) {
	if h.shared() {
		hd, err := h.heldShared(ctx, userID)
		if err != nil {
			// Held has no error to return: hold nothing rather than all.
			h.log.Error("read held items", "user", userID, "err", err)
		}
		return hd.Items, hd.Kudos
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if uh := h.holds[userID]; uh != nil {
		return uh.items, uh.kudos
	}
	return 0, 0
}

// concurrency is how many open items a user may have: a moderator's
// override (PUT /users/{id} concurrency) or the horde's default. Caller
// holds h.mu, or reads before the horde is shared.
func (h *Horde) concurrency(userID int64) int {
	if n, ok := h.limits[userID]; ok {
		return n
	}
	if userID == AnonymousUserID {
		return h.cfg.AnonymousConcurrency
	}
	return h.cfg.Concurrency
}

// Concurrency is how many items a user's open requests may have at once
// (find_user's "concurrency").
func (h *Horde) Concurrency(userID int64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.concurrency(userID)
}

// reserve checks that a new request fits the requester's concurrency and
// floor given what their open requests hold, and holds it. Caller holds
// h.mu; balance was read from the store just before.
func (h *Horde) reserve(req Request, balance int64) error {
	var open int
	var held int64
	if uh := h.holds[req.UserID]; uh != nil {
		open, held = uh.items, uh.kudos
	}
	return h.reserveAgainst(req, balance, open, held)
}

// reserveAgainst is reserve given what the requester's open requests hold:
// open items and held kudos. Caller holds h.mu.
func (h *Horde) reserveAgainst(req Request, balance int64, open int, held int64) error {
	if limit := h.concurrency(req.UserID); open+req.N > limit {
		return Errorf(KindRateLimited, "TooManyPrompts",
			"you have %d generations queued or in progress and may have at most %d; wait for some to finish", open, limit).
			InCase("generations").With("Open", open).With("Limit", limit)
	}
	if missing := h.pay.Shortfall(req.UserID, balance, held, req.Kudos); missing > 0 {
		return shortfall(req.Kudos, balance, held, missing)
	}
	h.hold(req.UserID, req.N, req.Kudos)
	return nil
}

// shortfallMessage tells a requester how many kudos they lack.
// shortfall is the refusal of a request its requester cannot pay for,
// with the figures a transport words it with (Case "held" when queued
// requests hold some of the balance).
func shortfall(cost, balance, held, missing int64) *Error {
	e := Errorf(KindKudosUpfront, "KudosUpfront", "%s", shortfallMessage(cost, balance, held, missing)).
		With("Cost", cost).With("Missing", missing).With("Balance", balance)
	if held > 0 {
		e = e.InCase("held").With("Held", held)
	}
	return e
}

func shortfallMessage(cost, balance, held, missing int64) string {
	msg := fmt.Sprintf("this request costs %d kudos and you are missing %d: your balance is %d", cost, missing, balance)
	if held > 0 {
		msg += fmt.Sprintf(" and %d are already held for your queued requests", held)
	}
	return msg + "; ask for fewer or smaller generations, or wait for your queue to finish"
}

// heldShared is what a user's open items and forms hold on a shared queue,
// read from the store, whichever process accepted them.
func (h *Horde) heldShared(ctx context.Context, userID int64) (Holding, error) {
	hd, err := h.cfg.Queue.Held(ctx, userID)
	if err != nil {
		return Holding{}, fmt.Errorf("read what user %d holds: %w", userID, err)
	}
	return hd, nil
}

// admission is the check of a new request or interrogation on a shared
// queue, run by the store under the member's lock with what they hold then
// (SharedQueue.AdmitRequest): the same rules and messages as reserve and
// reserveForms, on the holding read in that transaction. It is pure (the
// limit is read before), as the store needs.
type admission struct {
	userID int64
	n      int   // new items, or forms
	cost   int64 // their kudos
	limit  int   // items (or forms) the member may have open
	forms  bool  // alchemy forms: counted against the forms, not the items
	pay    kudos.PaymentRules
}

// newAdmission is the admission of n items (forms: n alchemy forms)
// costing cost by userID, with the member's limit read now.
func (h *Horde) newAdmission(userID int64, n int, cost int64, forms bool) admission {
	h.mu.Lock()
	limit := h.concurrency(userID)
	h.mu.Unlock()
	if forms {
		limit *= AlchemyConcurrencyFactor
	}
	return admission{userID: userID, n: n, cost: cost, limit: limit, forms: forms, pay: h.pay}
}

// check refuses the new work as reserveAgainst and reserveForms do.
func (a admission) check(hd Holding) error {
	open, what, c := hd.Items, "generations", "generations"
	if a.forms {
		open, what, c = hd.Forms, "alchemy forms", "forms"
	}
	if open+a.n > a.limit {
		return Errorf(KindRateLimited, "TooManyPrompts",
			"you have %d %s queued or in progress and may have at most %d; wait for some to finish", open, what, a.limit).
			InCase(c).With("Open", open).With("Limit", a.limit)
	}
	if missing := a.pay.Shortfall(a.userID, hd.Balance, hd.Kudos, a.cost); missing > 0 {
		return shortfall(a.cost, hd.Balance, hd.Kudos, missing)
	}
	return nil
}
