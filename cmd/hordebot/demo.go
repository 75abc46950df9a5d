package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // decode grid attachments
	_ "image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	_ "github.com/gen2brain/webp" // decode WebP results

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/kudos"
)

// cmdDemo runs the scripted demo: a fake Discord, the bot, the API, an
// embedded procedural worker and a scenario played by four members. It needs
// no account and no network; it writes images, the transcript and the
// balances to --out and fails if what it shows did not happen.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "./demo-out", "folder for the images, transcript and balances")
	verbose := fs.Bool("v", false, "show the bot's logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	d, err := newDemo(*out, stdout, stderr, *verbose)
	if err != nil {
		return err
	}
	defer d.close()
	if err := d.play(ctx); err != nil {
		d.say("\nDEMO FAILED: %v", err)
		return err
	}
	return nil
}

// demoClock is the real time plus an offset the scenario jumps forward (to
// settle awards without waiting ten minutes).
type demoClock struct{ off atomic.Int64 }

func (c *demoClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *demoClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

type demo struct {
	out        string
	stdout     io.Writer
	log        *slog.Logger
	transcript bytes.Buffer
	clock      *demoClock
	dataDir    string

	srv     *discordtest.Server
	app     *App
	serveWG sync.WaitGroup
	stopAPI context.CancelFunc
	stopBot func()
	stopWrk context.CancelFunc
	wrkWG   sync.WaitGroup

	guild                        *discordgo.Guild
	general, art, board, audit   *discordgo.Channel
	ada, ben, cleo, dev          *discordgo.User
	modRole, styleRole           *discordgo.Role
	helperRole, ownerRole        *discordgo.Role // role rewards
	balancesBefore, balanceAfter map[string]int64
	imagineMsg                   discordtest.Message
	styleEarned                  int64         // what ben's image style earned him (kudos.StyleReward per use)
	reactions                    chan struct{} // one per reaction the bot finished handling
	reactionsSent                int
}

func newDemo(out string, stdout, stderr io.Writer, verbose bool) (*demo, error) {
	if err := os.MkdirAll(filepath.Join(out, "images"), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", out, err)
	}
	// Results of an earlier run would make the output ambiguous.
	old, _ := filepath.Glob(filepath.Join(out, "images", "*"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	dataDir, err := os.MkdirTemp("", "hordebot-demo-")
	if err != nil {
		return nil, err
	}
	logw := io.Discard
	if verbose {
		logw = stderr
	}
	return &demo{
		out: out, stdout: stdout, dataDir: dataDir, clock: &demoClock{},
		log: slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}, nil
}

// say prints a line of the story and keeps it for transcript.md.
func (d *demo) say(format string, args ...any) {
	line := d.withNames(fmt.Sprintf(format, args...))
	fmt.Fprintln(d.stdout, line)
	d.transcript.WriteString(line + "\n")
}

// withNames shows Discord mentions of the demo's members as @name, as a
// Discord client renders them.
func (d *demo) withNames(s string) string {
	if !strings.Contains(s, "<@") {
		return s
	}
	var pairs []string
	for _, u := range []*discordgo.User{d.ada, d.ben, d.cleo, d.dev} {
		if u != nil {
			pairs = append(pairs, "<@"+u.ID+">", "@"+u.Username, "<@!"+u.ID+">", "@"+u.Username)
		}
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

func (d *demo) play(ctx context.Context) error {
	start := time.Now()
	steps := []struct {
		title string
		run   func(context.Context) error
	}{
		{"a guild on a fake Discord, the bot and the horde API start", d.setUp},
		{"ben registers his GPU by DM and starts a worker with the key", d.registerWorkers},
		{"ada runs /imagine", d.imagine},
		{"ada picks image 1 (U1), upscales it 2x, varies it, has it described and zooms out", d.workflows},
		{"ben, a style manager, makes an image style with /style create; cleo paints with it", d.imageStyle},
		{"ada runs /write with a text style", d.write},
		{"dev answers a question; ada reacts 🙏 to thank him", d.helpfulReaction},
		{"ada shares her picture to #art; ben, cleo and dev react 🎨", d.shareAndReact},
		{"cleo, a moderator, awards dev with /kudos award; ben looks at dev's kudos (user menu Kudos)", d.moderatorAward},
		{"the awards settle and the daily art tally runs", d.tally},
		{"role rewards: dev becomes a Helper, ben a Worker owner", d.roleRewards},
		{"balances and the leaderboard", d.report},
		{"dev hosts a generation party in #general", d.party},
		{"the web pages", d.webScreenshots},
	}
	for i, s := range steps {
		d.say("\n## %d. %s", i+1, s.title)
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.title, err)
		}
	}
	d.say("\nThe demo finished in %s. Output: %s", time.Since(start).Round(time.Millisecond), d.out)
	return d.writeOutputs()
}

func (d *demo) setUp(ctx context.Context) error {
	d.srv = discordtest.New(discordtest.WithLogger(d.log), discordtest.WithBotName("hordebot"))
	d.ada = d.srv.AddUser(discordgo.User{Username: "ada"})
	d.ben = d.srv.AddUser(discordgo.User{Username: "ben"})
	d.cleo = d.srv.AddUser(discordgo.User{Username: "cleo"})
	d.dev = d.srv.AddUser(discordgo.User{Username: "dev"})
	d.guild = d.srv.AddGuild(discordgo.Guild{Name: "GPU Friends", OwnerID: d.cleo.ID})
	var err error
	if d.modRole, err = d.srv.AddRole(d.guild.ID, discordgo.Role{Name: "moderators"}); err != nil {
		return err
	}
	// Style managers create and edit the horde's image styles with /style.
	if d.styleRole, err = d.srv.AddRole(d.guild.ID, discordgo.Role{Name: "style managers"}); err != nil {
		return err
	}
	// Role rewards: Helper (25 kudos earned by helping or moderating) and
	// Worker owner, below hordebot's own role, which may manage roles.
	if d.helperRole, err = d.srv.AddRole(d.guild.ID, discordgo.Role{Name: "Helper"}); err != nil {
		return err
	}
	if d.ownerRole, err = d.srv.AddRole(d.guild.ID, discordgo.Role{Name: "Worker owner"}); err != nil {
		return err
	}
	botRole, err := d.srv.AddRole(d.guild.ID, discordgo.Role{Name: "hordebot", Permissions: discordgo.PermissionManageRoles})
	if err != nil {
		return err
	}
	if err := d.srv.SetMemberRoles(d.guild.ID, d.srv.BotUser().ID, []string{botRole.ID}); err != nil {
		return err
	}
	for _, c := range []struct {
		dst  **discordgo.Channel
		name string
	}{{&d.general, "general"}, {&d.art, "art"}, {&d.board, "leaderboard"}, {&d.audit, "mod-log"}} {
		if *c.dst, err = d.srv.AddChannel(discordgo.Channel{GuildID: d.guild.ID, Name: c.name, Type: discordgo.ChannelTypeGuildText}); err != nil {
			return err
		}
	}
	joined := time.Now().Add(-90 * 24 * time.Hour)
	for _, u := range []*discordgo.User{d.ada, d.dev} {
		if _, err := d.srv.AddMember(d.guild.ID, discordgo.Member{User: u, JoinedAt: joined}); err != nil {
			return err
		}
	}
	if _, err := d.srv.AddMember(d.guild.ID, discordgo.Member{User: d.ben, JoinedAt: joined, Roles: []string{d.styleRole.ID}}); err != nil {
		return err
	}
	if _, err := d.srv.AddMember(d.guild.ID, discordgo.Member{User: d.cleo, JoinedAt: joined, Roles: []string{d.modRole.ID}}); err != nil {
		return err
	}

	cfg, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		return err
	}
	cfg.Data = d.dataDir
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Discord = bot.Config{
		Config: commands.Config{ArtChannelID: d.art.ID, AuditChannelID: d.audit.ID, ModeratorRoleIDs: []string{d.modRole.ID},
			StyleManagerRoleIDs: []string{d.styleRole.ID}},
		GuildIDs: []string{d.guild.ID}, LeaderboardChannelID: d.board.ID,
		// The scenario clicks faster than a member would: no refusal for it.
		CommandsPerMinute: 60, UserBurst: 20, GuildCommandsPerMinute: 600, GuildBurst: 100,
		RoleRewards: kudos.RoleRewards{
			Roles: []kudos.RoleReward{{RoleID: d.helperRole.ID, MinEarned: 25,
				Kinds: []kudos.EntryKind{kudos.KindAwardHelpful, kudos.KindAwardModeration}}},
			WorkerOwnerRoleID: d.ownerRole.ID, LevelUpChannelID: d.general.ID,
			ReconcileEvery: kudos.Duration(2 * time.Second), // the demo does not wait 10 minutes
		},
	}
	// The procedural backend answers in milliseconds, far faster than any GPU:
	// the suspicion of too-fast results would pause it.
	cfg.Moderation.MaxMegapixelStepsPerSecond = 0
	// Every worker of the demo pops from 127.0.0.1: one address, three
	// workers, five threads popping every 100 ms.
	cfg.API.RatePerIP, cfg.API.BurstPerIP = 200, 800
	// The fake Discord's accounts are minutes old: no minimum ages here.
	kc, _ := json.Marshal(map[string]any{
		"min_account_age": 0, "min_membership_age": 0,
		"art": map[string]any{"channels": []string{d.art.ID}},
	})
	cfg.Kudos = kc
	if d.app, err = OpenApp(ctx, cfg, d.log, d.clock); err != nil {
		return err
	}
	if err := d.app.Listen(); err != nil {
		return err
	}
	apiCtx, stopAPI := context.WithCancel(context.Background())
	d.stopAPI = stopAPI
	d.serveWG.Add(1)
	go func() {
		defer d.serveWG.Done()
		if err := d.app.Serve(apiCtx); err != nil {
			d.log.Error("serve", "err", err)
		}
	}()

	d.reactions = make(chan struct{}, 64)
	b := d.app.NewBot(func(c *bot.Config) {
		c.EventDone = func(event string, err error) {
			if event == "reaction_add" {
				d.reactions <- struct{}{}
			}
		}
	})
	sess, err := d.srv.NewSession(d.srv.Token())
	if err != nil {
		return err
	}
	sess.LogLevel = discordgo.LogError
	if err := b.Start(ctx, sess); err != nil {
		return fmt.Errorf("start bot: %w", err)
	}
	d.stopBot = func() { b.Stop(); _ = sess.Close() }
	d.say("Guild %q with #general, #art, #leaderboard, #mod-log; members ada, ben (style manager), cleo (moderator), dev.", d.guild.Name)
	d.say("Horde API on http://%s; the bot registered %d slash commands.", d.app.Addr(), len(d.srv.Commands(d.guild.ID)))
	return nil
}

// keyRe finds the worker key in /worker register's DM: the first code block.
var keyRe = regexp.MustCompile("(?s)```\n(\\S+)\n```")

func (d *demo) registerWorkers(ctx context.Context) error {
	wctx, stop := context.WithCancel(context.Background())
	d.stopWrk = stop
	for _, w := range []struct {
		name string
		kind horde.RequestKind
	}{{"bens-gpu", horde.KindImage}, {"bens-llm", horde.KindText}, {"bens-alchemist", horde.KindAlchemy}} {
		text, err := d.command(ctx, discordtest.Interaction{UserID: d.ben.ID, Command: "worker",
			Options: discordtest.Opts(discordtest.SubCommand("register", discordtest.Opt("name", w.name), discordtest.Opt("kind", string(w.kind))))})
		if err != nil {
			return err
		}
		m := keyRe.FindStringSubmatch(text)
		if m == nil {
			return fmt.Errorf("/worker register answered without a key: %q", text)
		}
		d.say("ben (DM) /worker register name:%s kind:%s -> the bot answers in the DM only, key %s… shown once, and:\n    %s",
			w.name, w.kind, m[1][:4], firstLine(text, "HORDE_API_KEY"))
		d.wrkWG.Add(1)
		go func(name string, kind horde.RequestKind, key string) {
			defer d.wrkWG.Done()
			var err error
			if kind == horde.KindAlchemy {
				err = worker.RunAlchemist(wctx, worker.AlchemistConfig{
					BaseURL: "http://" + d.app.Addr(), APIKey: key, Name: name, Backend: worker.ProceduralAlchemy{},
					PopInterval: 100 * time.Millisecond, Logger: d.log,
				})
			} else {
				err = worker.Run(wctx, worker.Config{
					BaseURL: "http://" + d.app.Addr(), APIKey: key, Name: name, Kind: aihorde.Kind(kind),
					Backend: worker.NewProcedural(), Threads: 2, PopInterval: 100 * time.Millisecond, Logger: d.log,
					AllowImg2Img: true, AllowPainting: true,
				})
			}
			if err != nil {
				d.log.Error("worker stopped", "worker", name, "err", err)
			}
		}(w.name, w.kind, m[1])
	}
	d.say("Three procedural workers (no GPU needed: deterministic test pictures and text; the alchemist captions from colours " +
		"and upscales by resampling) now pop jobs over the AI Horde v2 API.")
	return nil
}

func (d *demo) imagine(ctx context.Context) error {
	tok, err := d.srv.SendInteraction(discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.ada.ID, Command: "imagine",
		Options: discordtest.Opts(discordtest.Opt("prompt", "a lighthouse at dusk, oil painting"), discordtest.Opt("count", 4))})
	if err != nil {
		return err
	}
	d.say("ada in #general: /imagine prompt:\"a lighthouse at dusk, oil painting\" count:4")
	m, err := d.srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool { return len(m.Files) > 0 })
	if err != nil {
		return fmt.Errorf("waiting for the result: %w", err)
	}
	// The progress edits the bot made while the request waited (queue
	// position and ETA); a fast worker may leave no time for one.
	var progress []string
	for _, r := range d.srv.Requests() {
		if !r.Is("PATCH", "/webhooks/{app}/{token}/messages/{message}") || r.Params["token"] != tok {
			continue
		}
		var body struct {
			Content *string `json:"content"`
		}
		if r.Decode(&body) == nil && body.Content != nil && *body.Content != m.Content &&
			(len(progress) == 0 || progress[len(progress)-1] != *body.Content) {
			progress = append(progress, firstLine(*body.Content, ""))
		}
	}
	if len(progress) == 0 {
		d.say("The worker was faster than the bot's first progress edit (queue position and ETA).")
	}
	for _, p := range progress {
		d.say("While it waited, the reply said: %s", p)
	}
	d.say("The deferred reply became: %s", firstLine(m.Content, ""))
	names, err := d.saveAttachments(m, "")
	if err != nil {
		return err
	}
	if len(m.Files) < 5 {
		return fmt.Errorf("got %d attachments, want a grid and 4 images", len(m.Files))
	}
	d.say("Attachments, saved to %s/images: %s", d.out, strings.Join(names, ", "))
	d.say("Buttons: %s", strings.Join(buttonLabels(m), " | "))
	d.imagineMsg = m
	return nil
}

