package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/deferredix"
	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
)

// A Resumable command (commands.Command.Resumable: /imagine, /write,
// /describe, /blend, the Describe and Upscale menus, the Remix form's
// submit, the reroll, variation, Upscale, Vary, Zoom out and Describe
// buttons) is recorded in the store before its
// "thinking…" deferral is sent, claimed by this process. When the handler
// queues its request, the write that stores the request marks the record
// queued (horde.NewRequest.Interaction); when it ends without one, the
// router marks it answered. A record still open after its process died
// (killed between the deferral and the queueing) is found by the next run
// or by another process (resumeDeferred), which runs the command again on
// the deferral already sent, while the interaction's token is valid, and
// delivers as usual; one too old to answer is closed unqueued. The same
// interaction twice (a replay, or two processes) is recorded once, and a
// request linked to it is stored once, so it queues one request.

// DeferredStore keeps the deferred interactions. *store.Store satisfies it.
type DeferredStore interface {
	// RecordDiscordInteraction records an interaction as open and claimed;
	// false, writing nothing, when it is already recorded.
	RecordDiscordInteraction(ctx context.Context, r deferredix.Record) (bool, error)
	// PendingDiscordInteractions returns at most limit open or queued
	// (delivery not saved) interactions, oldest first.
	PendingDiscordInteractions(ctx context.Context, limit int) ([]deferredix.Record, error)
	// ClaimDiscordInteraction makes owner the runner of a pending
	// interaction until until when the last claim lapsed by now (or
	// whatever it says, with takeover); it reports whether owner got it.
	ClaimDiscordInteraction(ctx context.Context, id, owner string, now, until time.Time, takeover bool) (bool, error)
	// RenewDiscordInteraction extends owner's claim to until; false when
	// owner no longer holds it.
	RenewDiscordInteraction(ctx context.Context, id, owner string, until time.Time) (bool, error)
	// AnswerDiscordInteraction closes an open interaction unqueued.
	AnswerDiscordInteraction(ctx context.Context, id string) error
	// ReleaseDiscordInteractions ends owner's claims on open interactions.
	ReleaseDiscordInteractions(ctx context.Context, owner string) error
	// PruneDiscordInteractions deletes those Discord created before before.
	PruneDiscordInteractions(ctx context.Context, before time.Time) (int64, error)
}

// deferredRecordLimit bounds the open interactions one sweep looks at.
const deferredRecordLimit = 100

// deferredPayload is what a record's payload holds: the interaction as
// Discord sent it (id, token, application, command and options, member,
// channel, locales) and how it was deferred.
type deferredPayload struct {
	Interaction *discordgo.Interaction `json:"interaction"`
	Ephemeral   bool                   `json:"ephemeral"`
	// ModalComponents are a modal submit's components (its text inputs
	// and their values), which discordgo does not encode with the
	// interaction.
	ModalComponents json.RawMessage `json:"modal_components,omitempty"`
	// MessageComponents are the components of a button's message, which
	// discordgo does not encode with the message either: the commands
	// handle a button only on a message that carries it.
	MessageComponents json.RawMessage `json:"message_components,omitempty"`
}

// newDeferredPayload is what the record of i, deferred privately when
// ephemeral, holds.
func newDeferredPayload(i *discordgo.Interaction, ephemeral bool) ([]byte, error) {
	p := deferredPayload{Interaction: i, Ephemeral: ephemeral}
	if i.Type == discordgo.InteractionModalSubmit {
		comps, err := json.Marshal(i.ModalSubmitData().Components)
		if err != nil {
			return nil, fmt.Errorf("encode the modal's components: %w", err)
		}
		p.ModalComponents = comps
	}
	if i.Message != nil && len(i.Message.Components) > 0 {
		comps, err := json.Marshal(i.Message.Components)
		if err != nil {
			return nil, fmt.Errorf("encode the message's components: %w", err)
		}
		p.MessageComponents = comps
	}
	return json.Marshal(p)
}

