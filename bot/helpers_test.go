package bot_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
)

// testClock is the real time plus an offset tests can jump forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// harness is a bot connected to a fake Discord with a real store, horde and
// kudos engine, and a guild with three members.
type harness struct {
	t     testing.TB
	ctx   context.Context
	dir   string
	clock *testClock
	srv   *discordtest.Server
	st    *store.Store
	horde *horde.Horde
	kudos *kudos.Engine
	bot   *bot.Bot
	sess  *discordgo.Session
	cfg   bot.Config
	// events receives the kind of every gateway event the bot finished handling.
	events chan string

	guild                     *discordgo.Guild
	general, nsfw, art, audit *discordgo.Channel
	alice, bob, mod, bot2     *discordgo.User
	modRole                   *discordgo.Role
}

type harnessOption func(*bot.Config, *kudos.Config)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	h := &harness{t: t, ctx: ctx, dir: t.TempDir(), clock: &testClock{}, events: make(chan string, 4096)}
	h.srv = discordtest.New(discordtest.WithHeartbeatInterval(500*time.Millisecond), discordtest.WithLogger(quietLogger()))
	t.Cleanup(h.srv.Close)

	h.alice = h.srv.AddUser(discordgo.User{Username: "alice"})
	h.bob = h.srv.AddUser(discordgo.User{Username: "bob"})
	h.mod = h.srv.AddUser(discordgo.User{Username: "mod"})
	h.bot2 = h.srv.AddUser(discordgo.User{Username: "otherbot", Bot: true})
	h.guild = h.srv.AddGuild(discordgo.Guild{Name: "gpus", OwnerID: h.mod.ID})
	var err error
	h.modRole, err = h.srv.AddRole(h.guild.ID, discordgo.Role{Name: "moderators"})
	must(t, err)
	h.general, err = h.srv.AddChannel(discordgo.Channel{GuildID: h.guild.ID, Name: "general", Type: discordgo.ChannelTypeGuildText})
	must(t, err)
	h.nsfw, err = h.srv.AddChannel(discordgo.Channel{GuildID: h.guild.ID, Name: "after-dark", Type: discordgo.ChannelTypeGuildText, NSFW: true})
	must(t, err)
	h.art, err = h.srv.AddChannel(discordgo.Channel{GuildID: h.guild.ID, Name: "art", Type: discordgo.ChannelTypeGuildText})
	must(t, err)
	h.audit, err = h.srv.AddChannel(discordgo.Channel{GuildID: h.guild.ID, Name: "audit", Type: discordgo.ChannelTypeGuildText})
	must(t, err)
	joined := time.Now().Add(-30 * 24 * time.Hour)
	for _, u := range []*discordgo.User{h.alice, h.bob, h.bot2} {
		_, err = h.srv.AddMember(h.guild.ID, discordgo.Member{User: u, JoinedAt: joined})
		must(t, err)
	}
	_, err = h.srv.AddMember(h.guild.ID, discordgo.Member{User: h.mod, JoinedAt: joined, Roles: []string{h.modRole.ID}})
	must(t, err)

	kcfg := kudos.DefaultConfig()
	kcfg.MinAccountAge, kcfg.MinMembershipAge = 0, 0
	kcfg.ModeratorRoles = []string{h.modRole.ID}
	kcfg.Art.Channels = []string{h.art.ID} // the channel "share" posts to
	h.cfg = bot.Config{
		Config: commands.Config{
			ArtChannelID: h.art.ID, AuditChannelID: h.audit.ID, ModeratorRoleIDs: []string{h.modRole.ID},
			PublicURL: "http://horde.test", PollInterval: 5 * time.Millisecond, EditEvery: -1,
			Clock: h.clock, Logger: quietLogger(),
		},
		GuildIDs: []string{h.guild.ID}, LeaderboardChannelID: h.general.ID, CommandsPerMinute: -1, GuildCommandsPerMinute: -1,
		EventDone: func(ev string, err error) {
			if err != nil {
				ev += " failed: " + err.Error()
			}
			select {
			case h.events <- ev:
			default:
			}
		},
	}
	for _, o := range opts {
		o(&h.cfg, &kcfg)
	}
	h.openServices(kcfg, 0)
	h.start()
	return h
}

