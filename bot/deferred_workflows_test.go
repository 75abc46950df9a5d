package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/bottest"
	"github.com/hordebot/hordebot/bot/deferredix"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The workflows beside /imagine that queue work (an img2img from a
// result's image, an interrogation of a member's image, a modal's
// submit) survive their process as /imagine does (deferred_test.go).

// sourceImage is a finished one-image request of alice's, served by
// worker c: what a Vary button starts from.
func sourceImage(t *testing.T, h *bottest.Harness, c horde.Credential) string {
	t.Helper()
	r, _, err := h.Horde.Submit(h.Ctx, h.User(h.Alice), horde.NewRequest{
		Kind: horde.KindImage, Prompt: "a harbour at dawn", N: 1, Source: "discord",
		Image: &horde.ImageParams{Width: 512, Height: 512, Steps: 20},
	})
	bottest.Must(t, err)
	if n := h.ServeImages(c, "gpu-1"); n != 1 {
		t.Fatalf("served %d jobs, want the source image", n)
	}
	return r.ID
}

// serveFromImages pops as an img2img and painting worker and serves what
// waits; it returns how many it served.
func serveFromImages(t *testing.T, h *bottest.Harness, c horde.Credential) int {
	t.Helper()
	as, _, err := h.Horde.Pop(h.Ctx, c, horde.PopRequest{Kind: horde.KindImage, Name: "gpu-1", Models: []string{"stable_diffusion"},
		MaxPixels: 1024 * 1024, NSFW: true, Amount: 20, Threads: 1, AllowImg2Img: true, AllowPainting: true})
	bottest.Must(t, err)
	for i, a := range as {
		_, err := h.Horde.SubmitResult(h.Ctx, c, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK,
			Image: bottest.SolidPNG(t, a.Request.Image.Width, a.Request.Image.Height, i)})
		bottest.Must(t, err)
	}
	return len(as)
}

// serveDescriptions pops the waiting caption and interrogation forms as
// an alchemist and answers them; it returns how many it served.
func serveDescriptions(t *testing.T, h *bottest.Harness, c horde.Credential) int {
	t.Helper()
	as, _, err := h.Horde.PopAlchemy(h.Ctx, c, horde.AlchemyPop{Name: "alchemist", Forms: []string{aihorde.FormCaption, aihorde.FormInterrogation},
		Amount: 10, Threads: 1, MaxTiles: 16})
	bottest.Must(t, err)
	for _, a := range as {
		result := `{"caption":"a harbour at dawn"}`
		if a.Form.Name == aihorde.FormInterrogation {
			result = `{"interrogation":{"tags":[{"text":"harbour","confidence":0.8}]}}`
		}
		_, err := h.Horde.SubmitAlchemy(h.Ctx, c, horde.AlchemySubmission{FormID: a.Form.ID, Result: result})
		bottest.Must(t, err)
	}
	return len(as)
}

func described(m discordtest.Message) bool { return strings.Contains(m.Content, "described") }

// openInterrogations is how many interrogations wait or run.
func openInterrogations(t *testing.T, h *bottest.Harness) int {
	t.Helper()
	open, err := h.Store.OpenInterrogations(h.Ctx)
	bottest.Must(t, err)
	return len(open)
}