// decodeDeferredPayload reads what newDeferredPayload wrote.
func decodeDeferredPayload(b []byte) (deferredPayload, error) {
	var p deferredPayload
	if err := json.Unmarshal(b, &p); err != nil {
		return p, err
	}
	if p.Interaction != nil && p.Interaction.Message != nil && len(p.MessageComponents) > 0 {
		// A message decodes its components from its own JSON.
		var m discordgo.Message
		if err := json.Unmarshal([]byte(`{"components":`+string(p.MessageComponents)+`}`), &m); err != nil {
			return p, fmt.Errorf("decode the message's components: %w", err)
		}
		p.Interaction.Message.Components = m.Components
	}
	if p.Interaction == nil || p.Interaction.Type != discordgo.InteractionModalSubmit || len(p.ModalComponents) == 0 {
		return p, nil
	}
	raw, err := json.Marshal(struct {
		CustomID   string          `json:"custom_id"`
		Components json.RawMessage `json:"components"`
	}{p.Interaction.ModalSubmitData().CustomID, p.ModalComponents})
	if err != nil {
		return p, err
	}
	var data discordgo.ModalSubmitInteractionData
	if err := json.Unmarshal(raw, &data); err != nil {
		return p, fmt.Errorf("decode the modal's components: %w", err)
	}
	p.Interaction.Data = data
	return p, nil
}

// errInteractionTaken: the interaction is recorded already (replayed, or
// delivered to another process too); whoever recorded it answers it.
var errInteractionTaken = &horde.Error{Kind: horde.KindConflict, Code: "InteractionTaken",
	Message: "this interaction is being answered already", Err: horde.ErrDuplicate}

// newOwnerID names this bot's claims: one per process run.
func newOwnerID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// deferred is the store of deferred interactions, nil without a store.
func (b *Bot) deferred() DeferredStore {
	if b.deps.Store == nil {
		return nil
	}
	return b.deps.Store
}

// recordDeferral records ix before its deferral. It returns
// errInteractionTaken when it was recorded before; a failing store is
// logged and the command goes on unrecorded (it then only lacks the
// recovery).
func (b *Bot) recordDeferral(ctx context.Context, ix *interact.Interaction, ephemeral bool) error {
	ds := b.deferred()
	if ds == nil {
		return nil
	}
	payload, err := newDeferredPayload(ix.I, ephemeral)
	if err != nil {
		b.log.Error("encode the interaction to record", "interaction", ix.I.ID, "err", err)
		return nil
	}
	now := b.cfg.Clock.Now()
	ok, err := ds.RecordDiscordInteraction(ctx, deferredix.Record{ID: ix.I.ID, GuildID: ix.I.GuildID, CreatedAt: ix.CreatedAt(),
		Payload: payload, Owner: b.owner, ClaimUntil: now.Add(b.cfg.DeferredClaim)})
	switch {
	case err != nil:
		b.log.Warn("could not record the interaction before deferring it; a restart now would leave it unanswered",
			"interaction", ix.I.ID, "err", err)
		return nil
	case !ok:
		b.log.Info("interaction already recorded (a replay, or another process has it): not run again", "interaction", ix.I.ID)
		return errInteractionTaken
	}
	return nil
}

