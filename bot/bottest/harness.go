// Package bottest runs the whole Discord bot for tests: a fake Discord
// (bot/discordtest) with a guild, channels and members, a real store in a
// temporary directory, the horde and the kudos engine, and helpers that act
// as members and workers and wait for what a member would see. The bot's
// own tests and the commands' tests use it; it imports testing, so only
// tests may import it (cmd/hordebot's TestBinaryLinksNoTestCode checks).
package bottest

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestClock is the real time plus an offset tests can jump forward.
type TestClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the real time plus the offset.
func (c *TestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance jumps the clock forward by d.
func (c *TestClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Harness is a bot connected to a fake Discord with a real store, horde and
// kudos engine, and a guild with three members.
type Harness struct {
	T     testing.TB
	Ctx   context.Context
	Dir   string
	Clock *TestClock
	Srv   *discordtest.Server
	Store *store.Store
	Horde *horde.Horde
	Kudos *kudos.Engine
	// Previews are the workers' live previews, which the bot shows.
	Previews *horde.Previews
	// Hub carries the horde's events (a request finished) to the bot's
	// result watchers, as in production.
	Hub  *horde.EventHub
	Bot  *bot.Bot
	Sess *discordgo.Session
	Cfg  bot.Config
	// Events receives the kind of every gateway event the bot finished handling.
	Events chan string

	Guild                     *discordgo.Guild
	General, NSFW, Art, Audit *discordgo.Channel
	Alice, Bob, Mod, Bot2     *discordgo.User // Mod holds ModRole; Bot2 is another bot
	ModRole                   *discordgo.Role
}

// Option adjusts the bot's and the kudos engine's config before they start.
type Option func(*bot.Config, *kudos.Config)

// QuietLogger discards everything.
func QuietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// New starts the harness: the fake Discord with guild "gpus" (channels
// general, after-dark (NSFW), art, audit; members alice, bob, mod (a
// moderator) and otherbot), the services in t.TempDir() and the bot. The
// bot's rate limits are off, results are polled every 5 ms and progress
// edited on every poll. Everything stops when t ends.
func New(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	h := NewUnstarted(t, opts...)
	h.Start()
	return h
}

// NewUnstarted is New without the bot: the fake Discord, the guild and the
// services are ready, and the test starts its processes (StartProcess).
func NewUnstarted(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	h := &Harness{T: t, Ctx: ctx, Dir: t.TempDir(), Clock: &TestClock{}, Events: make(chan string, 4096)}
	// A generous answer window for interaction POSTs: -race on busy cores is slow.
	h.Srv = discordtest.New(discordtest.WithHeartbeatInterval(500*time.Millisecond), discordtest.WithLogger(QuietLogger()),
		discordtest.WithInteractionTimeout(20*time.Second))
	t.Cleanup(h.Srv.Close)

	h.Alice = h.Srv.AddUser(discordgo.User{Username: "alice"})
	h.Bob = h.Srv.AddUser(discordgo.User{Username: "bob"})
	h.Mod = h.Srv.AddUser(discordgo.User{Username: "mod"})
	h.Bot2 = h.Srv.AddUser(discordgo.User{Username: "otherbot", Bot: true})
	h.Guild = h.Srv.AddGuild(discordgo.Guild{Name: "gpus", OwnerID: h.Mod.ID})
	var err error
	h.ModRole, err = h.Srv.AddRole(h.Guild.ID, discordgo.Role{Name: "moderators"})
	Must(t, err)
	h.General, err = h.Srv.AddChannel(discordgo.Channel{GuildID: h.Guild.ID, Name: "general", Type: discordgo.ChannelTypeGuildText})
	Must(t, err)
	h.NSFW, err = h.Srv.AddChannel(discordgo.Channel{GuildID: h.Guild.ID, Name: "after-dark", Type: discordgo.ChannelTypeGuildText, NSFW: true})
	Must(t, err)
	h.Art, err = h.Srv.AddChannel(discordgo.Channel{GuildID: h.Guild.ID, Name: "art", Type: discordgo.ChannelTypeGuildText})
	Must(t, err)
	h.Audit, err = h.Srv.AddChannel(discordgo.Channel{GuildID: h.Guild.ID, Name: "audit", Type: discordgo.ChannelTypeGuildText})
	Must(t, err)
	joined := time.Now().Add(-30 * 24 * time.Hour)
	for _, u := range []*discordgo.User{h.Alice, h.Bob, h.Bot2} {
		_, err = h.Srv.AddMember(h.Guild.ID, discordgo.Member{User: u, JoinedAt: joined})
		Must(t, err)
	}
	_, err = h.Srv.AddMember(h.Guild.ID, discordgo.Member{User: h.Mod, JoinedAt: joined, Roles: []string{h.ModRole.ID}})
	Must(t, err)

	kcfg := kudos.DefaultConfig()
	kcfg.MinAccountAge, kcfg.MinMembershipAge = 0, 0
	kcfg.ModeratorRoles = []string{h.ModRole.ID}
	kcfg.Art.Channels = []string{h.Art.ID} // the channel "share" posts to
	h.Cfg = bot.Config{
		Config: commands.Config{
			ArtChannelID: h.Art.ID, AuditChannelID: h.Audit.ID, ModeratorRoleIDs: []string{h.ModRole.ID},
			PublicURL: "http://horde.test", PollInterval: 5 * time.Millisecond, EditEvery: -1,
			Clock: h.Clock, Logger: QuietLogger(),
			// The fake's CDN serves members' attachments on its own address.
			AttachmentHosts: []string{strings.TrimPrefix(h.Srv.URL(), "http://")},
		},
		GuildIDs: []string{h.Guild.ID}, LeaderboardChannelID: h.General.ID, CommandsPerMinute: -1, GuildCommandsPerMinute: -1,
		EventDone: func(ev string, err error) {
			if err != nil {
				ev += " failed: " + err.Error()
			}
			select {
			case h.Events <- ev:
			default:
			}
		},
	}
	for _, o := range opts {
		o(&h.Cfg, &kcfg)
	}
	h.OpenServices(kcfg, 0)
	return h
}

// On returns h reporting failures to t (a subtest).
func (h *Harness) On(t testing.TB) *Harness {
	c := *h
	c.T = t
	return &c
}

// OpenServices opens the store (with a database quota of maxDBBytes, 0 for
// none), the horde and the kudos engine in h.Dir.
func (h *Harness) OpenServices(kcfg kudos.Config, maxDBBytes int64) {
	h.T.Helper()
	if maxDBBytes > 0 {
		storetest.SkipOnPostgres(h.T, "the data quota")
	}
	var err error
	h.Store, err = store.Open(h.Ctx, storetest.Database(h.T, h.Dir), store.Options{Clock: h.Clock, Logger: QuietLogger(),
		MaxDBBytes: maxDBBytes, MaxConns: storetest.TestMaxConns})
	Must(h.T, err)
	st := h.Store
	h.T.Cleanup(func() { _ = st.Close() })
	h.Hub = horde.NewEventHub()
	h.Horde, err = horde.New(h.Ctx, h.Store, horde.Config{Clock: h.Clock, Logger: QuietLogger(), Events: h.Hub,
		Payments: kudos.PaymentRules{MemberFloor: -100, AnonymousFloor: -1000000}})
	Must(h.T, err)
	h.Kudos, err = kudos.New(h.Store, kcfg, h.Clock, kudos.WithLogger(QuietLogger()))
	Must(h.T, err)
	h.Previews = horde.NewPreviews(h.Horde, h.Store, horde.PreviewConfig{})
}

// Start builds the bot and starts it on a fresh session.
func (h *Harness) Start() {
	h.T.Helper()
	h.Bot = bot.New(h.Cfg, bot.Deps{Horde: h.Horde, Kudos: h.Kudos, Store: h.Store, Roles: h.Store, Previews: h.Previews, Styles: api.NewStyleRules(h.Store),
		Ratings: horde.NewRatings(h.Horde, h.Store, horde.RatingConfig{}), Events: h.Hub})
	s, err := h.Srv.NewSession(h.Srv.Token())
	Must(h.T, err)
	s.LogLevel = discordgo.LogError
	Must(h.T, h.Bot.Start(h.Ctx, s))
	h.Sess = s
	b := h.Bot
	h.T.Cleanup(func() { Stop(b, s) })
}

// Stop stops the bot and closes its session in the background: discordgo's
// Close sleeps a second, which the tests need not wait for.
func Stop(b *bot.Bot, s *discordgo.Session) {
	b.Stop()
	go func() { _ = s.Close() }()
}

// Restart stops the bot and starts a new one on a new session, as a process restart would.
func (h *Harness) Restart() {
	h.T.Helper()
	Stop(h.Bot, h.Sess)
	h.Start()
}

// Run sends a slash command in a guild channel and returns its token.
func (h *Harness) Run(user *discordgo.User, ch *discordgo.Channel, command string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
	h.T.Helper()
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: ch.GuildID, ChannelID: ch.ID, UserID: user.ID, Command: command, Options: opts})
	Must(h.T, err)
	return tok
}

