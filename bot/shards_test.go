package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/bottest"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/kudos"
)

// syncBuffer is a log sink safe for the bot's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func logTo(buf *syncBuffer) harnessOption {
	return func(c *bot.Config, _ *kudos.Config) {
		c.Logger = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
}

// waitFor receives from ch until an item equal to want arrives.
func waitFor(t *testing.T, ctx context.Context, ch <-chan string, want string) {
	t.Helper()
	for {
		select {
		case got := <-ch:
			if strings.Contains(got, " failed") {
				t.Fatalf("while waiting for %q: %s", want, got)
			}
			if got == want {
				return
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %q: %v", want, ctx.Err())
		}
	}
}

// drain returns what ch holds now.
func drain(ch <-chan string) []string {
	var out []string
	for {
		select {
		case s := <-ch:
			out = append(out, s)
		default:
			return out
		}
	}
}

func TestShardOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		guild string
		count int
		want  int
	}{
		{"", 4, 0},                   // DMs
		{"not-a-snowflake", 4, 0},    // garbage goes with DMs, never panics
		{"81384788765712384", 1, 0},  // one shard takes everything
		{"81384788765712384", 2, 0},  // 81384788765712384 >> 22 = 19403645698
		{"81384788765712384", 16, 2}, // 19403645698 % 16
		{"81384788765712384", 5, 3},  // 19403645698 % 5
		{"41771983423143937", 7, 2},  // (41771983423143937 >> 22) % 7 = 9959216934 % 7
	} {
		if got := bot.ShardOf(tc.guild, tc.count); got != tc.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", tc.guild, tc.count, got, tc.want)
		}
		if got := discordtest.ShardOf(tc.guild, tc.count); got != tc.want {
			t.Errorf("discordtest.ShardOf(%q, %d) = %d, want %d", tc.guild, tc.count, got, tc.want)
		}
	}
}

func TestPlanShards(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(discordtest.WithRecommendedShards(3), discordtest.WithMaxConcurrency(2))
	t.Cleanup(srv.Close)
	rest, err := srv.NewSession(srv.Token())
	must(t, err)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		cfg     bot.ShardConfig
		want    bot.ShardPlan
		wantErr string
	}{
		{"auto takes discord's count and runs all", bot.ShardConfig{}, bot.ShardPlan{Count: 3, IDs: []int{0, 1, 2}, MaxConcurrency: 2}, ""},
		{"a count of our own", bot.ShardConfig{Count: 4, IDs: []int{3, 1}}, bot.ShardPlan{Count: 4, IDs: []int{1, 3}, MaxConcurrency: 2}, ""},
		{"an id out of range", bot.ShardConfig{Count: 2, IDs: []int{2}}, bot.ShardPlan{}, "shard 2 is not in 0..1"},
		{"a negative id", bot.ShardConfig{Count: 2, IDs: []int{-1}}, bot.ShardPlan{}, "shard -1 is not in"},
		{"an id twice", bot.ShardConfig{Count: 2, IDs: []int{1, 1}}, bot.ShardPlan{}, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bot.PlanShards(ctx, rest, tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			must(t, err)
			if got.Count != tc.want.Count || !slices.Equal(got.IDs, tc.want.IDs) || got.MaxConcurrency != tc.want.MaxConcurrency {
				t.Fatalf("plan %+v, want %+v", got, tc.want)
			}
			sessions, err := got.Sessions(func() (*discordgo.Session, error) { return srv.NewSession(srv.Token()) })
			must(t, err)
			for i, s := range sessions {
				if s.ShardID != got.IDs[i] || s.ShardCount != got.Count {
					t.Fatalf("session %d is shard %d/%d, want %d/%d", i, s.ShardID, s.ShardCount, got.IDs[i], got.Count)
				}
			}
		})
	}
}