// on returns h reporting failures to t (a subtest).
func (h *harness) on(t testing.TB) *harness {
	c := *h
	c.t = t
	return &c
}

// openServices opens the store (with a database quota of maxDBBytes, 0 for
// none), the horde and the kudos engine in h.dir.
func (h *harness) openServices(kcfg kudos.Config, maxDBBytes int64) {
	h.t.Helper()
	var err error
	h.st, err = store.Open(h.ctx, h.dir, store.Options{Clock: h.clock, Logger: quietLogger(), MaxDBBytes: maxDBBytes})
	must(h.t, err)
	st := h.st
	h.t.Cleanup(func() { _ = st.Close() })
	h.horde, err = horde.New(h.ctx, h.st, horde.Config{Clock: h.clock, Logger: quietLogger(), Payments: kudos.PaymentRules{MemberFloor: -100, AnonymousFloor: -1000000}})
	must(h.t, err)
	h.kudos, err = kudos.New(h.st, kcfg, h.clock, kudos.WithLogger(quietLogger()))
	must(h.t, err)
}

// start builds the bot and starts it on a fresh session.
func (h *harness) start() {
	h.t.Helper()
	h.bot = bot.New(h.cfg, bot.Deps{Horde: h.horde, Kudos: h.kudos, Store: h.st})
	s, err := h.srv.NewSession(h.srv.Token())
	must(h.t, err)
	s.LogLevel = discordgo.LogError
	must(h.t, h.bot.Start(h.ctx, s))
	h.sess = s
	b := h.bot
	h.t.Cleanup(func() { stop(b, s) })
}

// stop stops the bot and closes its session in the background: discordgo's
// Close sleeps a second, which the tests need not wait for.
func stop(b *bot.Bot, s *discordgo.Session) {
	b.Stop()
	go func() { _ = s.Close() }()
}

// restart stops the bot and starts a new one on a new session, as a process restart would.
func (h *harness) restart() {
	h.t.Helper()
	stop(h.bot, h.sess)
	h.start()
}

// run sends a slash command in a guild channel and returns its token.
func (h *harness) run(user *discordgo.User, ch *discordgo.Channel, command string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
	h.t.Helper()
	tok, err := h.srv.SendInteraction(discordtest.Interaction{GuildID: ch.GuildID, ChannelID: ch.ID, UserID: user.ID, Command: command, Options: opts})
	must(h.t, err)
	return tok
}

// dm sends a slash command in the user's DM with the bot.
func (h *harness) dm(user *discordgo.User, command string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
	h.t.Helper()
	tok, err := h.srv.SendInteraction(discordtest.Interaction{UserID: user.ID, Command: command, Options: opts})
	must(h.t, err)
	return tok
}

// click presses a button on a message.
func (h *harness) click(user *discordgo.User, ch *discordgo.Channel, messageID, customID string) string {
	h.t.Helper()
	tok, err := h.srv.SendInteraction(discordtest.Interaction{GuildID: ch.GuildID, ChannelID: ch.ID, UserID: user.ID, CustomID: customID, MessageID: messageID})
	must(h.t, err)
	return tok
}

// original waits for the interaction's original response to match.
func (h *harness) original(tok string, what string, match func(discordtest.Message) bool) discordtest.Message {
	h.t.Helper()
	m, err := h.srv.WaitForOriginal(h.ctx, tok, match)
	if err != nil {
		orig, _ := h.srv.Original(tok)
		h.t.Fatalf("waiting for %s: %v (last original: %q)", what, err, orig.Content)
	}
	return m
}

// reply waits for the final text the caller sees: an immediate response,
// an edited deferral, or an ephemeral follow-up; it returns it and whether
// it was private.
func (h *harness) reply(tok string) (string, bool) {
	h.t.Helper()
	text, private, err := h.srv.WaitForReply(h.ctx, tok)
	must(h.t, err)
	return text, private
}