// saveAttachments writes a message's images to demo-out/images (each
// name prefixed) and names them with their sizes.
func (d *demo) saveAttachments(m discordtest.Message, prefix string) ([]string, error) {
	var names []string
	for _, f := range m.Files {
		img, _, err := image.Decode(bytes.NewReader(f.Data))
		if err != nil {
			return nil, fmt.Errorf("attachment %s does not decode: %w", f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(d.out, "images", prefix+f.Name), f.Data, 0o644); err != nil {
			return nil, err
		}
		names = append(names, fmt.Sprintf("%s (%dx%d)", prefix+f.Name, img.Bounds().Dx(), img.Bounds().Dy()))
	}
	return names, nil
}

// click presses a button of m whose custom ID starts with prefix (and ends
// with suffix) as ada, and waits for the reply that satisfies done.
func (d *demo) click(ctx context.Context, m discordtest.Message, prefix, suffix string, done func(discordtest.Message) bool) (discordtest.Message, error) {
	id := ""
	for _, b := range m.Buttons() {
		if strings.HasPrefix(b.CustomID, prefix) && strings.HasSuffix(b.CustomID, suffix) {
			id = b.CustomID
			break
		}
	}
	if id == "" {
		return discordtest.Message{}, fmt.Errorf("no %s…%s button among %v", prefix, suffix, buttonLabels(m))
	}
	tok, err := d.srv.SendInteraction(discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.ada.ID, CustomID: id, MessageID: m.ID})
	if err != nil {
		return discordtest.Message{}, err
	}
	out, err := d.srv.WaitForOriginal(ctx, tok, done)
	if err != nil {
		orig, _ := d.srv.Original(tok)
		return discordtest.Message{}, fmt.Errorf("waiting for the answer to %s: %w (last: %q)", id, err, orig.Content)
	}
	return out, nil
}

