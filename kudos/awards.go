package kudos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ReactionAdded is a member's reaction on a message. User ids are hordebot
// user ids (the bot resolves Discord ids first); Discord ids are strings.
type ReactionAdded struct {
	GiverID       int64 // who reacted
	ReceiverID    int64 // the message's author
	MessageID     string
	ChannelID     string
	GuildID       string
	Emoji         string // a Unicode emoji or a custom emoji "name:id"
	GiverIsBot    bool
	ReceiverIsBot bool
	GiverRoles    []string
	ReceiverRoles []string
	// GiverAccountCreated and GiverJoinedAt are the giver's Discord account
	// creation and guild join times. A zero time is unknown and fails a
	// configured minimum age.
	GiverAccountCreated time.Time
	GiverJoinedAt       time.Time
	At                  time.Time // when the reaction was added; zero is now
}

// ReactionRemoved is a member removing their reaction.
type ReactionRemoved struct {
	GiverID    int64
	ReceiverID int64 // the message's author, if known
	MessageID  string
	ChannelID  string
	GuildID    string
	Emoji      string
	At         time.Time // zero is now
}

// Outcome is what a reaction or a thanks did.
type Outcome struct {
	// Awarded is true when a pending award was recorded; it settles after
	// the settle delay unless the reaction is removed first.
	Awarded  bool
	Category Category
	Amount   int64
	// ArtRecorded is true when the reaction was recorded for the daily art tally.
	ArtRecorded bool
}

// ModeratorAward is a moderator's /kudos award.
type ModeratorAward struct {
	ModeratorID    int64
	ModeratorRoles []string
	ReceiverID     int64
	Amount         int64
	Reason         string
	Key            string // idempotency key, e.g. the interaction id
}

// awardAttempt is one award to check: a reaction, or a thanks reply with a
// forced category.
type awardAttempt struct {
	ev     ReactionAdded
	forced Category // "" for a reaction: the category comes from the emoji
}

// OnReactionAdded handles a reaction. An award emoji records a pending award
// if every rule allows it, or returns a refusal (see Refuse) saying which rule did not:
// RefuseBot, RefuseSelf, RefuseAnonymous, RefuseNotModerator (the moderation
// emoji from a non-moderator), RefuseTooNew, RefuseRole, RefuseUnknownUser,
// RefuseFlagged, RefuseDuplicate (a replay, or a second award emoji of the same
// category on one message), RefuseGiverCap, RefuseReceiverCap, RefusePairCap.
// A moderator's helpful or moderation emoji is a moderation award. Any
// human reaction in an art channel is also recorded for the art tally. A
// reaction that is neither an award emoji nor in an art channel does nothing.
func (e *Engine) OnReactionAdded(ctx context.Context, ev ReactionAdded) (Outcome, error) {
	outs, refusals, err := e.AwardMany(ctx, []ReactionAdded{ev})
	if err != nil {
		return Outcome{}, err
	}
	return outs[0], refusals[0]
}

// AwardMany handles many reactions at once (a gateway backlog, an import):
// the same rules as OnReactionAdded, with one standings read and one write
// transaction for all the awards. refusals[i] is the refusal (see Refuse) of evs[i] or
// nil; err is a failure that recorded no award.
func (e *Engine) AwardMany(ctx context.Context, evs []ReactionAdded) (outs []Outcome, refusals []error, err error) {
	attempts := make([]awardAttempt, len(evs))
	for i, ev := range evs {
		attempts[i] = awardAttempt{ev: ev}
	}
	outs, refusals, err = e.award(ctx, attempts)
	if err == nil {
		e.stats.countAwards(outs, refusals)
	}
	return outs, refusals, err
}

// OnReactionRemoved handles a reaction removal: a pending award made with
// that emoji is revoked (a settled one stays: once paid, kudos are not
// clawed back by un-reacting), and an art reaction is unrecorded. It returns
// how many awards it revoked.
func (e *Engine) OnReactionRemoved(ctx context.Context, ev ReactionRemoved) (int, error) {
	at := ev.At
	if at.IsZero() {
		at = e.clock.Now()
	}
	emoji := NormalizeEmoji(ev.Emoji)
	if e.artChannel[ev.ChannelID] {
		r := ArtReaction{MessageID: ev.MessageID, ChannelID: ev.ChannelID, AuthorID: ev.ReceiverID,
			ReactorID: ev.GiverID, Emoji: emoji, Added: false, At: at}
		if err := e.store.RecordArtReaction(ctx, r); err != nil {
			return 0, fmt.Errorf("record art reaction removal on %s: %w", ev.MessageID, err)
		}
	}
	if _, ok := e.emojis[emoji]; !ok {
		return 0, nil
	}
	n, err := e.store.RevokeAwards(ctx, ev.GiverID, ev.MessageID, emoji, at)
	if err != nil {
		return 0, fmt.Errorf("revoke awards of user %d on %s: %w", ev.GiverID, ev.MessageID, err)
	}
	e.stats.awardsRevoked.Add(int64(n))
	return n, nil
}

