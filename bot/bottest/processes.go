package bottest

import (
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/commands"
)

// ProcessSpec says how one hordebot process reaches Discord.
type ProcessSpec struct {
	// ShardCount is the total number of gateway shards; 0 runs no gateway.
	ShardCount int
	// ShardIDs are the shards this process runs; nil runs them all.
	ShardIDs []int
	// HTTP serves the interactions endpoint on 127.0.0.1 and makes it the
	// application's Interactions Endpoint URL at the fake, so that every
	// interaction from then on is POSTed there.
	HTTP bool
	// Horde, if set, is the scheduler this process's bot calls instead of
	// h.Horde (a wrapper that stalls, as a process about to die would).
	Horde commands.Horde
	// Configure, if set, adjusts this process's bot config.
	Configure func(*bot.Config)
}

// Process is one more hordebot process's Discord side over the harness's
// store, horde and kudos engine (as processes sharing one database are).
type Process struct {
	Bot      *bot.Bot
	REST     *discordgo.Session
	Shards   []*discordgo.Session
	Endpoint *httptest.Server // nil without HTTP
	// Events gets the kind of each gateway event this process handled;
	// Interactions "kind name outcome" of each interaction it handled.
	Events       chan string
	Interactions chan string
}

// StartProcess starts a bot as spec says; it stops when the test ends. The
// first process started becomes h.Bot and h.Sess.
func (h *Harness) StartProcess(spec ProcessSpec) *Process {
	h.T.Helper()
	p := &Process{Events: make(chan string, 4096), Interactions: make(chan string, 4096)}
	cfg := h.Cfg
	cfg.EventDone = func(ev string, err error) {
		if err != nil {
			ev += " failed: " + err.Error()
		}
		select {
		case p.Events <- ev:
		default:
		}
		if h.Cfg.EventDone != nil {
			h.Cfg.EventDone(ev, err)
		}
	}
	cfg.InteractionDone = func(kind, name string, outcome bot.Outcome) {
		select {
		case p.Interactions <- kind + " " + name + " " + string(outcome):
		default:
		}
	}
	cfg.InteractionAnswerWithin = 15 * time.Second
	if spec.Configure != nil {
		spec.Configure(&cfg)
	}
	var hd commands.Horde = h.Horde
	if spec.Horde != nil {
		hd = spec.Horde
	}
	p.Bot = bot.New(cfg, bot.Deps{Horde: hd, Kudos: h.Kudos, Store: h.Store, Events: h.Hub})
	newSession := func() (*discordgo.Session, error) {
		s, err := h.Srv.NewSession(h.Srv.Token())
		if err == nil {
			s.LogLevel = discordgo.LogError
		}
		return s, err
	}
	var err error
	p.REST, err = newSession()
	Must(h.T, err)
	ss := bot.Sessions{REST: p.REST}
	if spec.ShardCount > 0 {
		plan, err := bot.PlanShards(h.Ctx, p.REST, bot.ShardConfig{Count: spec.ShardCount, IDs: spec.ShardIDs})
		Must(h.T, err)
		p.Shards, err = plan.Sessions(newSession)
		Must(h.T, err)
		ss = bot.Sessions{REST: p.Shards[0], Shards: p.Shards, MaxConcurrency: plan.MaxConcurrency}
		p.REST = p.Shards[0]
	}
	before := len(h.Srv.GatewayEvents())
	Must(h.T, p.Bot.StartSessions(h.Ctx, ss))
	// Closing a connection before discordgo's first heartbeat on it makes
	// discordgo reconnect a closed session (see discordtest's doc): wait for
	// each shard's.
	for _, ev := range h.Srv.GatewayEvents()[before:] {
		if ev.Kind != discordtest.GatewayIdentified {
			continue
		}
		id := ev.SessionID
		_, err := h.Srv.WaitGateway(h.Ctx, func(ev discordtest.GatewayEvent) bool {
			return ev.SessionID == id && (ev.Kind == discordtest.GatewayHeartbeat || ev.Kind == discordtest.GatewayDisconnected)
		})
		Must(h.T, err)
	}
	if spec.HTTP {
		key, err := bot.ParsePublicKey(h.Srv.PublicKeyHex())
		Must(h.T, err)
		p.Endpoint = httptest.NewServer(p.Bot.InteractionsHandler(key))
		h.Srv.SetInteractionsEndpoint(p.Endpoint.URL)
	}
	if h.Bot == nil {
		h.Bot, h.Sess = p.Bot, p.REST
	}
	h.T.Cleanup(func() {
		if p.Endpoint != nil {
			p.Endpoint.Close()
		}
		p.Bot.Stop()
		// Closed before the fake is (discordgo would retry a vanished
		// server for minutes), all at once: each Close sleeps a second.
		var wg sync.WaitGroup
		for _, s := range p.Shards {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = s.Close()
			}()
		}
		wg.Wait()
	})
	return p
}

// GuildOnShard adds a guild whose id falls on shard of count, with a text
// channel and alice, bob and mod as members (mod holding no role there).
func (h *Harness) GuildOnShard(shard, count int, name string) (*discordgo.Guild, *discordgo.Channel) {
	h.T.Helper()
	// An hour in the past, so that the fake's own ids (now) never collide.
	ms := time.Now().Add(-time.Hour).UnixMilli() - 1420070400000
	for bot.ShardOf(strconv.FormatInt(ms<<22, 10), count) != shard {
		ms++
	}
	g := h.Srv.AddGuild(discordgo.Guild{ID: strconv.FormatInt(ms<<22|rand.Int64N(1<<22), 10), Name: name, OwnerID: h.Mod.ID})
	ch, err := h.Srv.AddChannel(discordgo.Channel{GuildID: g.ID, Name: "general", Type: discordgo.ChannelTypeGuildText})
	Must(h.T, err)
	joined := time.Now().Add(-30 * 24 * time.Hour)
	for _, u := range []*discordgo.User{h.Alice, h.Bob, h.Mod} {
		_, err = h.Srv.AddMember(g.ID, discordgo.Member{User: u, JoinedAt: joined})
		Must(h.T, err)
	}
	return g, ch
}