// workflows: U1, then Upscale 2x (an alchemist), Vary (Subtle) (img2img),
// Describe (an alchemist) and Zoom out (outpainting) on that image.
func (d *demo) workflows(ctx context.Context) error {
	hasFiles := func(m discordtest.Message) bool { return len(m.Files) > 0 }
	single, err := d.click(ctx, d.imagineMsg, "imagine/upscale/", "/1", hasFiles)
	if err != nil {
		return err
	}
	d.say("ada clicks U1: the bot posts image 1 alone, with the buttons: %s", strings.Join(buttonLabels(single), " | "))

	up, err := d.click(ctx, single, "image/upscale/", "/2", hasFiles)
	if err != nil {
		return err
	}
	names, err := d.saveAttachments(up, "")
	if err != nil {
		return err
	}
	d.say("Upscale 2x goes to ben's alchemist (RealESRGAN_x2plus, the AI Horde's /interrogate): %s\n    saved: %s",
		firstLine(d.withNames(up.Content), ""), strings.Join(names, ", "))

	varied, err := d.click(ctx, single, "image/vary/", "/subtle", hasFiles)
	if err != nil {
		return err
	}
	if names, err = d.saveAttachments(varied, "vary-"); err != nil {
		return err
	}
	d.say("Vary (Subtle) is an img2img of that image at strength 0.35 with a new seed: %s\n    saved: %s",
		firstLine(d.withNames(varied.Content), ""), strings.Join(names, ", "))

	desc, err := d.click(ctx, single, "image/describe/", "", func(m discordtest.Message) bool { return strings.Contains(m.Content, "described") })
	if err != nil {
		return err
	}
	d.say("Describe asks the alchemist for a caption and an interrogation:\n    %s",
		strings.ReplaceAll(d.withNames(desc.Content), "\n", "\n    "))

	zoomed, err := d.click(ctx, single, "image/zoom/", "", hasFiles)
	if err != nil {
		return err
	}
	if names, err = d.saveAttachments(zoomed, "zoom-"); err != nil {
		return err
	}
	d.say("Zoom out is an outpainting: the image shrunk to half in the middle of a transparent canvas of its size, "+
		"with a mask; ben's worker (allow_painting) paints only the border: %s\n    saved: %s",
		firstLine(d.withNames(zoomed.Content), ""), strings.Join(names, ", "))
	return nil
}