// DM sends a slash command in the user's DM with the bot.
func (h *Harness) DM(user *discordgo.User, command string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
	h.T.Helper()
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{UserID: user.ID, Command: command, Options: opts})
	Must(h.T, err)
	return tok
}

// Click presses a button on a message.
func (h *Harness) Click(user *discordgo.User, ch *discordgo.Channel, messageID, customID string) string {
	h.T.Helper()
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: ch.GuildID, ChannelID: ch.ID, UserID: user.ID, CustomID: customID, MessageID: messageID})
	Must(h.T, err)
	return tok
}

// BotButtons posts a message of the bot's in ch carrying a button of each
// custom ID (over REST, as the bot: no bot need run), as an old result may
// carry buttons whose request or image is gone, and returns its id. The
// commands handle a button only on a message that carries it.
func (h *Harness) BotButtons(ch *discordgo.Channel, customIDs ...string) string {
	h.T.Helper()
	s, err := h.Srv.NewSession(h.Srv.Token())
	Must(h.T, err)
	var row []discordgo.MessageComponent
	for _, id := range customIDs {
		row = append(row, discordgo.Button{Label: "old", CustomID: id, Style: discordgo.SecondaryButton})
	}
	m, err := s.ChannelMessageSendComplex(ch.ID, &discordgo.MessageSend{Content: "an old result",
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: row}}})
	Must(h.T, err)
	return m.ID
}

