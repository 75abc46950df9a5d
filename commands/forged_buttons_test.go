package commands_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// TestForgedButtons: a button's custom ID is the client's to send, the
// message it is pressed on is Discord's, so a button is handled only on a
// message that carries it. A forged click naming a request of one's own on
// another member's message deletes nothing; one naming a request whose
// result the clicker never saw (delivered in a DM) queues nothing; a
// rating button pressed on another post rates nothing and writes no line
// into it. Each is refused in the member's language, and the real buttons
// still work for whom they are meant.
func TestForgedButtons(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	result := func(tok string) discordtest.Message {
		t.Helper()
		h.Original(tok, "queued", queuedMsg)
		h.ServeImages(w, "gpu-1")
		return h.Original(tok, "result", hasFiles)
	}
	alices := result(h.Run(h.Alice, h.General, "imagine", opt("prompt", "a lighthouse"), opt("count", 2), opt("seed", 42)))
	bobs := result(h.Run(h.Bob, h.General, "imagine", opt("prompt", "a harbour"), opt("count", 2), opt("seed", 7)))
	secret := result(h.DM(h.Alice, "imagine", opt("prompt", "a secret garden"), opt("seed", 9)))
	secretID := strings.TrimPrefix(findID(customIDs(secret), "imagine/reroll/"), "imagine/reroll/")
	if secretID == "" {
		t.Fatalf("alice's DM result has no reroll button: %v", customIDs(secret))
	}
	text, _ := h.Reply(h.Click(h.Alice, h.General, alices.ID, findID(customIDs(alices), "imagine/share/")))
	wantContains(t, text, "Shared")
	shared, err := h.Srv.WaitForMessage(h.Ctx, h.Art.ID, hasFiles)
	must(t, err)
	rate := findID(customIDs(shared), "share/rate/")

	click := func(t *testing.T, by *userT, ch *discordgo.Channel, msg, customID string, loc discordgo.Locale) (string, bool) {
		t.Helper()
		tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: ch.ID, UserID: by.ID, Locale: loc,
			CustomID: customID, MessageID: msg})
		must(t, err)
		return h.On(t).Reply(tok)
	}
	for _, tt := range []struct {
		name     string
		by       *userT
		msg      string
		customID string
		loc      discordgo.Locale
		want     string
	}{
		{"delete of one's own request on another member's result", h.Bob, alices.ID, findID(customIDs(bobs), "imagine/delete/"),
			discordgo.EnglishUS, "This button is not on this message."},
		{"one image's delete on another member's result", h.Bob, alices.ID, "image/delete/" + strings.TrimPrefix(findID(customIDs(bobs), "imagine/delete/"), "imagine/delete/"),
			discordgo.German, "Dieser Button gehört nicht zu dieser Nachricht."},
		{"reroll of a request delivered in another member's DM", h.Bob, bobs.ID, "imagine/reroll/" + secretID,
			discordgo.SpanishES, "Este botón no pertenece a este mensaje."},
		{"U1 of a request delivered in another member's DM", h.Bob, bobs.ID, "imagine/upscale/" + secretID + "/1",
			discordgo.EnglishUS, "This button is not on this message."},
		{"another member's share button on one's own result", h.Bob, bobs.ID, findID(customIDs(alices), "imagine/share/"),
			discordgo.EnglishUS, "This button is not on this message."},
		{"a rating button pressed on a result", h.Bob, bobs.ID, rate, discordgo.EnglishUS, "This button is not on this message."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text, private := click(t, tt.by, h.General, tt.msg, tt.customID, tt.loc)
			if !private || !strings.Contains(text, tt.want) {
				t.Errorf("reply %q (private %v), want a private %q", text, private, tt.want)
			}
		})
	}
	if m, ok := h.Srv.Message(h.General.ID, alices.ID); !ok {
		t.Error("a forged delete deleted alice's result")
	} else if strings.Contains(m.Content, "⭐") {
		t.Errorf("alice's result got a rating line: %q", m.Content)
	}
	if m, _ := h.Srv.Message(h.General.ID, bobs.ID); strings.Contains(m.Content, "⭐") {
		t.Errorf("a forged rating wrote into bob's result: %q", m.Content)
	}
	for _, m := range h.Srv.Messages(h.General.ID) {
		if strings.Contains(m.Content, "secret garden") {
			t.Errorf("alice's DM prompt reached #general: %q", m.Content)
		}
	}

	t.Run("the real buttons still work", func(t *testing.T) {
		text, _ := click(t, h.Bob, h.Art, shared.ID, rate, discordgo.EnglishUS)
		wantContains(t, text, "You rated these images")
		text, _ = click(t, h.Bob, h.General, alices.ID, findID(customIDs(alices), "imagine/delete/"), discordgo.EnglishUS)
		wantContains(t, text, "Only the member who asked for these images can delete them.")
		text, _ = click(t, h.Bob, h.General, bobs.ID, findID(customIDs(bobs), "imagine/delete/"), discordgo.EnglishUS)
		wantContains(t, text, "Deleted")
	})
}

// TestForgedRemixSubmit: a Remix form's custom ID names the message to
// remix; a forged one that is no message id is refused as malformed, and
// one naming a message of another channel finds nothing (the message is
// fetched in the submit's channel).
func TestForgedRemixSubmit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	elsewhere := h.Post(h.Alice, h.Art, "a picture elsewhere", "")
	for _, tt := range []struct {
		name, customID string
		loc            discordgo.Locale
		want           string
	}{
		{"no message id", "remix/latest", discordgo.EnglishUS, "This form is malformed."},
		{"no message id, in German", "remix/-1", discordgo.German, "Dieses Formular ist fehlerhaft."},
		{"a message of another channel", "remix/" + elsewhere.ID, discordgo.EnglishUS, "That message is gone"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Bob.ID, Locale: tt.loc,
				CustomID: tt.customID, Fields: []discordtest.ModalField{{CustomID: "prompt", Value: "a field at night"}, {CustomID: "strength", Value: "0.5"}}})
			must(t, err)
			text, private := h.On(t).Reply(tok)
			if !private || !strings.Contains(text, tt.want) {
				t.Errorf("reply %q (private %v), want a private %q", text, private, tt.want)
			}
		})
	}
}