// imageStyle: ben, who holds the style manager role, makes the image style
// "watercolour" with /style create; cleo runs /imagine with it (ada, who
// has spent the most, keeps her kudos for the party). ben earns
// kudos.StyleReward from cleo's request, which she pays on top of the
// image's cost, as the horde pays a style's creator.
func (d *demo) imageStyle(ctx context.Context) error {
	const prompt, negative = "{p}, watercolour painting, soft washes of colour on rough paper", "photo, hard outlines"
	text, err := d.command(ctx, discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.ben.ID, Command: "style",
		Options: discordtest.Opts(discordtest.SubCommand("create", discordtest.Opt("name", "watercolour"), discordtest.Opt("prompt", prompt),
			discordtest.Opt("negative", negative), discordtest.Opt("model", worker.ProceduralModel), discordtest.Opt("steps", 20),
			discordtest.Opt("info", "loose, wet watercolour")))})
	if err != nil {
		return err
	}
	if !strings.HasPrefix(text, "✅") {
		return fmt.Errorf("/style create answered %q", text)
	}
	d.say("ben in #general: /style create name:watercolour prompt:%q negative:%q model:%s steps:20\n    -> %s",
		prompt, negative, worker.ProceduralModel, strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n    "))

	tok, err := d.srv.SendInteraction(discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.cleo.ID, Command: "imagine",
		Options: discordtest.Opts(discordtest.Opt("prompt", "a harbour in the rain"), discordtest.Opt("style", "watercolour"), discordtest.Opt("count", 1))})
	if err != nil {
		return err
	}
	d.say("cleo in #general: /imagine prompt:\"a harbour in the rain\" style:watercolour count:1 (her prompt goes into the style's {p}, " +
		"her negative, none here, into {np}; the style's model and steps replace the defaults)")
	m, err := d.srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool { return len(m.Files) > 0 })
	if err != nil {
		return fmt.Errorf("waiting for the styled image: %w", err)
	}
	names, err := d.saveAttachments(m, "style-")
	if err != nil {
		return err
	}
	d.say("The reply: %s\n    saved: %s", firstLine(d.withNames(m.Content), ""), strings.Join(names, ", "))

	// The style's fee is paid with the request's first ok result, before the
	// bot has the image: both entries are in the ledger now.
	earned, err := d.ledgerSum(ctx, d.ben, kudos.KindStyleReward, "")
	if err != nil {
		return err
	}
	paid, err := d.ledgerSum(ctx, d.cleo, kudos.KindRequestCost, "style fee to its creator")
	if err != nil {
		return err
	}
	d.say("ben earns %d kudos (a style's reward per request that uses it; ledger kind %s), which cleo pays on top of the image's cost, "+
		"as the AI Horde's 2 kudos of horde tax; nobody pays for their own style.", earned, kudos.KindStyleReward)
	if earned != kudos.StyleReward || paid != -kudos.StyleReward {
		return fmt.Errorf("ben earned %d and cleo paid %d for the style, want %d each", earned, -paid, kudos.StyleReward)
	}
	d.styleEarned = earned
	return nil
}

