package bot_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/bottest"
	"github.com/hordebot/hordebot/bot/deferredix"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store/storetest"
)

// stalledSubmit is a process about to die: its Submit stops until
// released, after the interaction was deferred and before anything is
// queued, then submits (a frozen process waking up); with queued, it
// stops after queuing, before the delivery is saved.
type stalledSubmit struct {
	commands.Horde
	queued  bool
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (s *stalledSubmit) Submit(ctx context.Context, u horde.User, nr horde.NewRequest) (horde.Request, []string, error) {
	if s.queued {
		r, w, err := s.Horde.Submit(ctx, u, nr)
		s.once.Do(func() { close(s.entered) })
		<-s.release
		return r, w, err
	}
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return s.Horde.Submit(ctx, u, nr)
}

// Interrogate stalls as Submit does, for the alchemy commands (describe,
// upscale).
func (s *stalledSubmit) Interrogate(ctx context.Context, u horde.User, ni horde.NewInterrogation) (horde.Interrogation, error) {
	alchemy := s.Horde.(commands.Alchemy)
	if s.queued {
		in, err := alchemy.Interrogate(ctx, u, ni)
		s.once.Do(func() { close(s.entered) })
		<-s.release
		return in, err
	}
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return alchemy.Interrogate(ctx, u, ni)
}

// InterrogationStatus is the horde's.
func (s *stalledSubmit) InterrogationStatus(ctx context.Context, id string) (horde.Interrogation, error) {
	return s.Horde.(commands.Alchemy).InterrogationStatus(ctx, id)
}

// stallImagine sends alice's /imagine to a process whose Submit stalls
// (before queuing, or after with queued) and waits until it has deferred
// the interaction and stalled.
func stallImagine(t *testing.T, h *bottest.Harness, queued bool) (tok string, interactionID string, p1 *bottest.Process, stalled *stalledSubmit) {
	t.Helper()
	// It renews no claim: as far as the others can tell, it died.
	return stallImagineRenewing(t, h, queued, time.Hour)
}

// stallImagineRenewing is stallImagine with the stalled process renewing
// its claim every renew (alive, only slow).
func stallImagineRenewing(t *testing.T, h *bottest.Harness, queued bool, renew time.Duration) (tok string, interactionID string, p1 *bottest.Process, stalled *stalledSubmit) {
	t.Helper()
	return stallInteraction(t, h, queued, renew, func() string {
		return h.Run(h.Alice, h.General, "imagine", discordtest.Opt("prompt", "a harbour at dawn"))
	})
}

// stallInteraction is stallImagineRenewing for the interaction send sends
// (it returns its token): a command, a button or a form that queues a
// request or an interrogation.
func stallInteraction(t *testing.T, h *bottest.Harness, queued bool, renew time.Duration, send func() string) (tok string, interactionID string, p1 *bottest.Process, stalled *stalledSubmit) {
	t.Helper()
	stalled = &stalledSubmit{Horde: h.Horde, queued: queued, entered: make(chan struct{}), release: make(chan struct{})}
	p1 = h.StartProcess(bottest.ProcessSpec{ShardCount: 1, Horde: stalled,
		Configure: func(c *bot.Config) { c.DeferredRenewEvery = renew }})
	t.Cleanup(func() { // before p1 stops (cleanups run last first): Stop waits for its handler
		select {
		case <-stalled.release:
		default:
			close(stalled.release)
		}
	})
	tok = send()
	select {
	case <-stalled.entered:
	case <-h.Ctx.Done():
		t.Fatal("the interaction never reached Submit or Interrogate")
	}
	cb, ok := h.Srv.Callback(tok)
	if !ok || cb.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Fatalf("the interaction's first answer is %+v (%v), want the deferral", cb, ok)
	}
	i, ok := h.Srv.InteractionSent(tok)
	if !ok {
		t.Fatal("the fake does not know the interaction")
	}
	return tok, i.ID, p1, stalled
}

