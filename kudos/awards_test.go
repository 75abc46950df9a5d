package kudos_test

import (
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

func TestReactionAwardRules(t *testing.T) {
	cfg := testConfig()
	cfg.GiveBarredRoles = []string{"muted"}
	cfg.ReceiveRequiredRoles = []string{"member", "mod"}
	e := newEnv(t, cfg)
	alice, bob := e.user("alice"), e.user("bob")
	bad := e.user("bad", flagged)
	tests := []struct {
		name string
		edit func(*kudos.ReactionAdded)
		want string
	}{
		{"giver is a bot", func(r *kudos.ReactionAdded) { r.GiverIsBot = true }, kudos.RefuseBot},
		{"receiver is a bot", func(r *kudos.ReactionAdded) { r.ReceiverIsBot = true }, kudos.RefuseBot},
		{"own message", func(r *kudos.ReactionAdded) { r.ReceiverID = r.GiverID }, kudos.RefuseSelf},
		{"anonymous giver", func(r *kudos.ReactionAdded) { r.GiverID = 0 }, kudos.RefuseAnonymous},
		{"young account", func(r *kudos.ReactionAdded) { r.GiverAccountCreated = r.At.Add(-time.Hour) }, kudos.RefuseTooNew},
		{"unknown account age", func(r *kudos.ReactionAdded) { r.GiverAccountCreated = time.Time{} }, kudos.RefuseTooNew},
		{"new member", func(r *kudos.ReactionAdded) { r.GiverJoinedAt = r.At.Add(-time.Hour) }, kudos.RefuseTooNew},
		{"barred giver role", func(r *kudos.ReactionAdded) { r.GiverRoles = []string{"muted"} }, kudos.RefuseRole},
		{"receiver lacks a required role", func(r *kudos.ReactionAdded) { r.ReceiverRoles = nil }, kudos.RefuseRole},
		{"flagged giver", func(r *kudos.ReactionAdded) { r.GiverID = bad }, kudos.RefuseFlagged},
		{"flagged receiver", func(r *kudos.ReactionAdded) { r.ReceiverID = bad }, kudos.RefuseFlagged},
		{"unknown receiver", func(r *kudos.ReactionAdded) { r.ReceiverID = 4242 }, kudos.RefuseUnknownUser},
		{"moderation emoji from a member", func(r *kudos.ReactionAdded) { r.Emoji = "🛡️" }, kudos.RefuseNotModerator},
		{"allowed", func(r *kudos.ReactionAdded) {}, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.reaction(alice, bob, "m"+string(rune('a'+i)), "🙏")
			r.ReceiverRoles = []string{"member"}
			tt.edit(&r)
			out, err := e.eng.OnReactionAdded(e.ctx, r)
			wantCode(t, err, tt.want)
			if out.Awarded != (tt.want == "") {
				t.Fatalf("awarded = %v with refusal %v", out.Awarded, err)
			}
		})
	}
}

func TestReactionCategories(t *testing.T) {
	cfg := testConfig()
	cfg.GiverDailyCap = 0 // no cap: this test is about categories
	e := newEnv(t, cfg)
	alice, mod := e.user("alice"), e.user("mod", moderator)
	tests := []struct {
		name    string
		giver   int64
		roles   []string
		emoji   string
		awarded bool
		cat     kudos.Category
		amount  int64
	}{
		{"helpful emoji", alice, nil, "🙏", true, kudos.CategoryHelpful, 5},
		{"emoji without variation selector", alice, nil, "❤", true, kudos.CategoryHelpful, 5},
		{"art emoji", alice, nil, "🎨", true, kudos.CategoryArt, 3},
		{"not an award emoji", alice, nil, "😂", false, "", 0},
		{"moderator role makes helpful a moderation award", alice, []string{"mod"}, "🙏", true, kudos.CategoryModeration, 10},
		{"moderator user flag too", mod, nil, "🙏", true, kudos.CategoryModeration, 10},
		{"moderation emoji from a moderator", mod, nil, "🛡️", true, kudos.CategoryModeration, 10},
		{"a moderator's art stays art", mod, nil, "🎨", true, kudos.CategoryArt, 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A fresh receiver per case keeps the receiver and pair caps out of the way.
			r := e.reaction(tt.giver, e.user("receiver"+string(rune('a'+i))), "cat"+string(rune('a'+i)), tt.emoji)
			r.GiverRoles = tt.roles
			out, err := e.eng.OnReactionAdded(e.ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if out.Awarded != tt.awarded || out.Category != tt.cat || out.Amount != tt.amount {
				t.Fatalf("outcome %+v, want awarded=%v %s %d", out, tt.awarded, tt.cat, tt.amount)
			}
		})
	}
}