// ledgerSum adds up the deltas of a member's ledger entries of a kind (and
// a reason, unless empty).
func (d *demo) ledgerSum(ctx context.Context, u *discordgo.User, kind kudos.EntryKind, reason string) (int64, error) {
	hu, err := d.app.Horde.DiscordUser(ctx, u.ID, u.Username)
	if err != nil {
		return 0, err
	}
	entries, err := d.app.Kudos.History(ctx, hu.ID, 1000)
	if err != nil {
		return 0, fmt.Errorf("%s's ledger: %w", u.Username, err)
	}
	var sum int64
	for _, e := range entries {
		if e.Kind == kind && (reason == "" || e.Reason == reason) {
			sum += e.Delta
		}
	}
	return sum, nil
}

func (d *demo) write(ctx context.Context) error {
	// A public text style of ben's. /style makes image styles only; text
	// styles are made through the API (POST /styles/text, trusted users),
	// which the demo skips by storing it.
	ben, err := d.app.Horde.DiscordUser(ctx, d.ben.ID, d.ben.Username)
	if err != nil {
		return err
	}
	style := horde.Style{ID: horde.NewStyleID(), Kind: horde.KindText, UserID: ben.ID, Creator: ben.Username(), Name: "short poem",
		Prompt: "Write a short poem about {p}.", Params: []byte(`{"max_length": 80}`), Public: true}
	if err := d.app.Store.CreateStyle(ctx, style); err != nil {
		return fmt.Errorf("store the demo's text style: %w", err)
	}
	d.say("The horde has ben's public text style %q (prompt %q; /style makes image styles, text styles are made through the API, "+
		"POST /styles/text).", style.Name, style.Prompt)
	tok, err := d.srv.SendInteraction(discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.ada.ID, Command: "write",
		Options: discordtest.Opts(discordtest.Opt("prompt", "sharing GPUs"), discordtest.Opt("style", "short poem"))})
	if err != nil {
		return err
	}
	d.say("ada in #general: /write prompt:\"sharing GPUs\" style:short poem (the style puts her prompt into its template: \"Write a short poem about sharing GPUs.\")")
	m, err := d.srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool {
		return len(m.Files) > 0 || (m.Content != "" && !strings.Contains(strings.ToLower(m.Content), "queue"))
	})
	if err != nil {
		return fmt.Errorf("waiting for the text: %w", err)
	}
	text := m.Content
	if len(m.Files) > 0 {
		text = string(m.Files[0].Data)
	}
	if strings.TrimSpace(text) == "" {
		return errors.New("empty text result")
	}
	if err := os.WriteFile(filepath.Join(d.out, "write.txt"), []byte(text+"\n"), 0o644); err != nil {
		return err
	}
	d.say("The reply (also in write.txt):\n    %s", strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n    "))
	return nil
}