// Original waits for the interaction's original response to match.
func (h *Harness) Original(tok string, what string, match func(discordtest.Message) bool) discordtest.Message {
	h.T.Helper()
	m, err := h.Srv.WaitForOriginal(h.Ctx, tok, match)
	if err != nil {
		orig, _ := h.Srv.Original(tok)
		h.T.Fatalf("waiting for %s: %v (last original: %q)", what, err, orig.Content)
	}
	return m
}

// Reply waits for the final text the caller sees: an immediate response,
// an edited deferral, or an ephemeral follow-up; it returns it and whether
// it was private.
func (h *Harness) Reply(tok string) (string, bool) {
	h.T.Helper()
	text, private, err := h.Srv.WaitForReply(h.Ctx, tok)
	Must(h.T, err)
	return text, private
}

// WaitEvent waits until the bot finished handling n more events of a kind.
func (h *Harness) WaitEvent(kind string, n int) {
	h.T.Helper()
	for n > 0 {
		select {
		case ev := <-h.Events:
			if strings.HasPrefix(ev, kind+" failed") {
				h.T.Fatalf("event %s", ev)
			}
			if ev == kind {
				n--
			}
		case <-h.Ctx.Done():
			h.T.Fatalf("waiting for %d more %s events: %v", n, kind, h.Ctx.Err())
		}
	}
}

// Balance is a member's kudos.
func (h *Harness) Balance(u *discordgo.User) int64 {
	h.T.Helper()
	hu, err := h.Horde.DiscordUser(h.Ctx, u.ID, "")
	Must(h.T, err)
	b, err := h.Kudos.Balance(h.Ctx, hu.ID)
	Must(h.T, err)
	return b
}

// Post makes a member post a message in a channel.
func (h *Harness) Post(u *discordgo.User, ch *discordgo.Channel, text, replyTo string) *discordgo.Message {
	h.T.Helper()
	m, err := h.Srv.SendMessage(discordtest.UserMessage{ChannelID: ch.ID, AuthorID: u.ID, Content: text, ReplyTo: replyTo})
	Must(h.T, err)
	return m
}

// Settle jumps past the settle delay and settles pending awards.
func (h *Harness) Settle() {
	h.T.Helper()
	h.Clock.Advance(11 * time.Minute)
	_, err := h.Kudos.Settle(h.Ctx)
	Must(h.T, err)
}

// WorkerCred is an image (or text) worker owned by a fresh API user.
func (h *Harness) WorkerCred(name string) horde.Credential {
	h.T.Helper()
	_, key, err := h.Horde.CreateUser(h.Ctx, name+"-owner")
	Must(h.T, err)
	c, err := h.Horde.Authenticate(h.Ctx, key)
	Must(h.T, err)
	return c
}