// TestPlanShardsRespectsTheStartLimit: more shards than the session starts
// left today is refused before any IDENTIFY (Discord resets the token of a
// bot that goes over).
func TestPlanShardsRespectsTheStartLimit(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(discordtest.WithSessionStartLimit(2))
	t.Cleanup(srv.Close)
	rest, err := srv.NewSession(srv.Token())
	must(t, err)
	if _, err := bot.PlanShards(context.Background(), rest, bot.ShardConfig{Count: 2}); err != nil {
		t.Fatalf("2 shards with 2 starts left: %v", err)
	}
	_, err = bot.PlanShards(context.Background(), rest, bot.ShardConfig{Count: 3})
	if err == nil || !strings.Contains(err.Error(), "allows 2 more gateway sessions today") || !strings.Contains(err.Error(), "wait 1h0m0s") {
		t.Fatalf("3 shards with 2 starts left: %v", err)
	}
	if n := len(srv.Identifies()); n != 0 {
		t.Fatalf("%d IDENTIFYs sent while planning", n)
	}
}

// identifiedShards are the shard pairs the fake saw identify.
func identifiedShards(srv *discordtest.Server) [][2]int {
	var out [][2]int
	for _, id := range srv.Identifies() {
		if id.Shard != nil {
			out = append(out, *id.Shard)
		}
	}
	slices.SortFunc(out, func(a, b [2]int) int { return a[0] - b[0] })
	return out
}

// shardedWorld is a harness with a guild on each of two shards.
type shardedWorld struct {
	h      *harness
	g0, g1 *discordgo.Guild
	c0, c1 *discordgo.Channel
	logs   *syncBuffer
}

func newShardedWorld(t *testing.T) *shardedWorld {
	w := &shardedWorld{logs: &syncBuffer{}}
	w.h = bottest.NewUnstarted(t, logTo(w.logs))
	w.g0, w.c0 = w.h.GuildOnShard(0, 2, "shard-zero")
	w.g1, w.c1 = w.h.GuildOnShard(1, 2, "shard-one")
	return w
}

// check drives a guild's /imagine, a reaction in each guild and a DM, and
// checks which process handled each, exactly once: on0 runs shard 0, on1
// shard 1 (the same process for a 2-shard process).
func (w *shardedWorld) check(t *testing.T, on0, on1 *bottest.Process) {
	h := w.h.On(t)

	// /imagine in the guild of shard 1, with its result.
	worker := h.WorkerCred("gpu")
	h.PopImages(worker, "gpu-1")
	tok := h.Run(h.Alice, w.c1, "imagine", discordtest.Opt("prompt", "a lighthouse"), discordtest.Opt("seed", 7))
	h.Original(tok, "queued", bottest.Queued)
	h.ServeImages(worker, "gpu-1")
	res := h.Original(tok, "result", bottest.HasFiles)
	decodeImage(t, res.Files[0].Data)
	waitFor(t, h.Ctx, on1.Interactions, "command imagine ok")
	withFiles := 0
	for _, m := range h.Srv.Messages(w.c1.ID) {
		if len(m.Files) > 0 {
			withFiles++
		}
	}
	if withFiles != 1 {
		t.Fatalf("%d messages with images in the channel, want the one result", withFiles)
	}

	// A helpful reaction in each guild: each handled once, by its shard's process.
	before := h.Balance(h.Bob)
	for _, c := range []*discordgo.Channel{w.c0, w.c1} {
		m := h.Post(h.Bob, c, "reboot the worker", "")
		must(t, h.Srv.AddReaction(c.ID, m.ID, h.Alice.ID, "🙏"))
	}
	waitFor(t, h.Ctx, on0.Events, "reaction_add")
	waitFor(t, h.Ctx, on1.Events, "reaction_add")

	// A DM command reaches shard 0 only.
	text, private := h.Reply(h.DM(h.Alice, "kudos", sub("balance")))
	wantContains(t, text, "kudos")
	if private {
		t.Logf("DM reply marked ephemeral")
	}
	waitFor(t, h.Ctx, on0.Interactions, "command kudos ok")

	h.Settle()
	if got := h.Balance(h.Bob); got != before+10 {
		t.Fatalf("bob has %d kudos, want %d: each reaction awarded exactly once", got, before+10)
	}
	if on0 != on1 {
		if extra := drain(on0.Interactions); len(extra) > 0 {
			t.Fatalf("shard 0's process handled more interactions: %v", extra)
		}
		if extra := drain(on1.Interactions); len(extra) > 0 {
			t.Fatalf("shard 1's process handled more interactions (the DM is shard 0's): %v", extra)
		}
	}
	for _, p := range []*bottest.Process{on0, on1} {
		for _, ev := range drain(p.Events) {
			if ev == "reaction_add" {
				t.Fatalf("a reaction was handled twice")
			}
		}
	}
}