// resumeSpec is a second process that takes up what p1 left: on SQLite
// one process owns the store, so at once; on PostgreSQL once p1's claim
// lapsed (the test moves the clock past it).
func resumeSpec(h *bottest.Harness) bottest.ProcessSpec {
	sole := !storetest.Postgres()
	if !sole {
		h.Clock.Advance(time.Minute) // past its claim (15 s by default)
	}
	return bottest.ProcessSpec{ShardCount: 1, Configure: func(c *bot.Config) { c.SoleProcess = sole }}
}

func requested(t *testing.T, h *bottest.Harness, u *discordgo.User) int64 {
	t.Helper()
	n, err := h.Store.RequestedItems(h.Ctx, h.User(u).ID)
	bottest.Must(t, err)
	return n
}

// TestDeferredImagineResumedAfterItsProcessDied: the process that deferred
// an /imagine dies before queuing it; the next process runs it on the
// deferral already shown and the member gets the image there. When the
// first process comes back to life and tries to queue it too, nothing more
// is queued and the member's message keeps its image.
func TestDeferredImagineResumedAfterItsProcessDied(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	worker := h.WorkerCred("gpu")
	h.PopImages(worker, "gpu-1")
	tok, id, p1, stalled := stallImagine(t, h, false)
	if n := requested(t, h, h.Alice); n != 0 {
		t.Fatalf("%d items queued before the restart", n)
	}

	p2 := h.StartProcess(resumeSpec(h))
	h.Original(tok, "queued by the next process", bottest.Queued)
	h.ServeImages(worker, "gpu-1")
	res := h.Original(tok, "the result on the deferral", bottest.HasFiles)
	waitFor(t, h.Ctx, p2.Interactions, "command imagine ok")
	state, reqID, err := h.Store.DiscordInteractionState(h.Ctx, id)
	if err != nil || state != deferredix.Watched || reqID == "" {
		t.Fatalf("the interaction is %s %q (%v), want watched, with its request", state, reqID, err)
	}

	close(stalled.release) // the first process wakes up and submits
	waitFor(t, h.Ctx, p1.Interactions, "command imagine ok")
	if n := requested(t, h, h.Alice); n != 1 {
		t.Fatalf("alice's /imagine queued %d items, want 1", n)
	}
	if m, _ := h.Srv.Original(tok); len(m.Files) != len(res.Files) || m.Content != res.Content {
		t.Fatalf("the result message changed after the first process woke: %q", m.Content)
	}
}

// TestDeferredSlowProcessIsNotTakenOver: a process whose command takes
// long renews its claim; another process (several on one store) leaves
// the command to it, and it answers.
func TestDeferredSlowProcessIsNotTakenOver(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	worker := h.WorkerCred("gpu")
	h.PopImages(worker, "gpu-1")
	tok, id, p1, stalled := stallImagineRenewing(t, h, false, 10*time.Millisecond)
	h.Clock.Advance(time.Minute) // the first claim has lapsed: only the renewals keep it
	for {
		pending, err := h.Store.PendingDiscordInteractions(h.Ctx, 10)
		bottest.Must(t, err)
		if len(pending) == 1 && pending[0].ClaimUntil.After(h.Clock.Now()) {
			break // renewed since the clock moved
		}
		select {
		case <-h.Ctx.Done():
			t.Fatalf("the claim was never renewed past %s (%d pending)", h.Clock.Now(), len(pending))
		case <-time.After(5 * time.Millisecond):
		}
	}
	h.StartProcess(bottest.ProcessSpec{ShardCount: 1}) // Start's sweep has run
	if state, _, err := h.Store.DiscordInteractionState(h.Ctx, id); err != nil || state != deferredix.Open {
		t.Fatalf("the slow process's interaction is %s (%v), want open still", state, err)
	}
	if n := requested(t, h, h.Alice); n != 0 {
		t.Fatalf("another process queued %d items of a live process's command", n)
	}
	close(stalled.release)
	h.Original(tok, "queued by the slow process", bottest.Queued)
	h.ServeImages(worker, "gpu-1")
	h.Original(tok, "its result", bottest.HasFiles)
	waitFor(t, h.Ctx, p1.Interactions, "command imagine ok")
}