// ServeImages pops every waiting image job as worker name and submits a
// solid-colour PNG for each; it returns how many it served.
func (h *Harness) ServeImages(c horde.Credential, name string) int {
	h.T.Helper()
	as := h.PopImages(c, name)
	for i, a := range as {
		_, err := h.Horde.SubmitResult(h.Ctx, c, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: SolidPNG(h.T, a.Request.Image.Width, a.Request.Image.Height, i)})
		Must(h.T, err)
	}
	return len(as)
}

// PopImages announces an image worker (so requests are possible) and pops
// whatever waits without submitting.
func (h *Harness) PopImages(c horde.Credential, name string) []horde.Assignment {
	h.T.Helper()
	as, _, err := h.Horde.Pop(h.Ctx, c, horde.PopRequest{Kind: horde.KindImage, Name: name, Models: []string{"stable_diffusion"}, MaxPixels: 1024 * 1024, NSFW: true, Amount: 20, Threads: 1})
	Must(h.T, err)
	return as
}

// ServeText pops every waiting text job and answers with text. It pops as
// KoboldCpp's embedded worker, a validated backend, so that it takes
// requests with the default validated_backends.
func (h *Harness) ServeText(c horde.Credential, name, text string) int {
	h.T.Helper()
	// The KoboldAI bridge: not one of the AI Horde's validated backends, and
	// it must still serve the members' /write requests.
	as, _, err := h.Horde.Pop(h.Ctx, c, horde.PopRequest{Kind: horde.KindText, Name: name, Models: []string{"llama"}, MaxLength: 1024, MaxContextLength: 4096, Amount: 5, Threads: 1,
		BridgeAgent: "KoboldAI Bridge:10:https://github.com/db0/KoboldAI-Horde-Bridge"})
	Must(h.T, err)
	for _, a := range as {
		_, err := h.Horde.SubmitResult(h.Ctx, c, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Text: text})
		Must(h.T, err)
	}
	return len(as)
}

var palette = []color.NRGBA{{200, 40, 40, 255}, {40, 200, 40, 255}, {40, 40, 200, 255}, {200, 200, 40, 255}}