func TestTwoShardsInOneProcess(t *testing.T) {
	t.Parallel()
	w := newShardedWorld(t)
	p := w.h.StartProcess(bottest.ProcessSpec{ShardCount: 2})
	if got := identifiedShards(w.h.Srv); !slices.Equal(got, [][2]int{{0, 2}, {1, 2}}) {
		t.Fatalf("identified shards %v, want [0 2] and [1 2]", got)
	}
	// Each shard's session holds only its own guilds.
	for i, s := range p.Shards {
		s.State.RLock()
		var ids []string
		for _, g := range s.State.Guilds {
			ids = append(ids, g.ID)
		}
		s.State.RUnlock()
		mine, other := w.g0.ID, w.g1.ID
		if i == 1 {
			mine, other = other, mine
		}
		if !slices.Contains(ids, mine) || slices.Contains(ids, other) {
			t.Fatalf("shard %d has guilds %v: want %s, not %s", i, ids, mine, other)
		}
	}
	w.check(t, p, p)
	if strings.Contains(w.logs.String(), "does not run gateway shard 0") {
		t.Fatalf("a process running shard 0 warned that it does not")
	}
}

func TestTwoProcessesOneShardEach(t *testing.T) {
	t.Parallel()
	w := newShardedWorld(t)
	p0 := w.h.StartProcess(bottest.ProcessSpec{ShardCount: 2, ShardIDs: []int{0}})
	p1 := w.h.StartProcess(bottest.ProcessSpec{ShardCount: 2, ShardIDs: []int{1}})
	if got := identifiedShards(w.h.Srv); !slices.Equal(got, [][2]int{{0, 2}, {1, 2}}) {
		t.Fatalf("identified shards %v, want [0 2] and [1 2]", got)
	}
	w.check(t, p0, p1)
	if n := strings.Count(w.logs.String(), "does not run gateway shard 0"); n != 1 {
		t.Fatalf("%d warnings about shard 0, want 1 (from the process running shard 1 only):\n%s", n, w.logs.String())
	}
}

// TestShardResumesItsOwnDeliveries: a pending /imagine delivery is resumed
// after a restart only by the process whose shard has the guild.
func TestShardResumesItsOwnDeliveries(t *testing.T) {
	t.Parallel()
	w := newShardedWorld(t)
	h := w.h
	p1 := h.StartProcess(bottest.ProcessSpec{ShardCount: 2, ShardIDs: []int{1}})
	worker := h.WorkerCred("gpu")
	h.PopImages(worker, "gpu-1")
	tok := h.Run(h.Alice, w.c1, "imagine", discordtest.Opt("prompt", "a harbour"))
	h.Original(tok, "queued", bottest.Queued)
	waitFor(t, h.Ctx, p1.Interactions, "command imagine ok")
	p1.Bot.Stop() // the process ends; its delivery stays saved

	p0 := h.StartProcess(bottest.ProcessSpec{ShardCount: 2, ShardIDs: []int{0}})
	if n := p0.Bot.Commands().Watching(); n != 0 {
		t.Fatalf("shard 0's process watches %d deliveries of shard 1's guild", n)
	}
	p1again := h.StartProcess(bottest.ProcessSpec{ShardCount: 2, ShardIDs: []int{1}})
	if n := p1again.Bot.Commands().Watching(); n != 1 {
		t.Fatalf("shard 1's process watches %d deliveries, want 1", n)
	}
	h.ServeImages(worker, "gpu-1")
	h.Original(tok, "result after the restart", bottest.HasFiles)
}