// TestQueuedDeliveryResumedAfterItsProcessDied: the process that queued
// an /imagine dies before saving the delivery of its result; the next
// process delivers it on the deferral.
func TestQueuedDeliveryResumedAfterItsProcessDied(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	worker := h.WorkerCred("gpu")
	h.PopImages(worker, "gpu-1")
	tok, id, _, _ := stallImagine(t, h, true)
	if state, _, err := h.Store.DiscordInteractionState(h.Ctx, id); err != nil || state != deferredix.Queued {
		t.Fatalf("the stalled interaction is %s (%v), want queued", state, err)
	}
	h.StartProcess(resumeSpec(h))
	h.Original(tok, "progress from the next process", bottest.Queued)
	if state, _, err := h.Store.DiscordInteractionState(h.Ctx, id); err != nil || state != deferredix.Watched {
		t.Fatalf("the interaction is %s (%v), want watched", state, err)
	}
	h.ServeImages(worker, "gpu-1")
	h.Original(tok, "the result on the deferral", bottest.HasFiles)
	if n := requested(t, h, h.Alice); n != 1 {
		t.Fatalf("alice's /imagine queued %d items, want 1", n)
	}
}

// TestDeferredInteractionTooOldIsNotQueued: found after its token expired,
// an interaction left open is closed and nothing is queued for it, then
// or later.
func TestDeferredInteractionTooOldIsNotQueued(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	h.PopImages(h.WorkerCred("gpu"), "gpu-1")
	_, id, p1, stalled := stallImagine(t, h, false)
	h.Clock.Advance(16 * time.Minute)
	h.StartProcess(bottest.ProcessSpec{ShardCount: 1, Configure: func(c *bot.Config) { c.SoleProcess = !storetest.Postgres() }})
	// Start's first sweep has run.
	if state, _, err := h.Store.DiscordInteractionState(h.Ctx, id); err != nil || state != deferredix.Answered {
		t.Fatalf("the expired interaction is %s (%v), want answered", state, err)
	}
	close(stalled.release)
	waitFor(t, h.Ctx, p1.Interactions, "command imagine ok")
	if n := requested(t, h, h.Alice); n != 0 {
		t.Fatalf("an expired interaction queued %d items", n)
	}
}

// TestReplayedInteractionQueuesOnce: an /imagine POSTed to one process and
// replayed to another behind the load balancer is queued once.
func TestReplayedInteractionQueuesOnce(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	h.PopImages(h.WorkerCred("gpu"), "gpu-1")
	h.StartProcess(bottest.ProcessSpec{HTTP: true})
	d, err := h.Srv.PostInteraction(h.Ctx, discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID,
		Command: "imagine", Options: discordtest.Opts(discordtest.Opt("prompt", "a lighthouse"))}, discordtest.PostOptions{})
	bottest.Must(t, err)
	if d.Err != nil {
		t.Fatalf("the first POST: %v", d.Err)
	}
	h.Original(d.Token, "queued", bottest.Queued)

	p2 := h.StartProcess(bottest.ProcessSpec{HTTP: true}) // the endpoint now names p2
	r, err := h.Srv.ReplayInteraction(h.Ctx, d.Token, discordtest.PostOptions{})
	bottest.Must(t, err)
	if r.Status != http.StatusConflict {
		t.Fatalf("the replay was answered %d %s, want 409 (another process has it)", r.Status, r.Body)
	}
	waitFor(t, h.Ctx, p2.Interactions, "command imagine refused")
	if n := requested(t, h, h.Alice); n != 1 {
		t.Fatalf("the replayed /imagine queued %d items, want 1", n)
	}
}