// Award is a moderator's /kudos award: settled at once as a moderation
// award. Refusals: RefuseAmount (not positive, or above ModeratorAwardMax),
// RefuseSelf, RefuseAnonymous, RefuseUnknownUser, RefuseNotModerator,
// RefuseFlagged. A replayed Key does nothing and is not an error.
func (e *Engine) Award(ctx context.Context, a ModeratorAward) error {
	if a.Key == "" {
		return errors.New("moderator award: empty idempotency key")
	}
	switch {
	case a.Amount <= 0:
		return refuse(RefuseAmount, "the amount must be a positive number of kudos").InCase("positive")
	case e.cfg.ModeratorAwardMax > 0 && a.Amount > e.cfg.ModeratorAwardMax:
		return refuse(RefuseAmount, "one award may be at most %d kudos", e.cfg.ModeratorAwardMax).InCase("max").With("Max", e.cfg.ModeratorAwardMax)
	case a.ModeratorID == anonymousID || a.ReceiverID == anonymousID:
		return refuse(RefuseAnonymous, "the anonymous user neither gives nor receives awards").InCase("award")
	case a.ModeratorID == a.ReceiverID:
		return refuse(RefuseSelf, "you cannot award yourself").InCase("award")
	}
	st, err := e.standings(ctx, a.ModeratorID, a.ReceiverID)
	if err != nil {
		return err
	}
	if !st[a.ModeratorID].Moderator && !anyIn(a.ModeratorRoles, e.modRoles) {
		return refuse(RefuseNotModerator, "only moderators can give moderation awards").InCase("award")
	}
	if err := checkFlagged(st[a.ModeratorID], st[a.ReceiverID]); err != nil {
		return err
	}
	reason := "moderation award"
	if a.Reason != "" {
		reason += ": " + a.Reason
	}
	entry := Entry{UserID: a.ReceiverID, Delta: a.Amount, Kind: KindAwardModeration, Reason: reason,
		ActorID: a.ModeratorID, Ref: "modaward:" + a.Key, Key: "modaward:" + a.Key, Floor: NoFloor, At: e.clock.Now()}
	applied, err := e.store.Apply(ctx, entry)
	if err != nil {
		return fmt.Errorf("moderator award from user %d to %d: %w", a.ModeratorID, a.ReceiverID, err)
	}
	if len(applied) == 1 && applied[0] {
		e.stats.moderatorAwards.Add(1)
		e.stats.moderatorKudos.Add(a.Amount)
	}
	return nil
}