// TestShardsResumeEachOnItsOwn: the gateway drops every shard's connection;
// each shard resumes its own session and gets the reactions made meanwhile
// in its own guild, each handled exactly once.
func TestShardsResumeEachOnItsOwn(t *testing.T) {
	t.Parallel()
	w := newShardedWorld(t)
	h := w.h
	p := h.StartProcess(bottest.ProcessSpec{ShardCount: 2})
	var sessions []string
	for _, ev := range h.Srv.GatewayEvents() {
		if ev.Kind == discordtest.GatewayIdentified {
			sessions = append(sessions, ev.SessionID)
		}
	}
	if len(sessions) != 2 {
		t.Fatalf("%d sessions identified, want 2", len(sessions))
	}
	// Each connection's first heartbeat (see discordtest's doc on closing a fresh connection).
	for _, id := range sessions {
		_, err := h.Srv.WaitGateway(h.Ctx, func(ev discordtest.GatewayEvent) bool {
			return ev.Kind == discordtest.GatewayHeartbeat && ev.SessionID == id
		})
		must(t, err)
	}
	var msgs []*discordgo.Message
	for _, c := range []*discordgo.Channel{w.c0, w.c1} {
		msgs = append(msgs, h.Post(h.Bob, c, "check the VRAM", ""))
	}
	waitFor(t, h.Ctx, p.Events, "message_create")
	waitFor(t, h.Ctx, p.Events, "message_create")
	before := h.Balance(h.Bob)
	if n := h.Srv.DropConnection(); n != 2 {
		t.Fatalf("dropped %d connections, want 2", n)
	}
	for i, c := range []*discordgo.Channel{w.c0, w.c1} {
		must(t, h.Srv.AddReaction(c.ID, msgs[i].ID, h.Alice.ID, "🙏"))
	}
	for _, id := range sessions {
		ev, err := h.Srv.WaitGateway(h.Ctx, func(ev discordtest.GatewayEvent) bool {
			return ev.Kind == discordtest.GatewayResumed && ev.SessionID == id
		})
		must(t, err)
		if ev.Replayed != 1 {
			t.Fatalf("session %s replayed %d dispatches on RESUME, want its own guild's one reaction", id, ev.Replayed)
		}
	}
	waitFor(t, h.Ctx, p.Events, "reaction_add")
	waitFor(t, h.Ctx, p.Events, "reaction_add")
	h.Settle()
	if got := h.Balance(h.Bob); got != before+10 {
		t.Fatalf("bob has %d kudos, want %d", got, before+10)
	}
}

// TestMembersWithRolesAcrossShards: the monthly grants' role lookup is work
// for the whole bot: a process running shard 0 only, or no gateway at all,
// still finds the role holders of a guild on shard 1 (over REST).
func TestMembersWithRolesAcrossShards(t *testing.T) {
	t.Parallel()
	for _, spec := range []bottest.ProcessSpec{{ShardCount: 2, ShardIDs: []int{0}}, {HTTP: true}, {ShardCount: 2}} {
		// One after the other: three whole bots at once load a busy machine.
		t.Run(fmt.Sprintf("shards %d ids %v http %v", spec.ShardCount, spec.ShardIDs, spec.HTTP), func(t *testing.T) {
			logs := &syncBuffer{}
			h := bottest.NewUnstarted(t, logTo(logs), func(c *bot.Config, _ *kudos.Config) { c.GuildIDs = nil })
			g1, _ := h.GuildOnShard(1, 2, "far")
			role, err := h.Srv.AddRole(g1.ID, discordgo.Role{Name: "patrons"})
			must(t, err)
			_, err = h.Srv.AddMember(g1.ID, discordgo.Member{User: h.Bob, Roles: []string{role.ID}})
			must(t, err)
			p := h.StartProcess(spec)
			got, err := p.Bot.MembersWithRoles(h.Ctx, []string{role.ID})
			must(t, err)
			bob := h.User(h.Bob)
			if ids := got[role.ID]; len(ids) != 1 || ids[0] != bob.ID {
				t.Fatalf("patrons %v, want bob (%d)", ids, bob.ID)
			}
		})
	}
}
