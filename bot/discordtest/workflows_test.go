package discordtest_test

import (
	"bytes"
	"image/color"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// seenInteraction is what a handler copied of an interaction.
type seenInteraction struct {
	typ discordgo.InteractionType
	app discordgo.ApplicationCommandInteractionData
	// modalID and fields are a modal submit's custom id and text inputs.
	modalID string
	fields  map[string]string
	user    string
}

// recordInteractions opens a session whose handler sends every interaction
// on the returned channel, after answering it with answer (nil: no answer).
func recordInteractions(t *testing.T, f *fixture, answer func(*discordgo.Session, *discordgo.InteractionCreate) error) <-chan seenInteraction {
	t.Helper()
	got := make(chan seenInteraction, 8)
	f.open(t, func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		seen := seenInteraction{typ: ic.Type, user: ic.Member.User.ID}
		switch ic.Type {
		case discordgo.InteractionApplicationCommand:
			seen.app = clone(t, ic.ApplicationCommandData())
		case discordgo.InteractionModalSubmit:
			d := ic.ModalSubmitData()
			seen.modalID, seen.fields = d.CustomID, map[string]string{}
			for _, row := range d.Components {
				for _, c := range row.(*discordgo.ActionsRow).Components {
					ti := c.(*discordgo.TextInput)
					seen.fields[ti.CustomID] = ti.Value
				}
			}
		}
		if answer != nil {
			if err := answer(s, ic); err != nil {
				t.Errorf("answer: %v", err)
			}
		}
		got <- seen
	})
	return got
}

func TestAttachmentOptionIsResolvedAndServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	got := recordInteractions(t, f, nil)
	img := pngBytes(t, 40, 30, color.RGBA{G: 200, A: 255})
	tests := []struct {
		name    string
		up      discordtest.Upload
		wantURL func(a *discordgo.MessageAttachment) bool
		size    int
	}{
		{"an image on the CDN", discordtest.Upload{Name: "cat.png", ContentType: "image/png", Data: img},
			func(a *discordgo.MessageAttachment) bool {
				return strings.HasPrefix(a.URL, f.srv.URL()+"/ephemeral-attachments/")
			}, len(img)},
		{"a forged url", discordtest.Upload{Name: "cat.png", ContentType: "image/png", Data: img, URL: "https://evil.example/cat.png"},
			func(a *discordgo.MessageAttachment) bool { return a.URL == "https://evil.example/cat.png" }, len(img)},
		{"a tampered size", discordtest.Upload{Name: "cat.png", ContentType: "image/png", Data: img, Size: 7},
			func(*discordgo.MessageAttachment) bool { return true }, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := f.srv.UploadAttachment(tt.up)
			if _, err := f.srv.SendInteraction(discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID,
				Command: "describe", Options: discordtest.Opts(discordtest.AttachmentOpt("image", up.ID))}); err != nil {
				t.Fatal(err)
			}
			seen := recv(t, ctx, got, "the command")
			o := seen.app.GetOption("image")
			if o == nil || o.Type != discordgo.ApplicationCommandOptionAttachment || o.Value != up.ID {
				t.Fatalf("option = %+v, want the attachment id %s", o, up.ID)
			}
			a := seen.app.Resolved.Attachments[up.ID]
			if a == nil {
				t.Fatalf("resolved attachments = %v, want %s", seen.app.Resolved.Attachments, up.ID)
			}
			if a.Filename != "cat.png" || a.ContentType != "image/png" || a.Size != tt.size || a.Width != 40 || a.Height != 30 || !a.Ephemeral || !tt.wantURL(a) {
				t.Errorf("resolved attachment = %+v", a)
			}
		})
	}

	t.Run("the CDN serves the bytes with their length, or chunked", func(t *testing.T) {
		for _, chunked := range []bool{false, true} {
			big := bytes.Repeat([]byte("x"), 100<<10)
			up := f.srv.UploadAttachment(discordtest.Upload{Name: "big.bin", Data: big, Chunked: chunked})
			resp, err := http.Get(up.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(body, big) {
				t.Fatalf("chunked %v: got %d bytes, want %d", chunked, len(body), len(big))
			}
			if want := int64(len(big)); chunked && resp.ContentLength != -1 || !chunked && resp.ContentLength != want {
				t.Errorf("chunked %v: Content-Length %d", chunked, resp.ContentLength)
			}
		}
	})
	t.Run("the real CDN host reaches the fake through its transport", func(t *testing.T) {
		up := f.srv.UploadAttachment(discordtest.Upload{Name: "cat.png", ContentType: "image/png", Data: img})
		cdn := strings.Replace(up.URL, f.srv.URL(), "https://cdn.discordapp.com", 1)
		resp, err := f.srv.Client().Get(cdn)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(body, img) || resp.Header.Get("Content-Type") != "image/png" {
			t.Errorf("GET %s: %d bytes of %s", cdn, len(body), resp.Header.Get("Content-Type"))
		}
	})
	t.Run("an unknown attachment id is refused", func(t *testing.T) {
		_, err := f.srv.SendInteraction(discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID,
			Command: "describe", Options: discordtest.Opts(discordtest.AttachmentOpt("image", "123"))})
		if err == nil {
			t.Fatal("an interaction naming no uploaded attachment was sent")
		}
	})
}