// TestDeferredVaryResumedAfterItsProcessDied: the process that deferred a
// Vary (Subtle) click dies before queuing its img2img; the next process
// runs it on the deferral and the member gets the varied image there.
// The first process, waking up, queues nothing more.
func TestDeferredVaryResumedAfterItsProcessDied(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	worker := h.WorkerCred("gpu")
	src := sourceImage(t, h, worker)
	serveFromImages(t, h, worker) // nothing waits: it says it serves img2img
	vary := "image/vary/" + src + "/1/subtle"
	msg := h.BotButtons(h.General, vary) // what the button is on
	tok, id, p1, stalled := stallInteraction(t, h, false, time.Hour, func() string {
		return h.Click(h.Bob, h.General, msg, vary)
	})
	if n := requested(t, h, h.Bob); n != 0 {
		t.Fatalf("%d items queued before the restart", n)
	}

	p2 := h.StartProcess(resumeSpec(h))
	h.Original(tok, "queued by the next process", bottest.Queued)
	if n := serveFromImages(t, h, worker); n != 1 {
		t.Fatalf("served %d img2img jobs, want the variation", n)
	}
	res := h.Original(tok, "the variation on the deferral", bottest.HasFiles)
	waitFor(t, h.Ctx, p2.Interactions, "component image/vary ok")
	state, reqID, err := h.Store.DiscordInteractionState(h.Ctx, id)
	if err != nil || state != deferredix.Watched || reqID == "" {
		t.Fatalf("the interaction is %s %q (%v), want watched, with its request", state, reqID, err)
	}
	p, err := h.Horde.Check(h.Ctx, reqID)
	bottest.Must(t, err)
	if p.Request.Image.SourceProcessing != "img2img" || p.Request.UserID != h.User(h.Bob).ID {
		t.Fatalf("the resumed request is %q for user %d, want bob's img2img", p.Request.Image.SourceProcessing, p.Request.UserID)
	}

	close(stalled.release) // the first process wakes up and submits
	waitFor(t, h.Ctx, p1.Interactions, "component image/vary ok")
	if n := requested(t, h, h.Bob); n != 1 {
		t.Fatalf("bob's Vary queued %d items, want 1", n)
	}
	if m, _ := h.Srv.Original(tok); len(m.Files) != len(res.Files) || m.Content != res.Content {
		t.Fatalf("the result message changed after the first process woke: %q", m.Content)
	}
}

// TestDeferredDescribeResumedAfterItsProcessDied: the process that
// deferred a /describe dies before queuing the interrogation; the next
// process fetches the attachment again (the recorded interaction names
// it), queues it and posts the description on the deferral. The first
// process, waking up, interrogates nothing more.
func TestDeferredDescribeResumedAfterItsProcessDied(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	a := h.Srv.UploadAttachment(discordtest.Upload{Name: "harbour.png", ContentType: "image/png", Data: bottest.SolidPNG(t, 128, 96, 2)})
	tok, id, p1, stalled := stallInteraction(t, h, false, time.Hour, func() string {
		return h.Run(h.Alice, h.General, "describe", discordtest.AttachmentOpt("image", a.ID))
	})
	if n := openInterrogations(t, h); n != 0 {
		t.Fatalf("%d interrogations queued before the restart", n)
	}
	before := h.Balance(h.Alice)

	p2 := h.StartProcess(resumeSpec(h))
	h.Original(tok, "queued by the next process", func(m discordtest.Message) bool { return strings.Contains(m.Content, "alchemist") })
	if n := serveDescriptions(t, h, h.WorkerCred("alchemist")); n != 2 {
		t.Fatalf("served %d forms, want the caption and the interrogation", n)
	}
	m := h.Original(tok, "the description on the deferral", described)
	if !strings.Contains(m.Content, "harbour.png") || !strings.Contains(m.Content, "a harbour at dawn") {
		t.Fatalf("the description %q does not name the image and its caption", m.Content)
	}
	waitFor(t, h.Ctx, p2.Interactions, "command describe ok")
	state, inID, err := h.Store.DiscordInteractionState(h.Ctx, id)
	if err != nil || state != deferredix.Watched || inID == "" {
		t.Fatalf("the interaction is %s %q (%v), want watched, with its interrogation", state, inID, err)
	}
	paid := before - h.Balance(h.Alice)

	close(stalled.release) // the first process wakes up and interrogates
	waitFor(t, h.Ctx, p1.Interactions, "command describe ok")
	if n := openInterrogations(t, h); n != 0 {
		t.Fatalf("the first process queued %d more interrogations", n)
	}
	if again := before - h.Balance(h.Alice); again != paid {
		t.Fatalf("alice paid %d kudos after the first process woke, want %d", again, paid)
	}
	if got, _ := h.Srv.Original(tok); got.Content != m.Content {
		t.Fatalf("the description changed after the first process woke: %q", got.Content)
	}
}