func TestAwardCaps(t *testing.T) {
	tests := []struct {
		name string
		// run makes awards from fresh users and returns the refusal of the last one.
		run  func(e *env, us []int64) error
		want string
	}{
		{"giver daily cap", func(e *env, us []int64) error {
			// 20 a day: four 5-kudos awards to four receivers, the fifth is refused.
			var err error
			for i := 1; i <= 5; i++ {
				_, err = e.eng.OnReactionAdded(e.ctx, e.reaction(us[0], us[i], "g"+string(rune('0'+i)), "🙏"))
				if i < 5 && err != nil {
					e.tb.Fatalf("award %d: %v", i, err)
				}
			}
			return err
		}, kudos.RefuseGiverCap},
		{"receiver daily cap", func(e *env, us []int64) error {
			// 30 a day: six givers of 5, the seventh is refused.
			var err error
			for i := 1; i <= 7; i++ {
				_, err = e.eng.OnReactionAdded(e.ctx, e.reaction(us[i], us[0], "r"+string(rune('0'+i)), "🙏"))
				if i < 7 && err != nil {
					e.tb.Fatalf("award %d: %v", i, err)
				}
			}
			return err
		}, kudos.RefuseReceiverCap},
		{"pair weekly cap across days", func(e *env, us []int64) error {
			// 15 a week between two members: three on three days, the fourth refused.
			var err error
			for i := 1; i <= 4; i++ {
				_, err = e.eng.OnReactionAdded(e.ctx, e.reaction(us[0], us[1], "p"+string(rune('0'+i)), "🙏"))
				if i < 4 && err != nil {
					e.tb.Fatalf("award %d: %v", i, err)
				}
				e.clock.Advance(24 * time.Hour)
			}
			return err
		}, kudos.RefusePairCap},
		{"giver cap resets the next day", func(e *env, us []int64) error {
			for i := 1; i <= 4; i++ {
				if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(us[0], us[i], "d"+string(rune('0'+i)), "🙏")); err != nil {
					e.tb.Fatalf("award %d: %v", i, err)
				}
			}
			e.clock.Advance(24 * time.Hour)
			_, err := e.eng.OnReactionAdded(e.ctx, e.reaction(us[0], us[5], "d5", "🙏"))
			return err
		}, ""},
		{"revoked awards do not count", func(e *env, us []int64) error {
			for i := 1; i <= 4; i++ {
				msg := "v" + string(rune('0'+i))
				if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(us[0], us[i], msg, "🙏")); err != nil {
					e.tb.Fatalf("award %d: %v", i, err)
				}
				if _, err := e.eng.OnReactionRemoved(e.ctx, kudos.ReactionRemoved{GiverID: us[0], MessageID: msg, Emoji: "🙏"}); err != nil {
					e.tb.Fatal(err)
				}
			}
			_, err := e.eng.OnReactionAdded(e.ctx, e.reaction(us[0], us[5], "v5", "🙏"))
			return err
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testConfig())
			wantCode(t, tt.run(e, e.users(8)), tt.want)
		})
	}
}