func TestContextMenuCommandsResolveTheirTarget(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	got := recordInteractions(t, f, nil)
	img := pngBytes(t, 16, 8, color.RGBA{B: 200, A: 255})
	target, err := f.srv.SendMessage(discordtest.UserMessage{ChannelID: f.text.ID, AuthorID: f.bob.ID, Content: "look",
		Files: []discordtest.File{{Name: "pic.png", ContentType: "image/png", Data: img}}})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a message command carries the message and its attachments", func(t *testing.T) {
		if _, err := f.srv.SendInteraction(discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID,
			Command: "Describe", CommandType: discordgo.MessageApplicationCommand, TargetID: target.ID}); err != nil {
			t.Fatal(err)
		}
		seen := recv(t, ctx, got, "the message command")
		if seen.app.CommandType != discordgo.MessageApplicationCommand || seen.app.TargetID != target.ID {
			t.Fatalf("data = type %d target %q", seen.app.CommandType, seen.app.TargetID)
		}
		m := seen.app.Resolved.Messages[target.ID]
		if m == nil || m.Content != "look" || len(m.Attachments) != 1 {
			t.Fatalf("resolved message = %+v", m)
		}
		a := m.Attachments[0]
		if a.Width != 16 || a.Height != 8 || a.ContentType != "image/png" {
			t.Errorf("attachment = %+v", a)
		}
		resp, err := http.Get(a.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(body, img) {
			t.Error("the target's attachment URL does not serve its bytes")
		}
	})
	t.Run("a user command carries the user and member", func(t *testing.T) {
		if _, err := f.srv.SendInteraction(discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID,
			Command: "Kudos", CommandType: discordgo.UserApplicationCommand, TargetID: f.bob.ID}); err != nil {
			t.Fatal(err)
		}
		seen := recv(t, ctx, got, "the user command")
		if seen.app.TargetID != f.bob.ID || seen.app.Resolved.Users[f.bob.ID] == nil || seen.app.Resolved.Members[f.bob.ID] == nil {
			t.Fatalf("data = %+v", seen.app)
		}
	})
	t.Run("a message command on an unknown message is refused", func(t *testing.T) {
		if _, err := f.srv.SendInteraction(discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID,
			Command: "Describe", CommandType: discordgo.MessageApplicationCommand, TargetID: "42"}); err == nil {
			t.Fatal("sent")
		}
	})
}

func TestModalShownThenSubmitted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	got := recordInteractions(t, f, func(s *discordgo.Session, ic *discordgo.InteractionCreate) error {
		switch ic.Type {
		case discordgo.InteractionApplicationCommand:
			return s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseModal,
				Data: &discordgo.InteractionResponseData{CustomID: "remix/123", Title: "Remix", Components: []discordgo.MessageComponent{
					discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{
						CustomID: "prompt", Label: "Prompt", Style: discordgo.TextInputParagraph, Required: true, MaxLength: 20}}},
					discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{
						CustomID: "strength", Label: "Strength", Style: discordgo.TextInputShort, Value: "0.6", MinLength: 1, MaxLength: 4}}},
				}},
			})
		case discordgo.InteractionModalSubmit:
			return s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: "ok", Flags: discordgo.MessageFlagsEphemeral},
			})
		}
		return nil
	})
	open := func(t *testing.T) string {
		t.Helper()
		tok, err := f.srv.SendInteraction(discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID, Command: "remix"})
		if err != nil {
			t.Fatal(err)
		}
		recv(t, ctx, got, "the command")
		return tok
	}

	tok := open(t)
	m, err := f.srv.WaitForModal(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if m.CustomID != "remix/123" || m.Title != "Remix" || len(m.Inputs) != 2 {
		t.Fatalf("modal = %+v", m)
	}
	if in, ok := m.Input("strength"); !ok || in.Value != "0.6" || in.Label != "Strength" {
		t.Errorf("strength input = %+v", in)
	}

	refusals := []struct {
		name   string
		values map[string]string
	}{
		{"a required input left empty", map[string]string{"strength": "0.5"}},
		{"a text too long", map[string]string{"prompt": strings.Repeat("a", 21)}},
		{"an input the modal lacks", map[string]string{"prompt": "a cat", "seed": "1"}},
	}
	for _, r := range refusals {
		t.Run(r.name+" is refused by the client", func(t *testing.T) {
			if _, err := f.srv.SubmitModal(tok, r.values); err == nil {
				t.Fatal("submitted")
			}
		})
	}
	t.Run("a valid submit reaches the bot with every field", func(t *testing.T) {
		sub, err := f.srv.SubmitModal(tok, map[string]string{"prompt": "a cat"})
		if err != nil {
			t.Fatal(err)
		}
		seen := recv(t, ctx, got, "the modal submit")
		if seen.typ != discordgo.InteractionModalSubmit || seen.modalID != "remix/123" || seen.user != f.alice.ID {
			t.Fatalf("submit = %+v", seen)
		}
		if values := seen.fields; values["prompt"] != "a cat" || values["strength"] != "0.6" {
			t.Errorf("fields = %v, want the typed prompt and the prefilled strength", seen.fields)
		}
		text, private, err := f.srv.WaitForReply(ctx, sub)
		if err != nil || text != "ok" || !private {
			t.Errorf("reply %q private %v err %v", text, private, err)
		}
	})
	t.Run("an interaction not answered with a modal cannot be submitted", func(t *testing.T) {
		if _, err := f.srv.SubmitModal("no-such-token", nil); err == nil {
			t.Fatal("submitted")
		}
	})
}