// keepClaim renews this run's claim on a recorded interaction every
// DeferredRenewEvery while its handler runs, so that other processes wait
// for a live one however long it takes and take over from a dead one
// within DeferredClaim; the returned function stops it.
func (b *Bot) keepClaim(id string) (stop func()) {
	ds := b.deferred()
	if ds == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(b.cfg.DeferredRenewEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), b.cfg.DeferredRenewEvery)
			ok, err := ds.RenewDiscordInteraction(ctx, id, b.owner, b.cfg.Clock.Now().Add(b.cfg.DeferredClaim))
			cancel()
			switch {
			case err != nil:
				b.log.Warn("renew the claim on a running interaction", "interaction", id, "err", err)
			case !ok:
				return // queued and watched, or taken over: nothing to keep
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// closeDeferral marks a recorded interaction answered after its handler
// ended without queuing; a queued one stays as it is. A handler cut off
// by its context (the process stopping) leaves it open for the next run.
func (b *Bot) closeDeferral(ctx context.Context, ix *interact.Interaction) {
	ds := b.deferred()
	if ds == nil || ctx.Err() != nil {
		return
	}
	if err := ds.AnswerDiscordInteraction(ctx, ix.I.ID); err != nil {
		b.log.Warn("close the record of an answered interaction", "interaction", ix.I.ID, "err", err)
	}
}

// mayResume reports whether this process takes up interactions of a guild
// ("" for DMs) that another run left open: any, unless the gateway shards
// are split over processes and it serves no interactions endpoint; then
// those of its own shards, as with deliveries.
func (b *Bot) mayResume(guildID string) bool {
	b.mu.Lock()
	split, http := b.shardCount > 1, b.servesHTTP
	b.mu.Unlock()
	return !split || http || b.ownsGuild(guildID)
}

// startDeferredSweeps resumes, now and every DeferredSweepEvery, the
// interactions left open by a run that died, and prunes old records.
func (b *Bot) startDeferredSweeps(ctx context.Context) {
	if b.deferred() == nil {
		return
	}
	b.sweepDeferred(ctx)
	b.background.Add(1)
	go func() {
		defer b.background.Done()
		t := time.NewTicker(b.cfg.DeferredSweepEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			b.sweepDeferred(ctx)
		}
	}()
}

// sweepDeferred takes up the pending interactions whose claims lapsed (on
// a store of this process alone, SoleProcess: every other run's): it runs
// the open ones still answerable and closes those too old, and resumes
// the delivery of the queued ones (their run died between queuing the
// request and saving its delivery); then it prunes records older than
// DeferredKeep.
func (b *Bot) sweepDeferred(ctx context.Context) {
	ds := b.deferred()
	recs, err := ds.PendingDiscordInteractions(ctx, deferredRecordLimit)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("list the deferred interactions left open", "err", err)
		}
		return
	}
	for _, rec := range recs {
		if rec.Owner == b.owner || !b.mayResume(rec.GuildID) {
			continue
		}
		now := b.cfg.Clock.Now()
		if !b.cfg.SoleProcess && rec.ClaimUntil.After(now) {
			continue // its process may be at it still
		}
		ok, err := ds.ClaimDiscordInteraction(ctx, rec.ID, b.owner, now, now.Add(b.cfg.DeferredClaim), b.cfg.SoleProcess)
		if err != nil {
			b.log.Error("claim a deferred interaction", "interaction", rec.ID, "err", err)
			continue
		}
		if !ok {
			continue // another process took it, or it got queued meanwhile
		}
		if rec.State == deferredix.Queued {
			b.resumeQueued(ctx, rec) // late or not, its result is owed (to the channel, past the token)
			continue
		}
		if now.Sub(rec.CreatedAt) >= b.cfg.TokenLifetime {
			// Its token is gone: nothing can be said on it, and a request
			// nobody would see is not queued.
			b.log.Warn("a deferred interaction left open is too old to answer: not run", "interaction", rec.ID,
				"age", now.Sub(rec.CreatedAt).Round(time.Second))
			if err := ds.AnswerDiscordInteraction(ctx, rec.ID); err != nil {
				b.log.Error("close an expired deferred interaction", "interaction", rec.ID, "err", err)
			}
			continue
		}
		b.resumeInteraction(rec)
	}
	if n, err := ds.PruneDiscordInteractions(ctx, b.cfg.Clock.Now().Add(-b.cfg.DeferredKeep)); err != nil {
		if ctx.Err() == nil {
			b.log.Error("prune old deferred interactions", "err", err)
		}
	} else if n > 0 {
		b.log.Debug("pruned old deferred interactions", "count", n)
	}
}

// payloadOf decodes a record's payload; false (logged) when unreadable.
func (b *Bot) payloadOf(rec deferredix.Record) (deferredPayload, bool) {
	p, err := decodeDeferredPayload(rec.Payload)
	if err != nil || p.Interaction == nil || p.Interaction.ID != rec.ID {
		b.log.Error("unreadable deferred interaction", "interaction", rec.ID, "err", err)
		return p, false
	}
	return p, true
}

