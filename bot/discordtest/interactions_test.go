package discordtest_test

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// restCode returns the Discord JSON error code of a discordgo REST error, or -1.
func restCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return -1
}

func TestDeferredInteractionThenEditWithFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	img := pngBytes(t, 4, 3, color.RGBA{R: 200, A: 255})
	type seen struct {
		prompt string
		steps  int64
		member string
		perms  int64
	}
	got := make(chan seen, 1)
	errs := make(chan error, 2)
	f.open(t, func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		if ic.Type != discordgo.InteractionApplicationCommand {
			return
		}
		data := ic.ApplicationCommandData()
		got <- seen{data.GetOption("prompt").StringValue(), data.GetOption("steps").IntValue(), ic.Member.User.ID, ic.Member.Permissions}
		if err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
			errs <- fmt.Errorf("defer: %w", err)
			return
		}
		content := "done: " + data.GetOption("prompt").StringValue()
		_, err := s.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{
			Content: &content,
			Files:   []*discordgo.File{{Name: "grid.png", ContentType: "image/png", Reader: bytes.NewReader(img)}},
		})
		errs <- err
	})

	tok, err := f.srv.SendInteraction(discordtest.Interaction{
		GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.bob.ID,
		Command: "imagine", Options: discordtest.Opts(discordtest.Opt("prompt", "a red cat"), discordtest.Opt("steps", 30)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := recv(t, ctx, got, "interaction in handler"); s.prompt != "a red cat" || s.steps != 30 || s.member != f.bob.ID ||
		s.perms&discordgo.PermissionManageMessages == 0 {
		t.Errorf("handler saw %+v", s)
	}
	if err := recv(t, ctx, errs, "handler result"); err != nil {
		t.Fatalf("handler: %v", err)
	}

	m, err := f.srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool { return len(m.Files) == 1 })
	if err != nil {
		t.Fatal(err)
	}
	if m.Content != "done: a red cat" || m.Flags&discordgo.MessageFlagsLoading != 0 || m.ChannelID != f.text.ID {
		t.Errorf("original = %q flags %d in %s", m.Content, m.Flags, m.ChannelID)
	}
	if m.Interaction == nil || m.Interaction.User.ID != f.bob.ID || m.Interaction.Name != "imagine" {
		t.Errorf("original interaction metadata = %+v", m.Interaction)
	}
	decoded, err := png.Decode(bytes.NewReader(m.Files[0].Data))
	if err != nil {
		t.Fatalf("decode attachment: %v", err)
	}
	if r, _, _, _ := decoded.At(0, 0).RGBA(); r>>8 != 200 || decoded.Bounds().Dx() != 4 {
		t.Errorf("attachment pixel red = %d, width %d", r>>8, decoded.Bounds().Dx())
	}
	if a := m.Attachments[0]; a.Filename != "grid.png" || a.Width != 4 || a.Height != 3 || a.Size != len(img) {
		t.Errorf("attachment = %+v", a)
	}
	// The attachment URL serves the bytes, as the CDN would.
	resp, err := http.Get(m.Attachments[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, img) {
		t.Errorf("GET attachment returned %d bytes, want the %d uploaded", len(body), len(img))
	}

	calls := f.srv.InteractionResponses(tok)
	if len(calls) != 2 {
		t.Fatalf("recorded %d calls for the token, want 2", len(calls))
	}
	if !calls[0].Is("POST", "/interactions/{id}/{token}/callback") || calls[0].Status != http.StatusNoContent {
		t.Errorf("first call = %s %d", calls[0].Route, calls[0].Status)
	}
	edit := calls[1]
	if !edit.Is("PATCH", "/webhooks/{app}/{token}/messages/{message}") || edit.Params["message"] != "@original" ||
		edit.ContentType != "multipart/form-data" || len(edit.Files) != 1 || !bytes.Equal(edit.Files[0].Data, img) {
		t.Errorf("edit call = %s %v %s with %d files", edit.Route, edit.Params, edit.ContentType, len(edit.Files))
	}
	if cb, ok := f.srv.Callback(tok); !ok || cb.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Errorf("callback = %+v, %v", cb, ok)
	}
}

func TestInteractionKinds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	s := f.open(t, func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		var resp discordgo.InteractionResponse
		switch ic.Type {
		case discordgo.InteractionApplicationCommand:
			who := "guild"
			if ic.User != nil {
				who = "dm:" + ic.User.ID
			}
			resp = discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: who, Flags: discordgo.MessageFlagsEphemeral}}
		case discordgo.InteractionMessageComponent:
			resp = discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage,
				Data: &discordgo.InteractionResponseData{Content: "clicked " + ic.MessageComponentData().CustomID}}
		case discordgo.InteractionApplicationCommandAutocomplete:
			typed := ic.ApplicationCommandData().Options[0].StringValue()
			resp = discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
				Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{{Name: typed + "-xl", Value: typed + "-xl"}}}}
		case discordgo.InteractionModalSubmit:
			row := ic.ModalSubmitData().Components[0].(*discordgo.ActionsRow)
			resp = discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: "renamed to " + row.Components[0].(*discordgo.TextInput).Value}}
		}
		_ = s.InteractionRespond(ic.Interaction, &resp)
	})
	button, err := s.ChannelMessageSendComplex(f.text.ID, &discordgo.MessageSend{
		Content: "result",
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Reroll", CustomID: "imagine/reroll/42", Style: discordgo.PrimaryButton},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		in    discordtest.Interaction
		check func(t *testing.T, tok string)
	}{
		{"slash command in a DM carries the user", discordtest.Interaction{UserID: f.alice.ID, Command: "worker"},
			func(t *testing.T, tok string) {
				m, ok := f.srv.Original(tok)
				dm, _ := f.srv.DMChannel(f.alice.ID)
				if !ok || m.Content != "dm:"+f.alice.ID || m.ChannelID != dm.ID || m.Flags&discordgo.MessageFlagsEphemeral == 0 {
					t.Errorf("original = %+v, %v", m.Message, ok)
				}
			}},
		// discordgo sends "components": null when Components is nil, which
		// clears the buttons on Discord, and so here.
		{"button click updates the message", discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID,
			CustomID: "imagine/reroll/42", MessageID: button.ID},
			func(t *testing.T, tok string) {
				m, ok := f.srv.Message(f.text.ID, button.ID)
				if !ok || m.Content != "clicked imagine/reroll/42" || len(m.Components) != 0 {
					t.Errorf("button message = %q with %d component rows", m.Content, len(m.Components))
				}
				if i, ok := f.srv.InteractionSent(tok); !ok || i.Message == nil || len(i.Message.Components) != 1 {
					t.Errorf("interaction message = %+v, want the message with its button row", i)
				}
			}},
		{"autocomplete gets choices", discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID,
			Command: "imagine", Options: discordtest.Opts(discordtest.Focused("model", "sdxl"))},
			func(t *testing.T, tok string) {
				cb, ok := f.srv.Callback(tok)
				if !ok || cb.Type != discordgo.InteractionApplicationCommandAutocompleteResult || len(cb.Choices) != 1 || cb.Choices[0].Name != "sdxl-xl" {
					t.Errorf("callback = %+v, %v", cb, ok)
				}
			}},
		{"modal submit carries the fields", discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID,
			CustomID: "worker/rename", Fields: []discordtest.ModalField{{CustomID: "name", Value: "gpu-1"}}},
			func(t *testing.T, tok string) {
				if m, ok := f.srv.Original(tok); !ok || m.Content != "renamed to gpu-1" {
					t.Errorf("original = %q, %v", m.Content, ok)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := f.srv.SendInteraction(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.srv.WaitForCallback(ctx, tok); err != nil {
				t.Fatal(err)
			}
			tt.check(t, tok)
		})
	}
}

func TestInteractionTokenRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.open(t)
	send := func() *discordgo.Interaction {
		t.Helper()
		tok, err := f.srv.SendInteraction(discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID, Command: "kudos"})
		if err != nil {
			t.Fatal(err)
		}
		i, ok := f.srv.InteractionSent(tok)
		if !ok {
			t.Fatal("InteractionSent: not found")
		}
		return i
	}
	deferred := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	content := "late"
	tests := []struct {
		name string
		run  func(i *discordgo.Interaction) error
		code int
	}{
		{"second callback is refused", func(i *discordgo.Interaction) error {
			if err := s.InteractionRespond(i, deferred); err != nil {
				return err
			}
			return s.InteractionRespond(i, deferred)
		}, 40060},
		{"follow-up before the callback is refused", func(i *discordgo.Interaction) error {
			_, err := s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: "x"})
			return err
		}, 10015},
		{"edit after the token expired is refused", func(i *discordgo.Interaction) error {
			if err := s.InteractionRespond(i, deferred); err != nil {
				return err
			}
			if err := f.srv.ExpireInteraction(i.Token); err != nil {
				return err
			}
			_, err := s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &content})
			return err
		}, 50027},
		{"empty message response is refused", func(i *discordgo.Interaction) error {
			return s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: &discordgo.InteractionResponseData{}})
		}, 50006},
		{"follow-up after the callback works", func(i *discordgo.Interaction) error {
			if err := s.InteractionRespond(i, deferred); err != nil {
				return err
			}
			m, err := s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: "more"})
			if err == nil && (m == nil || len(f.srv.Followups(i.Token)) != 1) {
				return errors.New("follow-up not stored")
			}
			return err
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(send())
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			if got := restCode(err); got != tt.code {
				t.Errorf("err = %v (code %d), want code %d", err, got, tt.code)
			}
		})
	}
}