// SolidPNG is a w x hgt PNG of one colour, the i-th of a small palette.
func SolidPNG(t testing.TB, w, hgt, i int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, hgt))
	c := palette[i%len(palette)]
	for p := 0; p < len(img.Pix); p += 4 {
		img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	Must(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// CustomIDs flattens a message's buttons to their custom IDs.
func CustomIDs(m discordtest.Message) []string {
	var ids []string
	for _, b := range m.Buttons() {
		ids = append(ids, b.CustomID)
	}
	return ids
}

// FindID is the first of ids that starts with prefix, or "".
func FindID(ids []string, prefix string) string {
	for _, id := range ids {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	return ""
}

// DecodeImage decodes an attachment, failing the test if it is no image.
func DecodeImage(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode attachment: %v", err)
	}
	return img
}

// Must fails the test on an error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// WantContains fails the test unless got contains want.
func WantContains(t testing.TB, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("got %q, want it to contain %q", got, want)
	}
}

// NewModeration is New with a horde configured by hcfg whose
// moderation events go to the bot's audit channel, and the default prompt
// filter in the horde and behind /mod filter test.
func NewModeration(t *testing.T, hcfg horde.Config) *Harness {
	t.Helper()
	h := New(t)
	Stop(h.Bot, h.Sess)

	var current atomic.Pointer[bot.Bot]
	hcfg.Clock, hcfg.Logger = h.Clock, QuietLogger()
	hcfg.Payments.MemberFloor, hcfg.Payments.AnonymousFloor = -100, -1000000
	hcfg.OnModeration = func(ctx context.Context, ev horde.ModerationEvent) {
		if b := current.Load(); b != nil {
			b.OnModeration(ctx, ev)
		}
	}
	pf, err := filter.New(filter.Lists{
		Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW, Negative: assets.FilterNegative,
	}, filter.Options{})
	Must(t, err)
	hcfg.Filter = pf
	h.Horde, err = horde.New(h.Ctx, h.Store, hcfg)
	Must(t, err)

	b := bot.New(h.Cfg, bot.Deps{Horde: h.Horde, Kudos: h.Kudos, Store: h.Store, Filter: pf})
	s, err := h.Srv.NewSession(h.Srv.Token())
	Must(t, err)
	s.LogLevel = discordgo.LogError
	Must(t, b.Start(h.Ctx, s))
	current.Store(b)
	h.Bot, h.Sess = b, s
	t.Cleanup(func() { Stop(b, s) })
	return h
}

// User is the horde user of a Discord member.
func (h *Harness) User(u *discordgo.User) horde.User {
	h.T.Helper()
	hu, err := h.Horde.DiscordUser(h.Ctx, u.ID, u.Username)
	Must(h.T, err)
	return hu
}

// MemberWorker registers an image worker owned by a member and returns its credential.
func (h *Harness) MemberWorker(owner *discordgo.User, name string) horde.Credential {
	h.T.Helper()
	_, key, err := h.Horde.RegisterWorker(h.Ctx, h.User(owner), name, horde.KindImage)
	Must(h.T, err)
	c, err := h.Horde.Authenticate(h.Ctx, key)
	Must(h.T, err)
	return c
}

// RequestAndServe has requester ask for an image and worker c serve it
// with state; it returns the worker's reward.
func (h *Harness) RequestAndServe(requester *discordgo.User, c horde.Credential, worker, prompt, state string) int64 {
	h.T.Helper()
	_, _, err := h.Horde.Submit(h.Ctx, h.User(requester), horde.NewRequest{
		Kind: horde.KindImage, Prompt: prompt, N: 1, Source: "discord",
		Image: &horde.ImageParams{Width: 512, Height: 512, Steps: 20},
	})
	Must(h.T, err)
	as := h.PopImages(c, worker)
	if len(as) != 1 {
		h.T.Fatalf("worker %s popped %d jobs, want 1", worker, len(as))
	}
	reward, err := h.Horde.SubmitResult(h.Ctx, c, horde.Submission{JobID: as[0].Job.ID, State: state, Image: SolidPNG(h.T, 8, 8, 0)})
	Must(h.T, err)
	return reward
}

// AuditLine waits for an audit channel message containing every one of parts.
func (h *Harness) AuditLine(parts ...string) discordtest.Message {
	h.T.Helper()
	m, err := h.Srv.WaitForMessage(h.Ctx, h.Audit.ID, func(m discordtest.Message) bool {
		for _, p := range parts {
			if !strings.Contains(m.Content, p) {
				return false
			}
		}
		return true
	})
	if err != nil {
		var seen []string
		for _, m := range h.Srv.Messages(h.Audit.ID) {
			seen = append(seen, m.Content)
		}
		h.T.Fatalf("no audit line with %q: %v (audit channel: %q)", parts, err, seen)
	}
	return m
}

// NoPublicMention fails if a message outside the audit channel contains text.
func (h *Harness) NoPublicMention(text string) {
	h.T.Helper()
	for _, ch := range []*discordgo.Channel{h.General, h.NSFW, h.Art} {
		for _, m := range h.Srv.Messages(ch.ID) {
			if strings.Contains(m.Content, text) {
				h.T.Fatalf("%q appeared in public channel #%s: %q", text, ch.Name, m.Content)
			}
		}
	}
}

// HasFiles matches a message with attachments.
func HasFiles(m discordtest.Message) bool { return len(m.Files) > 0 }

// Queued matches a request's "queue position" message.
func Queued(m discordtest.Message) bool { return strings.Contains(m.Content, "position") }

// FinishedImagine runs /imagine for alice and serves it; it returns the result message.
func (h *Harness) FinishedImagine(count int) discordtest.Message {
	h.T.Helper()
	w := h.WorkerCred("gpu-" + h.Alice.ID)
	h.PopImages(w, "gpu-1")
	tok := h.Run(h.Alice, h.General, "imagine", discordtest.Opt("prompt", "a lighthouse"), discordtest.Opt("count", count), discordtest.Opt("seed", 42))
	h.Original(tok, "queued", Queued)
	h.ServeImages(w, "gpu-1")
	return h.Original(tok, "result", HasFiles)
}

// SubCommand builds the options of a subcommand, "group sub" for a
// subcommand of a group (/mod kudos adjust).
func SubCommand(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	if group, subName, ok := strings.Cut(name, " "); ok {
		return discordtest.SubCommandGroup(group, discordtest.SubCommand(subName, opts...))
	}
	return discordtest.SubCommand(name, opts...)
}
