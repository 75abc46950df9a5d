package kudos_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestRandomSequencesKeepTheBooks runs random sequences of reactions,
// removals, thanks, transfers, finished jobs, moderator awards, replays, settles and tallies
// over a fake clock, then checks: the ledger verifies, no balance is below
// zero (every floor here is 0), every award and transfer was paid at most
// once, and no cap was exceeded.
func TestRandomSequencesKeepTheBooks(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { runRandomSequence(t, seed, 300) })
	}
}

func runRandomSequence(t *testing.T, seed int64, steps int) {
	rng := rand.New(rand.NewSource(seed))
	cfg := testConfig()
	e := newEnv(t, cfg)
	users := e.users(6)
	users = append(users, e.user("flagged", flagged), e.user("mod", moderator))
	for _, u := range users {
		e.fund(u, 40)
	}
	pick := func() int64 { return users[rng.Intn(len(users))] }
	emojis := []string{"🙏", "❤️", "🎨", "🛡️", "😂"}
	channels := []string{"general", "art"}
	msgs := make([]string, 30)
	authors := map[string]int64{}
	for i := range msgs {
		msgs[i] = fmt.Sprint("msg", i)
		authors[msgs[i]] = pick()
	}
	var sent []kudos.ReactionAdded

	for step := 0; step < steps; step++ {
		switch op := rng.Intn(100); {
		case op < 40: // a reaction
			msg := msgs[rng.Intn(len(msgs))]
			r := e.reaction(pick(), authors[msg], msg, emojis[rng.Intn(len(emojis))])
			r.ChannelID = channels[rng.Intn(2)]
			if rng.Intn(10) == 0 {
				r.GiverRoles = []string{"mod"}
			}
			sent = append(sent, r)
			e.mustReact(r)
		case op < 48: // a replayed reaction
			if len(sent) > 0 {
				e.mustReact(sent[rng.Intn(len(sent))])
			}
		case op < 58: // a removal
			msg := msgs[rng.Intn(len(msgs))]
			rm := kudos.ReactionRemoved{GiverID: pick(), ReceiverID: authors[msg], MessageID: msg,
				ChannelID: channels[rng.Intn(2)], Emoji: emojis[rng.Intn(len(emojis))]}
			if _, err := e.eng.OnReactionRemoved(e.ctx, rm); err != nil {
				t.Fatal(err)
			}
		case op < 62: // thanks
			msg := msgs[rng.Intn(len(msgs))]
			now := e.clock.Now()
			_, err := e.eng.OnThanks(e.ctx, kudos.ThanksReply{AuthorID: pick(), RepliedToID: authors[msg],
				RepliedToMessageID: msg, Text: "thanks!", AuthorAccountCreated: now.AddDate(-1, 0, 0), AuthorJoinedAt: now.AddDate(-1, 0, 0)})
			if err != nil && kudos.RefusalCode(err) == "" {
				t.Fatal(err)
			}
		case op < 74: // a transfer, with keys reused for replays
			key := fmt.Sprint("tr", rng.Intn(60))
			err := e.eng.Transfer(e.ctx, pick(), pick(), int64(rng.Intn(50)-5), key)
			if err != nil && kudos.RefusalCode(err) == "" {
				t.Fatal(err)
			}
		case op < 78: // a finished job, paid as the horde pays it; job ids reused for replays
			job := fmt.Sprint("job", rng.Intn(40))
			cost := int64(rng.Intn(20) + 1)
			_, err := e.st.Apply(e.ctx,
				kudos.Entry{UserID: pick(), Delta: cost, Kind: kudos.KindGeneration, Ref: job, Key: "job:" + job + ":reward", Floor: kudos.NoFloor},
				kudos.Entry{UserID: pick(), Delta: -cost, Kind: kudos.KindRequestCost, Ref: job, Key: "job:" + job + ":cost", Floor: 0})
			if err != nil && !errors.Is(err, kudos.ErrInsufficient) {
				t.Fatal(err)
			}
		case op < 82: // a moderator award, keys reused
			err := e.eng.Award(e.ctx, kudos.ModeratorAward{ModeratorID: users[7], ReceiverID: pick(),
				Amount: int64(rng.Intn(30) + 1), Key: fmt.Sprint("ma", rng.Intn(10))})
			if err != nil && kudos.RefusalCode(err) == "" {
				t.Fatal(err)
			}
		case op < 90:
			e.settle()
		case op < 92:
			if _, err := e.eng.ArtTally(e.ctx, e.clock.Now().AddDate(0, 0, -1)); err != nil {
				t.Fatal(err)
			}
		case op < 99:
			e.clock.Advance(time.Duration(rng.Intn(20)) * time.Minute)
		default:
			e.clock.Advance(time.Duration(rng.Intn(30)) * time.Hour)
		}
	}
	e.clock.Advance(time.Hour)
	e.settle()

	e.verify()
	// Every balance is at or above its floor (0: only transfers take kudos away).
	paid := map[string]int{}
	jobs := map[string]int64{} // job -> sum of its entries (reward + cost)
	jobEntries := map[string]int{}
	for _, u := range users {
		if b := e.balance(u); b < 0 {
			t.Fatalf("user %d is at %d, below the floor 0", u, b)
		}
		h, err := e.eng.History(e.ctx, u, 100000)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range h {
			switch {
			case strings.HasPrefix(en.Key, "award:"):
				paid[en.Key]++
			case en.Kind == kudos.KindTransfer:
				paid[en.Ref]++
			case en.Kind == kudos.KindGeneration || en.Kind == kudos.KindRequestCost:
				jobs[en.Ref] += en.Delta
				jobEntries[en.Ref]++
			}
		}
	}
	// Every settled award was paid exactly once, and nothing else was; caps held.
	settled, settledSeen, transfers := 0, 0, 0
	giverDay := map[string]int64{}
	for _, m := range msgs {
		awards, err := e.st.Awards(e.ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range awards {
			if a.State == kudos.AwardRevoked {
				continue
			}
			giverDay[fmt.Sprint(a.GiverID, kudos.Day(a.At, time.UTC).Name)] += a.Amount
			if a.State != kudos.AwardSettled {
				continue
			}
			settled++
			settledSeen++
			if n := paid[kudos.AwardKey(a.GiverID, a.MessageID, a.Category)]; n != 1 {
				t.Fatalf("award %+v paid %d times", a, n)
			}
		}
	}
	for k, n := range paid {
		if strings.HasPrefix(k, "award:") {
			settled--
		} else if n != 2 { // a transfer is one entry out and one in
			t.Fatalf("transfer %s has %d entries, want 2", k, n)
		} else {
			transfers++
		}
	}
	if settled != 0 {
		t.Fatalf("%d award entries without a settled award (negative) or settled awards unpaid (positive)", settled)
	}
	// Every job was paid once: one reward and one cost that cancel out.
	for job, n := range jobEntries {
		if n != 2 || jobs[job] != 0 {
			t.Fatalf("job %s has %d entries summing to %d, want a reward and its cost", job, n, jobs[job])
		}
	}
	if settledSeen == 0 || transfers == 0 || len(jobEntries) == 0 {
		t.Fatalf("the sequence exercised too little: %d settled awards, %d transfers, %d jobs", settledSeen, transfers, len(jobEntries))
	}
	for k, sum := range giverDay {
		if sum > cfg.GiverDailyCap {
			t.Fatalf("giver-day %s awarded %d, over the cap %d", k, sum, cfg.GiverDailyCap)
		}
	}
}

// TestConcurrentAwardsRespectCaps races many givers at one receiver: the
// receiver's daily cap holds because each check and write is one transaction.
func TestConcurrentAwardsRespectCaps(t *testing.T) {
	cfg := testConfig() // receiver cap 30: six awards of 5
	e := newEnv(t, cfg)
	receiver := e.user("receiver")
	givers := e.users(16)
	if awarded := raceAwards(t, e, []*kudos.Engine{e.eng}, receiver, givers, "m"); awarded != 6 {
		t.Fatalf("%d awards recorded, want 6 (cap 30 / 5)", awarded)
	}
	e.clock.Advance(time.Hour)
	if n := e.settle(); n != 6 || e.balance(receiver) != 30 {
		t.Fatalf("settled %d, receiver has %d; want 6, 30", n, e.balance(receiver))
	}
}

// TestConcurrentAwardsAcrossProcessesRespectCaps is
// TestConcurrentAwardsRespectCaps with the givers split between two
// processes (two stores and engines on one PostgreSQL database): the
// receiver's daily cap holds across them.
func TestConcurrentAwardsAcrossProcessesRespectCaps(t *testing.T) {
	database := storetest.PostgresDatabase(t, t.TempDir()) // skips, saying why, without a server
	cfg := testConfig()                                    // receiver cap 30: six awards of 5
	clock := storetest.NewClock(t0)
	var engines []*kudos.Engine
	var first *store.Store
	for range 2 {
		st, err := store.Open(context.Background(), database, store.Options{Clock: clock, Logger: quiet, MaxConns: storetest.TestMaxConns})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		eng, err := kudos.New(st, cfg, clock, kudos.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, eng)
		if first == nil {
			first = st
		}
	}
	e := &env{tb: t, ctx: context.Background(), st: first, eng: engines[0], clock: clock, cfg: cfg}
	for round := range 4 {
		receiver := e.user(fmt.Sprintf("receiver%d", round))
		givers := make([]int64, 16)
		for i := range givers {
			givers[i] = e.user(fmt.Sprintf("giver%d-%d", round, i))
		}
		if awarded := raceAwards(t, e, engines, receiver, givers, fmt.Sprint("m", round, "-")); awarded != 6 {
			t.Fatalf("round %d: %d awards recorded over two processes, want 6 (cap 30 / 5)", round, awarded)
		}
	}
}

// raceAwards has every giver react 🙏 at once to a message of receiver's
// (msgPrefix and the giver's index name it), through the engines in turn,
// and returns how many awards were recorded; a refusal other than the
// receiver's cap fails the test.
func raceAwards(t *testing.T, e *env, engines []*kudos.Engine, receiver int64, givers []int64, msgPrefix string) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	awarded := 0
	for i, g := range givers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := engines[i%len(engines)].OnReactionAdded(e.ctx, e.reaction(g, receiver, fmt.Sprint(msgPrefix, i), "🙏"))
			if err != nil && kudos.RefusalCode(err) != kudos.RefuseReceiverCap {
				t.Errorf("giver %d: %v", g, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if out.Awarded {
				awarded++
			}
		}()
	}
	wg.Wait()
	return awarded
}