func (d *demo) helpfulReaction(ctx context.Context) error {
	d.balancesBefore = d.balances(ctx)
	q, err := d.srv.SendMessage(discordtest.UserMessage{ChannelID: d.general.ID, AuthorID: d.ada.ID, Content: "my worker says CUDA out of memory, what now?"})
	if err != nil {
		return err
	}
	a, err := d.srv.SendMessage(discordtest.UserMessage{ChannelID: d.general.ID, AuthorID: d.dev.ID, Content: "lower max_pixels to 512x512 or run one thread", ReplyTo: q.ID})
	if err != nil {
		return err
	}
	if err := d.react(d.general.ID, a.ID, d.ada.ID, "🙏"); err != nil {
		return err
	}
	d.say("ada: %q\ndev: %q\nada reacts 🙏 on dev's answer (a helpful award, pending for the settle delay).", "my worker says CUDA out of memory, what now?", "lower max_pixels to 512x512 or run one thread")
	// A self-award, to show a refusal.
	if err := d.react(d.general.ID, q.ID, d.ada.ID, "🙏"); err != nil {
		return err
	}
	d.say("ada also reacts 🙏 on her own question: self-awards are refused.")
	return nil
}

func (d *demo) shareAndReact(ctx context.Context) error {
	share := ""
	for _, b := range d.imagineMsg.Buttons() {
		if strings.HasPrefix(b.CustomID, "imagine/share/") {
			share = b.CustomID
		}
	}
	if share == "" {
		return errors.New("the result has no share button")
	}
	// Wait for the bot's answer to the click: by then the post is recorded as
	// ada's, so reactions on it credit her.
	answer, err := d.command(ctx, discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.ada.ID, CustomID: share, MessageID: d.imagineMsg.ID})
	if err != nil {
		return err
	}
	if !strings.Contains(answer, "Shared") {
		return fmt.Errorf("share answered %q", answer)
	}
	post, err := d.srv.WaitForMessage(ctx, d.art.ID, func(m discordtest.Message) bool { return len(m.Files) > 0 })
	if err != nil {
		return fmt.Errorf("waiting for the shared post: %w", err)
	}
	d.say("ada clicks share: the bot posts to #art: %s", firstLine(post.Content, ""))
	for _, u := range []*discordgo.User{d.ben, d.cleo, d.dev} {
		if err := d.react(d.art.ID, post.ID, u.ID, "🎨"); err != nil {
			return err
		}
	}
	d.say("ben, cleo and dev react 🎨 on the shared picture.")
	return nil
}

// react adds a member's reaction through the fake Discord's gateway.
func (d *demo) react(channelID, messageID, userID, emoji string) error {
	if err := d.srv.AddReaction(channelID, messageID, userID, emoji); err != nil {
		return err
	}
	d.reactionsSent++
	return nil
}

func (d *demo) moderatorAward(ctx context.Context) error {
	text, err := d.command(ctx, discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.cleo.ID, Command: "kudos",
		Options: discordtest.Opts(discordtest.SubCommand("award", discordtest.UserOpt("member", d.dev.ID), discordtest.Opt("amount", 25), discordtest.Opt("reason", "answering questions all week")))})
	if err != nil {
		return err
	}
	d.say("cleo: /kudos award member:@dev amount:25 reason:\"answering questions all week\"\n    -> %s", firstLine(text, ""))

	// The user context menu Kudos: a member's balance, shown privately.
	text, err = d.command(ctx, discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.ben.ID,
		Command: "Kudos", CommandType: discordgo.UserApplicationCommand, TargetID: d.dev.ID})
	if err != nil {
		return err
	}
	if !strings.Contains(text, "kudos") {
		return fmt.Errorf("the Kudos menu answered %q", text)
	}
	d.say("ben right-clicks dev, Apps > Kudos (only ben sees the answer):\n    -> %s", d.withNames(firstLine(text, "")))
	return nil
}

func (d *demo) tally(ctx context.Context) error {
	// Let the bot finish handling the reactions (they arrive over the gateway).
	for i := 0; i < d.reactionsSent; i++ {
		select {
		case <-d.reactions:
		case <-ctx.Done():
			return fmt.Errorf("the bot handled %d of %d reactions: %w", i, d.reactionsSent, ctx.Err())
		}
	}
	d.clock.Advance(11 * time.Minute)
	n, err := d.app.Kudos.Settle(ctx)
	if err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	helpful, err := d.ledgerSum(ctx, d.dev, kudos.KindAwardHelpful, "")
	if err != nil {
		return err
	}
	awards := fmt.Sprintf("%d pending awards settle", n)
	if n == 1 {
		awards = "the pending award settles"
	}
	d.say("Eleven minutes later (the demo's clock jumps): %s into the ledger (dev: %+d for ada's 🙏).", awards, helpful)
	ran, err := d.app.Kudos.ArtTally(ctx, d.clock.Now())
	if err != nil {
		return fmt.Errorf("art tally: %w", err)
	}
	if !ran {
		return fmt.Errorf("art tally: the day was already tallied")
	}
	art, err := d.ledgerSum(ctx, d.ada, kudos.KindAwardArt, "")
	if err != nil {
		return err
	}
	d.say("The daily art tally runs: every distinct reactor on a post in #art pays its artist once (ada: %+d for ben's, cleo's and dev's 🎨; in an art channel a 🎨 is no reaction award: it pays here, once).", art)
	return nil
}