// award checks attempts and records the pending awards in one transaction.
func (e *Engine) award(ctx context.Context, attempts []awardAttempt) ([]Outcome, []error, error) {
	now := e.clock.Now()
	outs := make([]Outcome, len(attempts))
	refusals := make([]error, len(attempts))
	cats := make([]Category, len(attempts))
	live := make([]bool, len(attempts)) // still a candidate for an award or an art record
	art := make([]bool, len(attempts))
	var ids []int64
	seen := map[int64]bool{}
	for i := range attempts {
		a := &attempts[i]
		if a.ev.At.IsZero() {
			a.ev.At = now
		}
		if a.forced == "" {
			a.ev.Emoji = NormalizeEmoji(a.ev.Emoji) // a thanks keeps its stand-in emoji
		}
		ev := a.ev
		cat, isAward := a.forced, a.forced != ""
		if !isAward {
			cat, isAward = e.emojis[ev.Emoji]
		}
		art[i] = a.forced == "" && e.artChannel[ev.ChannelID]
		if art[i] && isAward && cat == CategoryArt {
			// In an art channel the daily art tally pays for art reactions
			// (distinct reactors, capped); an art award too would pay twice.
			isAward = false
		}
		if !isAward && !art[i] {
			continue
		}
		cats[i] = cat
		if err := e.checkPeople(ev); err != nil {
			art[i] = false
			if isAward {
				refusals[i] = err
			}
			continue
		}
		if !isAward {
			cats[i] = ""
		}
		live[i] = true
		for _, id := range []int64{ev.GiverID, ev.ReceiverID} {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return outs, refusals, nil
	}
	st, err := e.store.Standings(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("read standings: %w", err)
	}
	var (
		news    []NewAward
		caps    []AwardCaps
		indexOf []int
	)
	for i, a := range attempts {
		if !live[i] {
			continue
		}
		ev := a.ev
		giver, gok := st[ev.GiverID]
		recv, rok := st[ev.ReceiverID]
		if art[i] && gok && rok && !giver.Flagged {
			r := ArtReaction{MessageID: ev.MessageID, ChannelID: ev.ChannelID, AuthorID: ev.ReceiverID,
				ReactorID: ev.GiverID, Emoji: ev.Emoji, Added: true, At: ev.At}
			if err := e.store.RecordArtReaction(ctx, r); err != nil {
				return nil, nil, fmt.Errorf("record art reaction on %s: %w", ev.MessageID, err)
			}
			outs[i].ArtRecorded = true
		}
		if cats[i] == "" {
			continue
		}
		cat, err := e.checkGiver(a, cats[i], giver, gok, recv, rok)
		if err != nil {
			refusals[i] = err
			continue
		}
		amount := e.cfg.Categories[cat].Amount
		news = append(news, NewAward{GiverID: ev.GiverID, ReceiverID: ev.ReceiverID, MessageID: ev.MessageID,
			ChannelID: ev.ChannelID, GuildID: ev.GuildID, Category: cat, Emoji: ev.Emoji, Amount: amount,
			At: ev.At, SettleAt: now.Add(e.cfg.SettleDelay.Std())})
		caps = append(caps, AwardCaps{DayStart: Day(ev.At, e.loc).From, WeekStart: Week(ev.At, e.loc).From,
			GiverDaily: e.cfg.GiverDailyCap, ReceiverDaily: e.cfg.ReceiverDailyCap, PairWeekly: e.cfg.PairWeeklyCap})
		indexOf = append(indexOf, i)
		outs[i].Category, outs[i].Amount = cat, amount
	}
	if len(news) == 0 {
		return outs, refusals, nil
	}
	res, err := e.store.AddAwards(ctx, news, caps)
	if err != nil {
		return nil, nil, fmt.Errorf("record %d awards: %w", len(news), err)
	}
	for j, i := range indexOf {
		if res[j] != nil {
			refusals[i] = res[j]
			outs[i].Category, outs[i].Amount = "", 0
			continue
		}
		outs[i].Awarded = true
	}
	return outs, refusals, nil
}

// checkPeople applies the rules that need no lookup: no bots, no self, no
// anonymous, and the giver's minimum ages.
func (e *Engine) checkPeople(ev ReactionAdded) error {
	switch {
	case ev.GiverIsBot:
		return refuse(RefuseBot, "bots cannot give kudos").InCase("give")
	case ev.ReceiverIsBot:
		return refuse(RefuseBot, "bots cannot receive kudos").InCase("receive")
	case ev.GiverID == ev.ReceiverID:
		return refuse(RefuseSelf, "you cannot award your own message").InCase("own_message")
	case ev.GiverID == anonymousID || ev.ReceiverID == anonymousID:
		return refuse(RefuseAnonymous, "the anonymous user neither gives nor receives awards").InCase("award")
	}
	if min := e.cfg.MinAccountAge.Std(); min > 0 &&
		(ev.GiverAccountCreated.IsZero() || ev.At.Sub(ev.GiverAccountCreated) < min) {
		return refuse(RefuseTooNew, "your Discord account must be at least %s old to give kudos", humanDuration(min)).InCase("account").With("Duration", min)
	}
	if min := e.cfg.MinMembershipAge.Std(); min > 0 &&
		(ev.GiverJoinedAt.IsZero() || ev.At.Sub(ev.GiverJoinedAt) < min) {
		return refuse(RefuseTooNew, "you must have been a member for at least %s to give kudos", humanDuration(min)).InCase("membership").With("Duration", min)
	}
	return nil
}

// checkGiver applies the rules on roles and standing and returns the
// award's category (a moderator's helpful award is a moderation award).
func (e *Engine) checkGiver(a awardAttempt, cat Category, giver Standing, gok bool, recv Standing, rok bool) (Category, error) {
	ev := a.ev
	if !gok || !rok {
		return "", refuse(RefuseUnknownUser, "that member has no kudos account yet")
	}
	moderator := giver.Moderator || anyIn(ev.GiverRoles, e.modRoles)
	switch {
	case cat == CategoryModeration && !moderator:
		return "", refuse(RefuseNotModerator, "only moderators can give moderation awards").InCase("award")
	case cat == CategoryHelpful && moderator && a.forced == "":
		if e.cfg.Categories[CategoryModeration].Amount > 0 {
			cat = CategoryModeration
		}
	}
	if err := e.checkRoles(ev); err != nil {
		return "", err
	}
	if err := checkFlagged(giver, recv); err != nil {
		return "", err
	}
	return cat, nil
}

// checkFlagged refuses a flagged giver or receiver of kudos.
func checkFlagged(giver, recv Standing) error {
	if giver.Flagged {
		return refuse(RefuseFlagged, "your account is flagged: you cannot give kudos").InCase("giver")
	}
	if recv.Flagged {
		return refuse(RefuseFlagged, "that member's account is flagged: they cannot receive kudos").InCase("receiver")
	}
	return nil
}

// checkRoles applies the required and barred roles of giving and receiving,
// as YAGPDB's reputation plugin does.
func (e *Engine) checkRoles(ev ReactionAdded) error {
	if len(e.giveRequired) > 0 && !anyIn(ev.GiverRoles, e.giveRequired) {
		return refuse(RefuseRole, "you need one of the required roles to give kudos").InCase("giver_required")
	}
	if anyIn(ev.GiverRoles, e.giveBarred) {
		return refuse(RefuseRole, "one of your roles may not give kudos").InCase("giver_barred")
	}
	if len(e.receiveRequired) > 0 && !anyIn(ev.ReceiverRoles, e.receiveRequired) {
		return refuse(RefuseRole, "that member does not have a role that may receive kudos").InCase("receiver_required")
	}
	if anyIn(ev.ReceiverRoles, e.receiveBarred) {
		return refuse(RefuseRole, "that member has a role that may not receive kudos").InCase("receiver_barred")
	}
	return nil
}

// settleBatch is how many awards one settle transaction pays.
const settleBatch = 500

// Settle pays every pending award whose settle delay has passed: each
// becomes a ledger entry keyed "award:<giver>:<message>:<category>", so a
// settle run twice (or by two processes) pays once. The scheduler calls it;
// it returns how many awards it settled.
func (e *Engine) Settle(ctx context.Context) (int, error) {
	now := e.clock.Now()
	total := 0
	for {
		due, err := e.store.DueAwards(ctx, now, settleBatch)
		if err != nil {
			return total, fmt.Errorf("read due awards: %w", err)
		}
		if len(due) == 0 {
			return total, nil
		}
		ss, err := e.settlements(ctx, due, now)
		if err != nil {
			return total, err
		}
		n, err := e.store.SettleAwards(ctx, ss, now)
		if err != nil {
			return total, fmt.Errorf("settle %d awards: %w", len(ss), err)
		}
		total += n
		e.stats.awardsSettled.Add(int64(n))
		if len(due) < settleBatch {
			return total, nil
		}
	}
}

// settlements builds the entries of due awards. An award whose giver or
// receiver was flagged (or is gone) since it was made is revoked instead.
func (e *Engine) settlements(ctx context.Context, due []Award, now time.Time) ([]Settlement, error) {
	ids := make([]int64, 0, 2*len(due))
	for _, a := range due {
		ids = append(ids, a.GiverID, a.ReceiverID)
	}
	st, err := e.store.Standings(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read standings of due awards: %w", err)
	}
	ss := make([]Settlement, 0, len(due))
	for _, a := range due {
		g, gok := st[a.GiverID]
		r, rok := st[a.ReceiverID]
		if gok && rok && !g.Flagged && !r.Flagged {
			ss = append(ss, Settlement{AwardID: a.ID, Entry: awardEntry(a, now)})
			continue
		}
		if _, err := e.store.RevokeAwards(ctx, a.GiverID, a.MessageID, a.Emoji, now); err != nil {
			return nil, fmt.Errorf("revoke award %d of a flagged user: %w", a.ID, err)
		}
		e.log.Info("award revoked: a flagged user", "award", a.ID, "giver", a.GiverID, "receiver", a.ReceiverID)
	}
	return ss, nil
}

// AwardKey is the ledger idempotency key of a reaction or thanks award.
func AwardKey(giverID int64, messageID string, cat Category) string {
	return "award:" + strconv.FormatInt(giverID, 10) + ":" + messageID + ":" + string(cat)
}

func awardEntry(a Award, at time.Time) Entry {
	how := "reaction " + a.Emoji
	if a.Emoji == thanksEmoji {
		how = "thanks"
	}
	return Entry{
		UserID: a.ReceiverID, Delta: a.Amount, Kind: a.Category.Kind(),
		Reason:  fmt.Sprintf("%s award (%s) from user %d", a.Category, how, a.GiverID),
		ActorID: a.GiverID, Ref: a.MessageID, Key: AwardKey(a.GiverID, a.MessageID, a.Category),
		Floor: NoFloor, At: at,
	}
}

func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	case d == time.Hour:
		return "1 hour"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	case d == time.Minute:
		return "1 minute"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	default:
		return d.String()
	}
}