func TestAwardSettleAndRevoke(t *testing.T) {
	e := newEnv(t, testConfig())
	alice, bob := e.user("alice"), e.user("bob")

	// Pending until the settle delay has passed.
	if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(alice, bob, "m1", "🙏")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(alice, bob, "m1", "🙏")); kudos.RefusalCode(err) != kudos.RefuseDuplicate {
		t.Fatalf("a replayed reaction: want duplicate, got %v", err)
	}
	if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(alice, bob, "m1", "❤️")); kudos.RefusalCode(err) != kudos.RefuseDuplicate {
		t.Fatalf("a second helpful emoji on one message: want duplicate, got %v", err)
	}
	if n := e.settle(); n != 0 || e.balance(bob) != 0 {
		t.Fatalf("settled %d before the delay, bob has %d", n, e.balance(bob))
	}
	e.clock.Advance(10 * time.Minute)
	if n := e.settle(); n != 1 || e.balance(bob) != 5 {
		t.Fatalf("settled %d, bob has %d; want 1 and 5", n, e.balance(bob))
	}
	// Settling again, or replaying the reaction, never pays twice.
	if n := e.settle(); n != 0 {
		t.Fatalf("second settle paid %d", n)
	}
	if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(alice, bob, "m1", "🙏")); kudos.RefusalCode(err) != kudos.RefuseDuplicate {
		t.Fatalf("a replay after settling: want duplicate, got %v", err)
	}
	// Removing after settling keeps the award.
	if n, err := e.eng.OnReactionRemoved(e.ctx, kudos.ReactionRemoved{GiverID: alice, MessageID: "m1", Emoji: "🙏"}); err != nil || n != 0 {
		t.Fatalf("removal after settle revoked %d (%v)", n, err)
	}

	// Removing before settling revokes; adding again revives it.
	if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(alice, bob, "m2", "🙏")); err != nil {
		t.Fatal(err)
	}
	if n, err := e.eng.OnReactionRemoved(e.ctx, kudos.ReactionRemoved{GiverID: alice, MessageID: "m2", Emoji: "🙏️"}); err != nil || n != 1 {
		t.Fatalf("removal before settle revoked %d (%v), want 1", n, err)
	}
	e.clock.Advance(time.Hour)
	if n := e.settle(); n != 0 || e.balance(bob) != 5 {
		t.Fatalf("a revoked award was paid: settled %d, bob %d", n, e.balance(bob))
	}
	if out, err := e.eng.OnReactionAdded(e.ctx, e.reaction(alice, bob, "m2", "🙏")); err != nil || !out.Awarded {
		t.Fatalf("re-adding a revoked reaction: %+v %v", out, err)
	}
	e.clock.Advance(10 * time.Minute)
	if n := e.settle(); n != 1 || e.balance(bob) != 10 {
		t.Fatalf("revived award: settled %d, bob %d; want 1, 10", n, e.balance(bob))
	}
	awards, err := e.st.Awards(e.ctx, "m2")
	if err != nil || len(awards) != 1 || awards[0].State != kudos.AwardSettled {
		t.Fatalf("awards of m2: %+v %v", awards, err)
	}
	hist, err := e.eng.History(e.ctx, bob, 10)
	if err != nil || len(hist) != 2 || hist[0].Key != kudos.AwardKey(alice, "m2", kudos.CategoryHelpful) {
		t.Fatalf("bob's history: %+v %v", hist, err)
	}
	e.verify()
}

func TestThanksAward(t *testing.T) {
	e := newEnv(t, testConfig())
	alice, bob := e.user("alice"), e.user("bob")
	now := e.clock.Now()
	reply := func(msg, text string) kudos.ThanksReply {
		return kudos.ThanksReply{AuthorID: alice, RepliedToID: bob, MessageID: "reply-" + msg, RepliedToMessageID: msg,
			ChannelID: "help", Text: text, AuthorAccountCreated: now.AddDate(-1, 0, 0), AuthorJoinedAt: now.AddDate(0, -1, 0)}
	}
	tests := []struct {
		name    string
		r       kudos.ThanksReply
		awarded bool
		want    string
	}{
		{"thanks", reply("q1", "thanks, that worked!"), true, ""},
		{"not thanks", reply("q2", "did you try a lower cfg?"), false, ""},
		{"no thanks", reply("q3", "no thanks"), false, ""},
		{"thanks again for the same message", reply("q1", "ty!"), false, kudos.RefuseDuplicate},
		{"thanking oneself", func() kudos.ThanksReply { r := reply("q4", "thx"); r.RepliedToID = alice; return r }(), false, kudos.RefuseSelf},
		{"thanking a bot", func() kudos.ThanksReply { r := reply("q5", "thx"); r.RepliedToIsBot = true; return r }(), false, kudos.RefuseBot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.eng.OnThanks(e.ctx, tt.r)
			wantCode(t, err, tt.want)
			if out.Awarded != tt.awarded {
				t.Fatalf("awarded = %v, want %v", out.Awarded, tt.awarded)
			}
		})
	}
	// A reaction on a message already thanked for is the same award.
	if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(alice, bob, "q1", "🙏")); kudos.RefusalCode(err) != kudos.RefuseDuplicate {
		t.Fatalf("reaction after thanks: want duplicate, got %v", err)
	}
	e.clock.Advance(10 * time.Minute)
	if n := e.settle(); n != 1 || e.balance(bob) != 5 {
		t.Fatalf("settled %d, bob %d; want 1, 5", n, e.balance(bob))
	}
}