// roleRewards waits for the bot to give dev the Helper role (his awards
// settled) and ben the Worker owner role (his workers are online).
func (d *demo) roleRewards(ctx context.Context) error {
	for _, w := range []struct {
		who  *discordgo.User
		role *discordgo.Role
	}{{d.dev, d.helperRole}, {d.ben, d.ownerRole}} {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := d.srv.WaitFor(wctx, func(rc discordtest.Recorded) bool {
			return rc.Method == http.MethodPut && rc.Params["user"] == w.who.ID && rc.Params["role"] == w.role.ID
		})
		cancel()
		if err != nil {
			return fmt.Errorf("%s never got the %s role: %w", w.who.Username, w.role.Name, err)
		}
		d.say("The bot gives %s the %s role.", w.who.Username, w.role.Name)
	}
	post, err := d.srv.WaitForMessage(ctx, d.general.ID, func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "**Helper**")
	})
	if err != nil {
		return fmt.Errorf("no level-up post: %w", err)
	}
	d.say("In #general: %s", d.withNames(post.Content))
	return nil
}

func (d *demo) report(ctx context.Context) error {
	d.balanceAfter = d.balances(ctx)
	names := []string{"ada", "ben", "cleo", "dev"}
	d.say("| member | kudos before the reactions | kudos now |\n|---|---|---|")
	for _, n := range names {
		d.say("| %s | %d | %d |", n, d.balancesBefore[n], d.balanceAfter[n])
	}
	if ben, err := d.app.Horde.DiscordUser(ctx, d.ben.ID, d.ben.Username); err == nil {
		if held, err := d.app.Store.Escrowed(ctx, ben.ID); err == nil && held > 0 {
			d.say("\nben's workers earned %d kudos: %d are his to spend and %d are held in escrow (his balance also has the %d "+
				"his watercolour style earned). A new worker owner is "+
				"untrusted; %d%% of what their workers earn waits in escrow until a moderator trusts them (`/mod trust`) or they "+
				"have earned %d kudos and their account is %s old; trust releases it into the balance.",
				d.balanceAfter["ben"]-d.styleEarned+held, d.balanceAfter["ben"]-d.styleEarned, held, d.styleEarned, d.app.Config.Payments().EscrowPercent,
				d.app.Config.Moderation.TrustAfterKudos, days(time.Duration(d.app.Config.Moderation.TrustMinAge)))
		}
	}
	lb, err := d.app.Kudos.Leaderboard(ctx, d.clock.Now())
	if err != nil {
		return err
	}
	d.say("\nThis week's leaderboard (awards):")
	for i, e := range lb.Overall {
		d.say("%d. %s — %d", i+1, d.nameOf(ctx, e.UserID), e.Kudos)
	}
	if bad, err := d.app.Kudos.Verify(ctx); err != nil || len(bad) > 0 {
		return fmt.Errorf("ledger verify: %v %v", bad, err)
	}
	d.say("\n`hordebot kudos verify`: every balance equals the sum of its ledger rows.")

	// What the demo promises, checked.
	var problems []string
	// ben's balance is what his workers earned (less escrow, less what he
	// spent) plus his style's reward.
	if d.balanceAfter["ben"]-d.styleEarned <= 0 {
		problems = append(problems, fmt.Sprintf("ben's balance %d is no more than his style's reward %d: his workers earned nothing",
			d.balanceAfter["ben"], d.styleEarned))
	}
	if got := d.balanceAfter["dev"] - d.balancesBefore["dev"]; got < 5+25 {
		problems = append(problems, fmt.Sprintf("dev gained %d, want at least 30 (helpful + moderator award)", got))
	}
	if d.balanceAfter["ada"] <= d.balancesBefore["ada"] {
		problems = append(problems, "ada's shared picture earned nothing in the art tally")
	}
	if d.balanceAfter["cleo"] != d.balancesBefore["cleo"] {
		problems = append(problems, "cleo's balance changed, but she only gave")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// party: dev hosts a short generation party; ada and ben /imagine in its
// channel (each awarded once in the interval, ada's second image counted
// but not paid), dev ends it: the summary with a grid, the rest refunded.
func (d *demo) party(ctx context.Context) error {
	before := d.balances(ctx)
	text, err := d.command(ctx, discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.dev.ID, Command: "party",
		Options: discordtest.Opts(discordtest.SubCommand("start", discordtest.Opt("duration", 30), discordtest.Opt("theme", "foxes in the snow"),
			discordtest.Opt("award", 5), discordtest.Opt("budget", 20), discordtest.Opt("interval_minutes", 10)))})
	if err != nil {
		return err
	}
	if !strings.Contains(text, "Party:") {
		return fmt.Errorf("/party start answered %q", text)
	}
	d.say("dev: /party start duration:30 theme:\"foxes in the snow\" award:5 budget:20 interval_minutes:10\n    -> %s", firstLine(text, ""))
	held := before["dev"] - d.balances(ctx)["dev"]
	d.say("dev's balance drops by %d at once: the budget is held from it for the party.", held)
	for _, m := range []struct {
		who    *discordgo.User
		prompt string
	}{{d.ada, "a fox in the snow"}, {d.ben, "two foxes in a snowy forest"}, {d.ada, "a fox cub asleep in the snow"}} {
		tok, err := d.srv.SendInteraction(discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: m.who.ID, Command: "imagine",
			Options: discordtest.Opts(discordtest.Opt("prompt", m.prompt))})
		if err != nil {
			return err
		}
		res, err := d.srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool { return len(m.Files) > 0 })
		if err != nil {
			return fmt.Errorf("waiting for %s's image: %w", m.who.Username, err)
		}
		d.say("%s: /imagine prompt:%q -> %s", m.who.Username, m.prompt, firstLine(res.Content, "Party"))
	}
	tok, err := d.srv.SendInteraction(discordtest.Interaction{GuildID: d.guild.ID, ChannelID: d.general.ID, UserID: d.dev.ID, Command: "party",
		Options: discordtest.Opts(discordtest.SubCommand("end"))})
	if err != nil {
		return err
	}
	sum, err := d.srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool { return strings.Contains(m.Content, "Party over") })
	if err != nil {
		return fmt.Errorf("waiting for the party's summary: %w", err)
	}
	d.say("dev: /party end -> the bot posts the summary:\n    %s", strings.ReplaceAll(d.withNames(sum.Content), "\n", "\n    "))
	for _, f := range sum.Files {
		if err := os.WriteFile(filepath.Join(d.out, "images", f.Name), f.Data, 0o644); err != nil {
			return err
		}
		d.say("    with %s (saved to %s/images): a grid of the party's images", f.Name, d.out)
	}
	after := d.balances(ctx)
	d.say("dev's balance: %d before the party, %d after (10 awarded, 10 returned).", before["dev"], after["dev"])
	if bad, err := d.app.Kudos.Verify(ctx); err != nil || len(bad) > 0 {
		return fmt.Errorf("ledger verify: %v %v", bad, err)
	}
	if bad, err := d.app.Kudos.VerifyParties(ctx); err != nil || len(bad) > 0 {
		return fmt.Errorf("party verify: %v %v", bad, err)
	}
	d.say("`hordebot kudos verify` still holds: the party's entries net to zero once it ended.")
	var problems []string
	if held != 20 {
		problems = append(problems, fmt.Sprintf("the start held %d of dev's kudos, want 20", held))
	}
	if got := before["dev"] - after["dev"]; got != 10 {
		problems = append(problems, fmt.Sprintf("the party cost dev %d, want 10 (two awards)", got))
	}
	if len(sum.Files) == 0 {
		problems = append(problems, "the summary has no grid of the party's images")
	}
	for _, want := range []string{"**3** generations by 2 members", "10 awarded, **10** returned"} {
		if !strings.Contains(sum.Content, want) {
			problems = append(problems, fmt.Sprintf("the summary does not say %q", want))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func (d *demo) balances(ctx context.Context) map[string]int64 {
	out := map[string]int64{}
	for _, u := range []*discordgo.User{d.ada, d.ben, d.cleo, d.dev} {
		hu, err := d.app.Horde.DiscordUser(ctx, u.ID, u.Username)
		if err != nil {
			continue
		}
		out[u.Username], _ = d.app.Kudos.Balance(ctx, hu.ID)
	}
	return out
}

func (d *demo) nameOf(ctx context.Context, id int64) string {
	info, err := d.app.Horde.UserInfo(ctx, id)
	if err != nil {
		return fmt.Sprint(id)
	}
	return info.User.Name
}

// command sends a slash command and returns the text its caller finally sees.
func (d *demo) command(ctx context.Context, in discordtest.Interaction) (string, error) {
	tok, err := d.srv.SendInteraction(in)
	if err != nil {
		return "", err
	}
	text, _, err := d.srv.WaitForReply(ctx, tok)
	return text, err
}

func (d *demo) writeOutputs() error {
	summary := map[string]any{"balances_before_reactions": d.balancesBefore, "balances": d.balanceAfter}
	b, _ := json.MarshalIndent(summary, "", "  ")
	if err := os.WriteFile(filepath.Join(d.out, "balances.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.out, "transcript.md"), append([]byte("# hordebot demo\n"), d.transcript.Bytes()...), 0o644)
}

func (d *demo) close() {
	if d.stopBot != nil {
		d.stopBot()
	}
	if d.stopWrk != nil {
		d.stopWrk()
		d.wrkWG.Wait()
	}
	if d.stopAPI != nil {
		d.stopAPI()
		d.serveWG.Wait()
	}
	if d.app != nil {
		_ = d.app.Close()
	}
	if d.srv != nil {
		d.srv.Close()
	}
	_ = os.RemoveAll(d.dataDir)
}

// buttonLabels lists the labels of a message's buttons, in order.
func buttonLabels(m discordtest.Message) []string {
	var out []string
	for _, b := range m.Buttons() {
		out = append(out, b.Label)
	}
	return out
}

// firstLine returns the first line of s containing sub (or the first line).
func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if sub == "" || strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(s)
}

// days says a duration of whole days as "7 days".
func days(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}
