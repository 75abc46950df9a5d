package discordtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/bot/discordtest/discordtesting"
)

func TestChannelMessageSendComplexWithFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := discordtesting.Session(t, f.srv) // REST only: no gateway needed
	// With no gateway session the user's message is only stored.
	question, err := f.srv.SendMessage(discordtest.UserMessage{ChannelID: f.text.ID, AuthorID: f.alice.ID, Content: "share it?"})
	if err != nil {
		t.Fatalf("SendMessage without a session: %v", err)
	}
	if msgs := f.srv.Messages(f.text.ID); len(msgs) != 1 || msgs[0].ID != question.ID {
		t.Fatalf("stored %d messages, want the user's one", len(msgs))
	}
	if _, err := f.srv.SendInteraction(discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID, Command: "x"}); !errors.Is(err, discordtest.ErrNoSession) {
		t.Errorf("SendInteraction without a session: err = %v, want ErrNoSession", err)
	}
	a := pngBytes(t, 2, 2, color.RGBA{G: 255, A: 255})
	b := []byte("plain text file")
	sent, err := s.ChannelMessageSendComplex(f.text.ID, &discordgo.MessageSend{
		Content:   "two files",
		Reference: &discordgo.MessageReference{MessageID: question.ID},
		Files: []*discordgo.File{
			{Name: "a.png", ContentType: "image/png", Reader: bytes.NewReader(a)},
			{Name: "b.txt", ContentType: "text/plain", Reader: bytes.NewReader(b)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.Attachments) != 2 || sent.Type != discordgo.MessageTypeReply || sent.Author.ID != f.srv.ApplicationID() {
		t.Fatalf("sent = %d attachments, type %d, author %s", len(sent.Attachments), sent.Type, sent.Author.ID)
	}
	stored, ok := f.srv.Message(f.text.ID, sent.ID)
	if !ok || len(stored.Files) != 2 || !bytes.Equal(stored.Files[0].Data, a) || !bytes.Equal(stored.Files[1].Data, b) {
		t.Fatalf("stored message files = %+v, %v", stored.Files, ok)
	}
	if stored.ReferencedMessage == nil || stored.ReferencedMessage.ID != question.ID {
		t.Errorf("reply references %+v, want %s", stored.ReferencedMessage, question.ID)
	}

	// Edit: keep only the first attachment and add a new one.
	keep := []*discordgo.MessageAttachment{{ID: sent.Attachments[0].ID}}
	edited, err := s.ChannelMessageEditComplex(&discordgo.MessageEdit{
		ID: sent.ID, Channel: f.text.ID, Attachments: &keep,
		Files: []*discordgo.File{{Name: "c.bin", Reader: bytes.NewReader([]byte{1, 2, 3})}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(edited.Attachments) != 2 || edited.Attachments[0].ID != sent.Attachments[0].ID || edited.Attachments[1].Filename != "c.bin" || edited.EditedTimestamp == nil {
		t.Errorf("edited attachments = %+v", edited.Attachments)
	}
	got, err := s.ChannelMessages(f.text.ID, 10, "", "", "")
	if err != nil || len(got) != 2 || got[0].ID != sent.ID {
		t.Fatalf("ChannelMessages = %d messages (%v), want 2 newest first", len(got), err)
	}
	if err := s.ChannelMessageDelete(f.text.ID, sent.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChannelMessage(f.text.ID, sent.ID); restCode(err) != 10008 {
		t.Errorf("deleted message fetch: err = %v, want Unknown Message", err)
	}
	// A user's message cannot be edited by the bot.
	if _, err := s.ChannelMessageEdit(f.text.ID, question.ID, "hijack"); restCode(err) != 50005 {
		t.Errorf("editing another user's message: err = %v, want 50005", err)
	}
}

func TestMessageValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, discordtest.WithFileSizeLimit(16))
	s := discordtesting.Session(t, f.srv)
	tests := []struct {
		name   string
		msg    *discordgo.MessageSend
		status int
		code   int
	}{
		{"empty message", &discordgo.MessageSend{}, http.StatusBadRequest, 50006},
		{"content too long", &discordgo.MessageSend{Content: strings.Repeat("x", 2001)}, http.StatusBadRequest, 50035},
		{"file over the limit", &discordgo.MessageSend{Files: []*discordgo.File{{Name: "big", Reader: bytes.NewReader(make([]byte, 17))}}}, http.StatusRequestEntityTooLarge, 40005},
		{"eleven files", &discordgo.MessageSend{Files: func() []*discordgo.File {
			var fs []*discordgo.File
			for range 11 {
				fs = append(fs, &discordgo.File{Name: "f", Reader: bytes.NewReader([]byte("x"))})
			}
			return fs
		}()}, http.StatusBadRequest, 50035},
		{"2000 characters is fine", &discordgo.MessageSend{Content: strings.Repeat("é", 2000)}, http.StatusOK, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.ChannelMessageSendComplex(f.text.ID, tt.msg)
			var re *discordgo.RESTError
			switch {
			case tt.status == http.StatusOK && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tt.status != http.StatusOK && (!errors.As(err, &re) || re.Response.StatusCode != tt.status || restCode(err) != tt.code):
				t.Errorf("err = %v, want HTTP %d code %d", err, tt.status, tt.code)
			}
		})
	}
}

func TestUserChannelCreateDM(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := discordtesting.Session(t, f.srv)
	dm, err := s.UserChannelCreate(f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dm.Type != discordgo.ChannelTypeDM || len(dm.Recipients) != 1 || dm.Recipients[0].ID != f.alice.ID {
		t.Fatalf("DM channel = %+v", dm)
	}
	again, err := s.UserChannelCreate(f.alice.ID)
	if err != nil || again.ID != dm.ID {
		t.Errorf("second UserChannelCreate = %v, %v; want the same channel %s", again, err, dm.ID)
	}
	if _, err := s.ChannelMessageSend(dm.ID, "your worker key: hk_123"); err != nil {
		t.Fatal(err)
	}
	if msgs := f.srv.Messages(dm.ID); len(msgs) != 1 || msgs[0].Content != "your worker key: hk_123" {
		t.Errorf("DM messages = %+v", msgs)
	}
	if err := f.srv.SetDMsClosed(f.alice.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChannelMessageSend(dm.ID, "again"); restCode(err) != 50007 {
		t.Errorf("DM to a closed inbox: err = %v, want 50007", err)
	}
	if _, err := s.UserChannelCreate("123"); restCode(err) != 10013 {
		t.Errorf("DM with an unknown user: err = %v, want 10013", err)
	}
}

func TestApplicationCommandBulkOverwrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := discordtesting.Session(t, f.srv)
	app := f.srv.ApplicationID()
	valid := []*discordgo.ApplicationCommand{
		{Name: "imagine", Description: "Generate images", Options: []*discordgo.ApplicationCommandOption{
			{Name: "prompt", Description: "What to draw", Type: discordgo.ApplicationCommandOptionString, Required: true},
			{Name: "model", Description: "Model", Type: discordgo.ApplicationCommandOptionString, Autocomplete: true},
		}},
		{Name: "kudos", Description: "Kudos", Options: []*discordgo.ApplicationCommandOption{
			{Name: "give", Description: "Give kudos", Type: discordgo.ApplicationCommandOptionSubCommand, Options: []*discordgo.ApplicationCommandOption{
				{Name: "user", Description: "Who", Type: discordgo.ApplicationCommandOptionUser, Required: true},
			}},
		}},
	}
	first, err := s.ApplicationCommandBulkOverwrite(app, "", valid)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.ApplicationCommandBulkOverwrite(app, "", valid)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].ID == "" || second[0].ID != first[0].ID || first[0].ApplicationID != app {
		t.Errorf("overwrite ids: first %+v, second %+v; want stable ids", first[0], second[0])
	}
	if _, err := s.ApplicationCommandBulkOverwrite(app, f.guild.ID, valid[:1]); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.Commands(f.guild.ID); len(got) != 1 || got[0].Name != "imagine" || got[0].GuildID != f.guild.ID {
		t.Errorf("guild commands = %+v", got)
	}
	listed, err := s.ApplicationCommands(app, "")
	if err != nil || len(listed) != 2 {
		t.Errorf("GET global commands = %d, %v", len(listed), err)
	}
	puts, err := f.srv.WaitForN(testCtx(t), 3, func(r discordtest.Recorded) bool {
		return r.Is("PUT", "/applications/{app}/commands") || r.Is("PUT", "/applications/{app}/guilds/{guild}/commands")
	})
	if err != nil {
		t.Fatal(err)
	}
	var body []*discordgo.ApplicationCommand
	if err := puts[0].Decode(&body); err != nil || len(body) != 2 || body[0].Options[0].Name != "prompt" {
		t.Errorf("recorded PUT body = %+v, %v", body, err)
	}

	invalid := []struct {
		name string
		cmd  *discordgo.ApplicationCommand
	}{
		{"uppercase name", &discordgo.ApplicationCommand{Name: "Imagine", Description: "x"}},
		{"missing description", &discordgo.ApplicationCommand{Name: "imagine"}},
		{"required after optional", &discordgo.ApplicationCommand{Name: "imagine", Description: "x", Options: []*discordgo.ApplicationCommandOption{
			{Name: "a", Description: "a", Type: discordgo.ApplicationCommandOptionString},
			{Name: "b", Description: "b", Type: discordgo.ApplicationCommandOptionString, Required: true},
		}}},
		{"choices with autocomplete", &discordgo.ApplicationCommand{Name: "imagine", Description: "x", Options: []*discordgo.ApplicationCommandOption{
			{Name: "a", Description: "a", Type: discordgo.ApplicationCommandOptionString, Autocomplete: true,
				Choices: []*discordgo.ApplicationCommandOptionChoice{{Name: "x", Value: "x"}}},
		}}},
		{"capitalised localised name", &discordgo.ApplicationCommand{Name: "imagine", Description: "x",
			NameLocalizations: &map[discordgo.Locale]string{discordgo.German: "Bild"}}},
		{"localised name in an unknown locale", &discordgo.ApplicationCommand{Name: "imagine", Description: "x",
			NameLocalizations: &map[discordgo.Locale]string{"xx": "bild"}}},
		{"localised option description too long", &discordgo.ApplicationCommand{Name: "imagine", Description: "x", Options: []*discordgo.ApplicationCommandOption{
			{Name: "a", Description: "a", Type: discordgo.ApplicationCommandOptionString,
				DescriptionLocalizations: map[discordgo.Locale]string{discordgo.SpanishES: strings.Repeat("a", 101)}},
		}}},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.ApplicationCommandBulkOverwrite(app, "", []*discordgo.ApplicationCommand{tt.cmd}); restCode(err) != 50035 {
				t.Errorf("err = %v, want Invalid Form Body", err)
			}
		})
	}
	if got := f.srv.Commands(""); len(got) != 2 {
		t.Errorf("rejected overwrites changed the commands: %d registered", len(got))
	}
}

func TestRateLimitIsRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		global bool
	}{
		{"per-route limit", false},
		{"global limit", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			s := discordtesting.Session(t, f.srv)
			if tt.global {
				f.srv.RateLimitGlobalNext("POST", "/channels/", 20*time.Millisecond)
			} else {
				f.srv.RateLimitNext("POST", "/api/v9/channels/"+f.text.ID, 20*time.Millisecond)
			}
			if _, err := s.ChannelMessageSend(f.text.ID, "hi"); err != nil {
				t.Fatalf("send through a 429: %v", err)
			}
			var statuses []int
			for _, r := range f.srv.Requests() {
				if r.Method == "POST" && r.Path == "/channels/"+f.text.ID+"/messages" {
					statuses = append(statuses, r.Status)
				}
			}
			if len(statuses) != 2 || statuses[0] != http.StatusTooManyRequests || statuses[1] != http.StatusOK {
				t.Errorf("statuses = %v, want [429 200]", statuses)
			}
			limited := f.srv.Requests()[0]
			if (limited.Response == nil) || !strings.Contains(string(limited.Response), `"retry_after"`) {
				t.Errorf("429 body = %s", limited.Response)
			}
			if msgs := f.srv.Messages(f.text.ID); len(msgs) != 1 {
				t.Errorf("stored %d messages, want 1", len(msgs))
			}
		})
	}
}