// TestQueuedDescribeDeliveryResumedAfterItsProcessDied: the process that
// queued a Describe (the message menu) dies before saving the delivery of
// its interrogation; the next process delivers it on the deferral.
func TestQueuedDescribeDeliveryResumedAfterItsProcessDied(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	pic, err := h.Srv.SendMessage(discordtest.UserMessage{ChannelID: h.General.ID, AuthorID: h.Bob.ID, Content: "look",
		Files: []discordtest.File{{Name: "harbour.png", ContentType: "image/png", Data: bottest.SolidPNG(t, 128, 96, 3)}}})
	bottest.Must(t, err)
	tok, id, _, _ := stallInteraction(t, h, true, time.Hour, func() string {
		tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID,
			Command: "Describe", CommandType: discordgo.MessageApplicationCommand, TargetID: pic.ID})
		bottest.Must(t, err)
		return tok
	})
	if state, _, err := h.Store.DiscordInteractionState(h.Ctx, id); err != nil || state != deferredix.Queued {
		t.Fatalf("the stalled interaction is %s (%v), want queued", state, err)
	}
	h.StartProcess(resumeSpec(h))
	h.Original(tok, "progress from the next process", func(m discordtest.Message) bool { return strings.Contains(m.Content, "alchemist") })
	if state, _, err := h.Store.DiscordInteractionState(h.Ctx, id); err != nil || state != deferredix.Watched {
		t.Fatalf("the interaction is %s (%v), want watched", state, err)
	}
	if n := serveDescriptions(t, h, h.WorkerCred("alchemist")); n != 2 {
		t.Fatalf("served %d forms, want the caption and the interrogation", n)
	}
	h.Original(tok, "the description on the deferral", described)
}

// TestDeferredRemixSubmitResumedAfterItsProcessDied: a Remix form's
// submit is an interaction of its own (its own id and token), recorded
// with the form's values; its process dies before queuing, and the next
// process fetches the message again and delivers the remix on the submit's
// deferral.
func TestDeferredRemixSubmitResumedAfterItsProcessDied(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	worker := h.WorkerCred("gpu")
	serveFromImages(t, h, worker) // an img2img worker is known: the request is possible
	pic, err := h.Srv.SendMessage(discordtest.UserMessage{ChannelID: h.General.ID, AuthorID: h.Bob.ID, Content: "look",
		Files: []discordtest.File{{Name: "harbour.png", ContentType: "image/png", Data: bottest.SolidPNG(t, 128, 96, 4)}}})
	bottest.Must(t, err)
	tok, id, _, _ := stallInteraction(t, h, false, time.Hour, func() string {
		tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID,
			CustomID: "remix/" + pic.ID, Fields: []discordtest.ModalField{{CustomID: "prompt", Value: "a harbour at night"}, {CustomID: "strength", Value: "0.6"}}})
		bottest.Must(t, err)
		return tok
	})
	p2 := h.StartProcess(resumeSpec(h))
	h.Original(tok, "queued by the next process", bottest.Queued)
	if n := serveFromImages(t, h, worker); n != 1 {
		t.Fatalf("served %d img2img jobs, want the remix", n)
	}
	h.Original(tok, "the remix on the submit's deferral", bottest.HasFiles)
	waitFor(t, h.Ctx, p2.Interactions, "modal remix ok")
	_, reqID, err := h.Store.DiscordInteractionState(h.Ctx, id)
	bottest.Must(t, err)
	p, err := h.Horde.Check(h.Ctx, reqID)
	bottest.Must(t, err)
	if p.Request.Prompt != "a harbour at night" || p.Request.Image.DenoisingStrength != 0.6 {
		t.Fatalf("the resumed remix is %q at %g, want the form's prompt at 0.6", p.Request.Prompt, p.Request.Image.DenoisingStrength)
	}
}