// waitEvent waits until the bot finished handling n more events of a kind.
func (h *harness) waitEvent(kind string, n int) {
	h.t.Helper()
	for n > 0 {
		select {
		case ev := <-h.events:
			if strings.HasPrefix(ev, kind+" failed") {
				h.t.Fatalf("event %s", ev)
			}
			if ev == kind {
				n--
			}
		case <-h.ctx.Done():
			h.t.Fatalf("waiting for %d more %s events: %v", n, kind, h.ctx.Err())
		}
	}
}

// balance is a member's kudos.
func (h *harness) balance(u *discordgo.User) int64 {
	h.t.Helper()
	hu, err := h.horde.DiscordUser(h.ctx, u.ID, "")
	must(h.t, err)
	b, err := h.kudos.Balance(h.ctx, hu.ID)
	must(h.t, err)
	return b
}

// post makes a member post a message in a channel.
func (h *harness) post(u *discordgo.User, ch *discordgo.Channel, text, replyTo string) *discordgo.Message {
	h.t.Helper()
	m, err := h.srv.SendMessage(discordtest.UserMessage{ChannelID: ch.ID, AuthorID: u.ID, Content: text, ReplyTo: replyTo})
	must(h.t, err)
	return m
}

// settle jumps past the settle delay and settles pending awards.
func (h *harness) settle() {
	h.t.Helper()
	h.clock.Advance(11 * time.Minute)
	_, err := h.kudos.Settle(h.ctx)
	must(h.t, err)
}

// workerCred is an image (or text) worker owned by a fresh API user.
func (h *harness) workerCred(name string) horde.Credential {
	h.t.Helper()
	_, key, err := h.horde.CreateUser(h.ctx, name+"-owner")
	must(h.t, err)
	c, err := h.horde.Authenticate(h.ctx, key)
	must(h.t, err)
	return c
}

// serveImages pops every waiting image job as worker name and submits a
// solid-colour PNG for each; it returns how many it served.
func (h *harness) serveImages(c horde.Credential, name string) int {
	h.t.Helper()
	as := h.popImages(c, name)
	for i, a := range as {
		_, err := h.horde.SubmitResult(h.ctx, c, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Seed: a.Job.Seed, Image: solidPNG(h.t, a.Request.Image.Width, a.Request.Image.Height, i)})
		must(h.t, err)
	}
	return len(as)
}

// popImages announces an image worker (so requests are possible) and pops
// whatever waits without submitting.
func (h *harness) popImages(c horde.Credential, name string) []horde.Assignment {
	h.t.Helper()
	as, _, err := h.horde.Pop(h.ctx, c, horde.PopRequest{Kind: horde.KindImage, Name: name, Models: []string{"stable_diffusion"}, MaxPixels: 1024 * 1024, NSFW: true, Amount: 20, Threads: 1})
	must(h.t, err)
	return as
}

// serveText pops every waiting text job and answers with text.
func (h *harness) serveText(c horde.Credential, name, text string) int {
	h.t.Helper()
	as, _, err := h.horde.Pop(h.ctx, c, horde.PopRequest{Kind: horde.KindText, Name: name, Models: []string{"llama"}, MaxLength: 1024, MaxContextLength: 4096, Amount: 5, Threads: 1})
	must(h.t, err)
	for _, a := range as {
		_, err := h.horde.SubmitResult(h.ctx, c, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Seed: a.Job.Seed, Text: text})
		must(h.t, err)
	}
	return len(as)
}

var palette = []color.NRGBA{{200, 40, 40, 255}, {40, 200, 40, 255}, {40, 40, 200, 255}, {200, 200, 40, 255}}

func solidPNG(t testing.TB, w, hgt, i int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, hgt))
	c := palette[i%len(palette)]
	for p := 0; p < len(img.Pix); p += 4 {
		img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	must(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// customIDs flattens a message's buttons to their custom IDs.
func customIDs(m discordtest.Message) []string {
	var ids []string
	for _, b := range m.Buttons() {
		ids = append(ids, b.CustomID)
	}
	return ids
}

func findID(ids []string, prefix string) string {
	for _, id := range ids {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	return ""
}

func decodeImage(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode attachment: %v", err)
	}
	return img
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantContains(t testing.TB, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("got %q, want it to contain %q", got, want)
	}
}

type (
	userT         = discordgo.User
	discordOption = discordgo.ApplicationCommandInteractionDataOption
)