func TestTransportOnlyReachesDiscord(t *testing.T) {
	t.Parallel()
	srv := discordtest.New()
	t.Cleanup(srv.Close)
	client := srv.Client()
	tests := []struct {
		url    string
		wantOK bool
	}{
		{"https://discord.com/api/v9/gateway", true},
		{"https://discord.com/api/v9/users/@me", false}, // reaches the fake, 401 without a token
		{"https://example.com/", false},
		{"http://169.254.169.254/latest/meta-data", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			ok := err == nil && resp.StatusCode == http.StatusOK
			if err == nil {
				resp.Body.Close()
			}
			if ok != tt.wantOK {
				t.Errorf("GET %s: ok = %v (err %v), want %v", tt.url, ok, err, tt.wantOK)
			}
		})
	}
}

func TestGuildGetters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := discordtesting.Session(t, f.srv)
	tests := []struct {
		name string
		call func() error
	}{
		{"member with roles and joined_at", func() error {
			m, err := s.GuildMember(f.guild.ID, f.alice.ID)
			if err == nil && (m.User.ID != f.alice.ID || m.JoinedAt.Year() != 2024 || m.Permissions != discordgo.PermissionAll) {
				return fmt.Errorf("member = %+v (owner should have every permission)", m)
			}
			return err
		}},
		{"members paged by id", func() error {
			ms, err := s.GuildMembers(f.guild.ID, "", 2)
			if err == nil && len(ms) != 2 {
				return fmt.Errorf("got %d members, want 2", len(ms))
			}
			return err
		}},
		{"roles include @everyone", func() error {
			rs, err := s.GuildRoles(f.guild.ID)
			if err == nil && (len(rs) != 2 || rs[0].ID != f.guild.ID || rs[1].ID != f.mod.ID) {
				return fmt.Errorf("roles = %+v", rs)
			}
			return err
		}},
		{"channel keeps the NSFW flag", func() error {
			c, err := s.Channel(f.nsfw.ID)
			if err == nil && (!c.NSFW || c.GuildID != f.guild.ID) {
				return fmt.Errorf("channel = %+v", c)
			}
			return err
		}},
		{"user and @me", func() error {
			u, err := s.User(f.bob.ID)
			if err != nil || u.Username != "bob" {
				return fmt.Errorf("user = %+v, %v", u, err)
			}
			me, err := s.User("@me")
			if err == nil && (me.ID != f.srv.ApplicationID() || !me.Bot) {
				return fmt.Errorf("@me = %+v", me)
			}
			return err
		}},
		{"unknown member is 10007", func() error {
			if _, err := s.GuildMember(f.guild.ID, "1"); restCode(err) != 10007 {
				return fmt.Errorf("err = %v, want 10007", err)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Error(err)
			}
		})
	}
}