// resumeQueued saves and watches the delivery of a claimed interaction's
// queued request.
func (b *Bot) resumeQueued(ctx context.Context, rec deferredix.Record) {
	p, ok := b.payloadOf(rec)
	if !ok {
		return // pruned in time; its request is served all the same
	}
	b.log.Info("resuming the delivery of a request whose process died before saving it", "interaction", rec.ID,
		"request", rec.RequestID, "claimed_from", rec.Owner)
	if err := b.set.ResumeDelivery(ctx, p.Interaction, p.Ephemeral, rec.RequestID); err != nil && ctx.Err() == nil {
		b.log.Error("resume the delivery of a deferred interaction's request", "interaction", rec.ID, "request", rec.RequestID, "err", err)
	}
}

// resumeInteraction runs a claimed interaction's handler again, in the
// background, on the deferral an earlier run sent.
func (b *Bot) resumeInteraction(rec deferredix.Record) {
	p, ok := b.payloadOf(rec)
	if !ok {
		// Without the interaction there is no token to answer on.
		if err := b.deferred().AnswerDiscordInteraction(context.Background(), rec.ID); err != nil {
			b.log.Error("close an unreadable deferred interaction", "interaction", rec.ID, "err", err)
		}
		return
	}
	if !b.enter() {
		return // stopping: the next run takes it
	}
	b.log.Info("resuming a deferred interaction its process left before queuing", "interaction", rec.ID,
		"type", p.Interaction.Type.String(), "claimed_from", rec.Owner)
	go func() {
		defer b.inflight.Done()
		ctx, cancel := b.handlerContext()
		defer cancel()
		b.routeResumed(ctx, b.sess(), p.Interaction, p.Ephemeral)
	}()
}

// routeResumed is route for an interaction deferred by an earlier run:
// the same handlers, without a second deferral; one no longer known is
// answered as such on its deferral.
func (b *Bot) routeResumed(ctx context.Context, s *discordgo.Session, i *discordgo.Interaction, ephemeral bool) {
	ix := interact.NewDeferred(s, i, b.cfg.Retry, ephemeral)
	kind, name := b.interactionName(i)
	var err error
	stopClaim := b.keepClaim(i.ID)
	defer func() {
		stopClaim()
		if p := recover(); p != nil {
			b.log.Error("resumed interaction handler panicked", "interaction", i.ID, "panic", p)
			err = fmt.Errorf("panic: %v", p)
			b.replyError(ctx, ix, err)
		}
		b.closeDeferral(ctx, ix)
		b.interactionDone(kind, name, err)
	}()
	var handle func() error
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		if cmd := b.set.Command(i.ApplicationCommandData().Name); cmd != nil && cmd.Resumable {
			handle = func() error { return cmd.Handle(ctx, ix) }
		} else {
			err = unknownInteraction("command", i.ApplicationCommandData().Name)
		}
	case discordgo.InteractionMessageComponent:
		id := i.MessageComponentData().CustomID
		if comp, args := b.set.Component(id); comp != nil && comp.Resumable {
			handle = func() error { return comp.Handle(ctx, ix, args) }
		} else {
			err = unknownInteraction("button", id)
		}
	case discordgo.InteractionModalSubmit:
		id := i.ModalSubmitData().CustomID
		if form, args := b.set.Form(id); form != nil && form.Resumable {
			handle = func() error { return form.Handle(ctx, ix, args) }
		} else {
			err = unknownInteraction("form", id)
		}
	default:
		err = fmt.Errorf("resume interaction %s: type %s is not resumable", i.ID, i.Type)
	}
	if err == nil {
		err = b.handle(ctx, ix, handle)
		return
	}
	b.replyError(ctx, ix, err)
}

// releaseDeferred gives up this run's claims on interactions still open
// (its handlers were cut short), so that the next run takes them at once.
func (b *Bot) releaseDeferred() {
	ds := b.deferred()
	if ds == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ds.ReleaseDiscordInteractions(ctx, b.owner); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		b.log.Warn("release the claims on open interactions", "err", err)
	}
}