func TestModeratorAward(t *testing.T) {
	e := newEnv(t, testConfig())
	alice, bob, mod := e.user("alice"), e.user("bob"), e.user("mod", moderator)
	bad := e.user("bad", flagged)
	tests := []struct {
		name string
		a    kudos.ModeratorAward
		want string
	}{
		{"member without the role", kudos.ModeratorAward{ModeratorID: alice, ReceiverID: bob, Amount: 10, Key: "k1"}, kudos.RefuseNotModerator},
		{"member with a moderator role", kudos.ModeratorAward{ModeratorID: alice, ModeratorRoles: []string{"mod"}, ReceiverID: bob, Amount: 10, Key: "k2"}, ""},
		{"moderator user", kudos.ModeratorAward{ModeratorID: mod, ReceiverID: bob, Amount: 25, Reason: "ran the event", Key: "k3"}, ""},
		{"replay pays nothing", kudos.ModeratorAward{ModeratorID: mod, ReceiverID: bob, Amount: 25, Key: "k3"}, ""},
		{"to oneself", kudos.ModeratorAward{ModeratorID: mod, ReceiverID: mod, Amount: 10, Key: "k4"}, kudos.RefuseSelf},
		{"too much", kudos.ModeratorAward{ModeratorID: mod, ReceiverID: bob, Amount: 501, Key: "k5"}, kudos.RefuseAmount},
		{"nothing", kudos.ModeratorAward{ModeratorID: mod, ReceiverID: bob, Amount: 0, Key: "k6"}, kudos.RefuseAmount},
		{"to a flagged user", kudos.ModeratorAward{ModeratorID: mod, ReceiverID: bad, Amount: 10, Key: "k7"}, kudos.RefuseFlagged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, e.eng.Award(e.ctx, tt.a), tt.want)
		})
	}
	if b := e.balance(bob); b != 35 {
		t.Fatalf("bob has %d, want 35", b)
	}
	e.verify()
}

func TestFlaggedBeforeSettleIsNotPaid(t *testing.T) {
	e := newEnv(t, testConfig())
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	e.mustReact(e.reaction(alice, bob, "m1", "🙏"))
	e.mustReact(e.reaction(alice, carol, "m2", "🙏"))
	if err := e.st.UpdateUser(e.ctx, horde.User{ID: bob, Name: "bob", Flagged: true}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if n := e.settle(); n != 1 {
		t.Fatalf("settled %d, want 1 (carol's)", n)
	}
	if b, c := e.balance(bob), e.balance(carol); b != 0 || c != 5 {
		t.Fatalf("bob %d carol %d, want 0 and 5", b, c)
	}
	if a, err := e.st.Awards(e.ctx, "m1"); err != nil || len(a) != 1 || a[0].State != kudos.AwardRevoked {
		t.Fatalf("the flagged receiver's award: %+v %v", a, err)
	}
}

// TestArtReactionInArtChannelPaysOnce: in an art channel a 🎨 is counted for
// the daily tally and is not an award as well (issue 14.10: it paid twice).
func TestArtReactionInArtChannelPaysOnce(t *testing.T) {
	cfg := testConfig()
	cfg.Art.Channels = []string{"art"}
	e := newEnv(t, cfg)
	artist, fan := e.user("artist"), e.user("fan")
	var artEmoji string
	for _, em := range cfg.Categories[kudos.CategoryArt].Emojis {
		artEmoji = em
		break
	}
	if artEmoji == "" {
		t.Fatal("the test config has no art emoji")
	}
	ev := e.reaction(fan, artist, "m1", artEmoji)
	ev.ChannelID = "art"
	out, err := e.eng.OnReactionAdded(e.ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if out.Awarded || !out.ArtRecorded {
		t.Fatalf("outcome %+v: want recorded for the tally and no award", out)
	}
	e.clock.Advance(time.Hour)
	e.settle()
	if got := e.balance(artist); got != 0 {
		t.Fatalf("the artist has %d kudos before the tally, want 0", got)
	}
}
