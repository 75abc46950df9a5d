package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
)

// onInteraction is the INTERACTION_CREATE handler: slash and context-menu
// commands by name, buttons and modal submits by custom-ID prefix,
// autocomplete by command name.
func (b *Bot) onInteraction(s *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic.Interaction == nil {
		return
	}
	if !b.enter() {
		return
	}
	defer b.inflight.Done()
	ctx, cancel := b.handlerContext()
	defer cancel()
	_ = b.route(ctx, s, ic.Interaction, nil) // answered and logged there
}

// route handles one interaction. Every error of a handler ends in replyError;
// a panic is recovered, logged and answered like an internal error. This is
// the one place that knows how an interaction ended: it reports that to the
// InteractionDone hook. respond sends the initial response (nil: over REST
// with s); it is how the transport that carried the interaction (gateway or
// HTTP endpoint) answers, and all the router knows of it. It returns the
// handler's error, answered already.
func (b *Bot) route(ctx context.Context, s *discordgo.Session, i *discordgo.Interaction, respond interact.Responder) (err error) {
	ix := interact.NewWithResponder(s, i, b.cfg.Retry, respond)
	kind, name := b.interactionName(i)
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("interaction handler panicked", "interaction", i.ID, "type", i.Type.String(), "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
			b.replyError(ctx, ix, err)
		}
		b.interactionDone(kind, name, err)
	}()
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		cmdName := i.ApplicationCommandData().Name
		cmd := b.set.Command(cmdName)
		if cmd == nil {
			err = unknownInteraction("command", cmdName)
			b.replyError(ctx, ix, err)
			return err
		}
		err = b.run(ctx, ix, cmd.Defer, cmd.Resumable, func() error { return cmd.Handle(ctx, ix) })
	case discordgo.InteractionMessageComponent:
		id := i.MessageComponentData().CustomID
		comp, args := b.set.Component(id)
		if comp == nil {
			err = unknownInteraction("button", id)
			b.replyError(ctx, ix, err)
			return err
		}
		err = b.run(ctx, ix, comp.Defer, comp.Resumable, func() error { return comp.Handle(ctx, ix, args) })
	case discordgo.InteractionApplicationCommandAutocomplete:
		err = b.autocomplete(ctx, ix)
	case discordgo.InteractionModalSubmit:
		id := i.ModalSubmitData().CustomID
		form, args := b.set.Form(id)
		if form == nil {
			err = unknownInteraction("form", id)
			b.replyError(ctx, ix, err)
			return err
		}
		err = b.run(ctx, ix, form.Defer, form.Resumable, func() error { return form.Handle(ctx, ix, args) })
	default:
		// Pings and future types need no answer from a gateway bot.
	}
	return err
}

// run applies the rate limits, acknowledges as the handler asks (before
// anything slow, so Discord's 3 s window is never at risk), resolves the
// caller's horde user and runs the handler. It answers a failure itself
// (replyError) and returns the error, for the record. A resumable
// handler's interaction is recorded before its deferral (deferred.go), and
// closed after it unless its request was queued or the handler was cut
// short; one recorded already (a replay) is not run again.
func (b *Bot) run(ctx context.Context, ix *interact.Interaction, deferFn func(*interact.Interaction) interact.DeferMode,
	resumable bool, handle func() error) error {
	if err := b.limits.allow(ix.Caller.ID, ix.I.GuildID); err != nil {
		b.replyError(ctx, ix, err)
		return err
	}
	mode := interact.DeferNone
	if deferFn != nil {
		mode = deferFn(ix)
	}
	if mode != interact.DeferNone {
		if resumable {
			if err := b.recordDeferral(ctx, ix, mode == interact.DeferEphemeral); err != nil {
				return err // another run answers it
			}
			defer b.closeDeferral(ctx, ix)
			defer b.keepClaim(ix.I.ID)()
		}
		if err := ix.Defer(ctx, mode == interact.DeferEphemeral); err != nil {
			// Without an acknowledgement the token is useless: nothing more can be said.
			b.log.Error("could not acknowledge interaction", "interaction", ix.I.ID, "err", err)
			return fmt.Errorf("acknowledge interaction %s: %w", ix.I.ID, err)
		}
	}
	return b.handle(ctx, ix, handle)
}

// handle resolves the caller's horde user and runs the handler, answering
// a failure (replyError); it returns the error, for the record.
func (b *Bot) handle(ctx context.Context, ix *interact.Interaction, handle func() error) error {
	u, err := b.deps.Horde.DiscordUser(ctx, ix.Caller.ID, interact.DisplayName(ix.Caller))
	if err != nil {
		err = fmt.Errorf("horde user of %s: %w", ix.Caller.ID, err)
		b.replyError(ctx, ix, err)
		return err
	}
	ix.User = u
	if err := handle(); err != nil {
		b.replyError(ctx, ix, err)
		return err
	}
	return nil
}

// autocomplete answers an autocomplete interaction; on failure it answers
// no choices (Discord shows "loading options failed" otherwise), logs, and
// returns the failure for the record.
func (b *Bot) autocomplete(ctx context.Context, ix *interact.Interaction) error {
	cmd := b.set.Command(ix.I.ApplicationCommandData().Name)
	var choices []*discordgo.ApplicationCommandOptionChoice
	var failed error
	if cmd != nil && cmd.Autocomplete != nil {
		u, err := b.deps.Horde.DiscordUser(ctx, ix.Caller.ID, interact.DisplayName(ix.Caller))
		if err == nil {
			ix.User = u
			choices, err = cmd.Autocomplete(ctx, ix)
		}
		if err != nil {
			b.log.Warn("autocomplete failed", "command", cmd.Def.Name, "err", err)
			choices, failed = nil, fmt.Errorf("autocomplete /%s: %w", cmd.Def.Name, err)
		}
	}
	if err := ix.Autocomplete(ctx, choices); err != nil {
		b.log.Warn("answer autocomplete", "err", err)
		return errors.Join(failed, fmt.Errorf("answer autocomplete: %w", err))
	}
	return failed
}
