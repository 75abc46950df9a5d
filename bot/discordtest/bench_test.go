package discordtest_test

import (
	"bytes"
	"context"
	"image/color"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// BenchmarkChannelMessageSend measures one discordgo REST call through the
// fake: transport rewrite, JSON decode, validation, storage and recording.
func BenchmarkChannelMessageSend(b *testing.B) {
	srv := discordtest.New()
	defer srv.Close()
	g := srv.AddGuild(discordgo.Guild{Name: "bench"})
	ch, err := srv.AddChannel(discordgo.Channel{GuildID: g.ID})
	if err != nil {
		b.Fatal(err)
	}
	s, err := srv.NewSession(srv.Token())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.ChannelMessageSend(ch.ID, "hello"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInteractionRoundTrip measures a slash command from the fake
// through the gateway to a discordgo handler that defers and then edits the
// reply with a PNG, until the fake has stored the file.
func BenchmarkInteractionRoundTrip(b *testing.B) {
	srv := discordtest.New()
	defer srv.Close()
	u := srv.AddUser(discordgo.User{Username: "u"})
	g := srv.AddGuild(discordgo.Guild{Name: "bench"})
	ch, err := srv.AddChannel(discordgo.Channel{GuildID: g.ID})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := srv.AddMember(g.ID, discordgo.Member{User: u}); err != nil {
		b.Fatal(err)
	}
	img := pngBytes(b, 64, 64, color.RGBA{B: 255, A: 255})
	s, err := srv.NewSession(srv.Token())
	if err != nil {
		b.Fatal(err)
	}
	s.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		_ = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
		_, _ = s.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{
			Files: []*discordgo.File{{Name: "a.png", ContentType: "image/png", Reader: bytes.NewReader(img)}},
		})
	})
	if err := s.Open(); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tok, err := srv.SendInteraction(discordtest.Interaction{GuildID: g.ID, ChannelID: ch.ID, UserID: u.ID, Command: "imagine"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool { return len(m.Files) == 1 }); err != nil {
			b.Fatal(err)
		}
	}
}
