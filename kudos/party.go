package kudos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Generation parties (the AI Horde community bot's /party): a host holds a
// budget of their own kudos for a while in one channel, and every member's
// image generation delivered there during the party earns a fixed award from
// it, at most one per member in each interval of the party; at the end the
// unspent budget returns to the host.
//
// The money moves through the ledger only, each step idempotent by its key:
//   - start: the host's entry of -budget (KindParty, key
//     "party:<key>:budget"), in the transaction that records the party, so
//     the budget is durably out of the host's balance before the party is
//     announced; a replayed start (the same key) records and takes nothing.
//   - award: the member's entry of +award (key
//     "party:<key>:award:<member>:<slot>"), in the transaction that adds it
//     to the party's spent, only while spent+award <= budget; the party's
//     award rows are keyed (party, member, slot) so a member gets at most
//     one per interval whatever the races, and a generation is counted once
//     per request (a replayed delivery, a restart).
//   - end: the host's entry of +(budget - spent) (key "party:<key>:refund"),
//     in the transaction that marks the party ended; ending twice refunds once.
// Between start and end the party's row holds budget - spent: kudos out of
// the host's balance and in nobody's. VerifyParties checks that every
// party's ledger entries net to minus what it still holds.

// KindParty is the ledger kind of a party's budget hold, its awards and its
// refund (Reason tells which). Like a transfer it moves a member's kudos to
// others: it is not an earning (EarningKinds).
const KindParty EntryKind = "party"

// Refusal codes of parties.
const (
	RefusePartyRunning = "party_running" // the channel already has an open party
	RefuseNoParty      = "no_party"      // no open party in the channel
	RefuseNotHost      = "not_host"      // only the host or a moderator may end it
	RefusePartyPlace   = "party_place"   // parties run in a server channel, not in DMs
)

// Limits of parties that are not configurable.
const (
	MinPartyDuration = time.Minute
	MaxPartyTheme    = 200 // runes
)

// PartyConfig bounds the parties members may start. Any member may host one
// with their own kudos, within these limits.
type PartyConfig struct {
	// Enabled switches /party on (default true).
	Enabled bool `json:"enabled"`
	// MaxDuration is the longest a party may run (default 24h).
	MaxDuration Duration `json:"max_duration"`
	// MaxBudget is the most kudos one party may hold (default 10000).
	MaxBudget int64 `json:"max_budget"`
	// DefaultInterval is how often a member may earn the award when the
	// host does not say (default 10m); MinInterval the shortest the host
	// may choose (default 1m).
	DefaultInterval Duration `json:"default_interval"`
	MinInterval     Duration `json:"min_interval"`
}

// DefaultPartyConfig is PartyConfig's defaults.
func DefaultPartyConfig() PartyConfig {
	return PartyConfig{
		Enabled: true, MaxDuration: Duration(24 * time.Hour), MaxBudget: 10000,
		DefaultInterval: Duration(10 * time.Minute), MinInterval: Duration(time.Minute),
	}
}

// validate returns the config's problems.
func (c PartyConfig) validate() []string {
	if !c.Enabled {
		return nil
	}
	var problems []string
	if c.MaxDuration.Std() < MinPartyDuration {
		problems = append(problems, fmt.Sprintf("party.max_duration must be at least %s", MinPartyDuration))
	}
	if c.MaxBudget <= 0 {
		problems = append(problems, "party.max_budget must be positive")
	}
	if c.MinInterval <= 0 {
		problems = append(problems, "party.min_interval must be positive")
	}
	if c.DefaultInterval < c.MinInterval {
		problems = append(problems, "party.default_interval must be at least party.min_interval")
	}
	return problems
}

// Party is a generation party.
type Party struct {
	ID int64
	// Key is the start's idempotency key (the /party start interaction's id).
	Key       string
	GuildID   string
	ChannelID string
	HostID    int64
	Theme     string
	Award     int64 // kudos per awarded generation
	Budget    int64 // kudos held from the host at the start
	Spent     int64 // kudos awarded so far
	Refunded  int64 // kudos returned to the host at the end
	// Interval: a member earns at most one award in each Interval counted
	// from StartsAt (the slot of a generation is (submitted - StartsAt) / Interval).
	Interval    time.Duration
	Generations int // generations counted (awarded or not)
	StartsAt    time.Time
	EndsAt      time.Time
	Ended       bool
	EndedAt     time.Time
	EndedBy     int64 // who ended it; 0 when its end time passed
	Announced   bool  // its summary was posted (or is being posted)
}

// Remaining is what the party still holds: budget not yet awarded or refunded.
func (p Party) Remaining() int64 { return p.Budget - p.Spent - p.Refunded }

// During reports whether at falls within the party's time: [StartsAt, EndsAt).
func (p Party) During(at time.Time) bool { return !at.Before(p.StartsAt) && at.Before(p.EndsAt) }

// Slot is the interval of the party at falls in, from 0.
func (p Party) Slot(at time.Time) int64 {
	if p.Interval <= 0 || at.Before(p.StartsAt) {
		return 0
	}
	return int64(at.Sub(p.StartsAt) / p.Interval)
}

// Ref is the ledger ref of every entry of the party.
func (p Party) Ref() string { return "party:" + p.Key }

// BudgetEntry is the host's entry that holds the budget at the start; floor
// is the lowest balance it may leave (what the host's queued requests hold).
func (p Party) BudgetEntry(floor int64) Entry {
	return Entry{UserID: p.HostID, Delta: -p.Budget, Kind: KindParty, Reason: "party budget held: " + p.Theme,
		ActorID: p.HostID, Ref: p.Ref(), Key: p.Ref() + ":budget", Floor: max(floor, 0), At: p.StartsAt}
}

// AwardEntry is a member's award for a generation submitted in slot.
func (p Party) AwardEntry(memberID, slot int64, at time.Time) Entry {
	return Entry{UserID: memberID, Delta: p.Award, Kind: KindParty, Reason: "party award: " + p.Theme,
		ActorID: p.HostID, Ref: p.Ref(), Key: p.Ref() + ":award:" + strconv.FormatInt(memberID, 10) + ":" + strconv.FormatInt(slot, 10),
		Floor: NoFloor, At: at}
}

// RefundEntry returns what the ended party did not spend to its host; ok is
// false when nothing is left. p.Refunded must already be budget - spent.
func (p Party) RefundEntry(at time.Time) (e Entry, ok bool) {
	if p.Refunded <= 0 {
		return Entry{}, false
	}
	return Entry{UserID: p.HostID, Delta: p.Refunded, Kind: KindParty, Reason: "party budget returned: " + p.Theme,
		ActorID: p.EndedBy, Ref: p.Ref(), Key: p.Ref() + ":refund", Floor: NoFloor, At: at}, true
}

// PartyStart is a host's /party start.
type PartyStart struct {
	HostID    int64
	GuildID   string
	ChannelID string
	Theme     string
	Duration  time.Duration
	Award     int64
	Budget    int64
	Interval  time.Duration // 0: the configured default
	Key       string        // idempotency key: the interaction's id
}

// PartyGeneration is a member's generation delivered in a channel.
type PartyGeneration struct {
	ChannelID   string
	MemberID    int64
	RequestID   string
	SubmittedAt time.Time // when the request was made: it must fall in the party
	ImageRef    string    // one of its images (a blob ref), for the summary
}

// PartyCredit is what a generation got from the channel's party.
type PartyCredit struct {
	Party   Party  // the party (ID 0: none was running when it was made)
	Counted bool   // counted as one of the party's generations (false: already counted, or none)
	Awarded int64  // kudos paid for it
	NoAward string // why it earned nothing: PartyNoAward*
}

// Why a counted generation earned nothing.
const (
	PartyNoAwardHost     = "host"     // the host's own generation
	PartyNoAwardInterval = "interval" // the member was already awarded in this interval
	PartyNoAwardBudget   = "budget"   // the budget left cannot pay the award
	PartyNoAwardFlagged  = "flagged"  // a flagged member receives no kudos
)

// PartyRecord is one counted generation and its award (Amount 0: none) for
// the store.
type PartyRecord struct {
	PartyID   int64
	RequestID string
	MemberID  int64
	ImageRef  string
	Slot      int64
	Amount    int64
	At        time.Time
}

// PartyMember is a participant of a party: their generations and awards.
type PartyMember struct {
	UserID      int64
	Generations int
	Awards      int
	Kudos       int64
}

// PartyImage is a counted generation's image.
type PartyImage struct {
	UserID    int64
	RequestID string
	ImageRef  string
}

// PartyReport is what a party's summary shows.
type PartyReport struct {
	Party   Party
	Members []PartyMember // most kudos first, then most generations
	Images  []PartyImage  // up to the asked number: one per member first, in order of generation
}

// PartyMismatch is a party whose ledger entries do not net to minus what it
// holds (Ledger: their sum; Want: -(budget - spent - refunded)), or whose
// award rows do not sum to its spent (Awards, Spent).
type PartyMismatch struct {
	PartyID       int64
	Ledger, Want  int64
	Awards, Spent int64
}

// PartyStore keeps parties. store.Store satisfies it.
type PartyStore interface {
	// OpenParty, in one transaction, records p (its ID is assigned) and
	// applies budget, the host's hold. If p.Key was already recorded it
	// changes nothing and returns that party with created false (a
	// replay). The channel's open party refuses it (RefusePartyRunning);
	// a host who cannot cover the budget fails it with an error wrapping
	// ErrInsufficient; nothing is written then.
	OpenParty(ctx context.Context, p Party, budget Entry) (got Party, created bool, err error)
	// OpenPartyIn returns the open party of a channel; RefuseNoParty if none.
	OpenPartyIn(ctx context.Context, channelID string) (Party, error)
	// Party returns a party by id; RefuseNoParty if unknown.
	Party(ctx context.Context, id int64) (Party, error)
	// RecordPartyGeneration, in one transaction: counts r as a generation
	// of the open party r.PartyID unless r.RequestID was counted already
	// (counted false) or the party has ended (counted false); then, when
	// r.Amount > 0 and award (its ledger entry) is set, records the award
	// unless the member has one in r.Slot (Refused PartyNoAwardInterval) or the party's
	// spent would pass its budget (Refused PartyNoAwardBudget), and applies award.
	RecordPartyGeneration(ctx context.Context, r PartyRecord, award *Entry) (PartyRecorded, error)
	// CloseParty, in one transaction, marks the open party id ended at at
	// by byID, sets its Refunded to budget - spent and applies its
	// RefundEntry. A party already ended is returned unchanged with closed false.
	CloseParty(ctx context.Context, id, byID int64, at time.Time) (p Party, closed bool, err error)
	// DueParties returns up to limit open parties whose end time is at or
	// before now, earliest first.
	DueParties(ctx context.Context, now time.Time, limit int) ([]Party, error)
	// UnannouncedParties returns up to limit ended parties whose summary
	// was not claimed (ClaimPartyAnnouncement), earliest ended first.
	UnannouncedParties(ctx context.Context, limit int) ([]Party, error)
	// ClaimPartyAnnouncement marks an ended party's summary as posted and
	// reports whether this call did (one caller posts it);
	// ReleasePartyAnnouncement undoes a claim whose post failed.
	ClaimPartyAnnouncement(ctx context.Context, id int64) (bool, error)
	ReleasePartyAnnouncement(ctx context.Context, id int64) error
	// PartyReport returns a party with its members and up to images of
	// its images.
	PartyReport(ctx context.Context, id int64, images int) (PartyReport, error)
	// VerifyParties returns the parties whose ledger entries or award rows
	// disagree with them (PartyMismatch).
	VerifyParties(ctx context.Context) ([]PartyMismatch, error)
}

// PartyRecorded is what RecordPartyGeneration did.
type PartyRecorded struct {
	Counted bool
	Awarded bool
	// Refused says why an award asked for was not made:
	// PartyNoAwardInterval or PartyNoAwardBudget ("" when awarded or none asked).
	Refused string
	Party   Party // the party after the call
}

// PartyConfig returns the limits of parties.
func (e *Engine) PartyConfig() PartyConfig { return e.cfg.Party }

// StartParty starts a party: it checks the host's choices against the
// config and holds the budget from the host's balance (never below what
// their queued requests hold, nor below 0). Refusals: RefuseNotEnabled,
// RefusePartyPlace (not in a server channel), RefuseAnonymous,
// RefuseAmount (award, budget, duration or interval out of bounds; an
// empty or long theme), RefuseUnknownUser, RefuseFlagged,
// RefuseInsufficient, RefusePartyRunning. A replayed Key returns the party
// it started and holds nothing more.
func (e *Engine) StartParty(ctx context.Context, ps PartyStart) (Party, error) {
	c := e.cfg.Party
	if ps.Key == "" {
		return Party{}, errors.New("start party: empty idempotency key")
	}
	theme := strings.Join(strings.Fields(ps.Theme), " ")
	interval := ps.Interval
	if interval == 0 {
		interval = c.DefaultInterval.Std()
	}
	switch {
	case !c.Enabled:
		return Party{}, refuse(RefuseNotEnabled, "generation parties are switched off on this server").InCase("party")
	case ps.GuildID == "" || ps.ChannelID == "":
		return Party{}, refuse(RefusePartyPlace, "a party runs in a server channel, not in direct messages")
	case ps.HostID == anonymousID:
		return Party{}, refuse(RefuseAnonymous, "the anonymous user cannot host a party").InCase("party")
	case theme == "":
		return Party{}, refuse(RefuseAmount, "give the party a theme").InCase("party_theme")
	case utf8.RuneCountInString(theme) > MaxPartyTheme:
		return Party{}, refuse(RefuseAmount, "the theme may be at most %d characters", MaxPartyTheme).InCase("party_theme_long").With("Max", MaxPartyTheme)
	case ps.Duration < MinPartyDuration || ps.Duration > c.MaxDuration.Std():
		return Party{}, refuse(RefuseAmount, "a party lasts from %s to %s", humanDuration(MinPartyDuration), humanDuration(c.MaxDuration.Std())).
			InCase("party_duration").With("Min", MinPartyDuration).With("Max", c.MaxDuration.Std())
	case ps.Award <= 0:
		return Party{}, refuse(RefuseAmount, "the award must be a positive number of kudos").InCase("party_award")
	case ps.Budget < ps.Award:
		return Party{}, refuse(RefuseAmount, "the budget (%d) must cover at least one award (%d)", ps.Budget, ps.Award).
			InCase("party_budget").With("Budget", ps.Budget).With("Award", ps.Award)
	case ps.Budget > c.MaxBudget:
		return Party{}, refuse(RefuseAmount, "a party's budget may be at most %d kudos", c.MaxBudget).InCase("party_budget_max").With("Max", c.MaxBudget)
	case interval < c.MinInterval.Std() || interval > c.MaxDuration.Std():
		return Party{}, refuse(RefuseAmount, "the interval must be from %s to %s", humanDuration(c.MinInterval.Std()), humanDuration(c.MaxDuration.Std())).
			InCase("party_interval").With("Min", c.MinInterval.Std()).With("Max", c.MaxDuration.Std())
	}
	st, err := e.standings(ctx, ps.HostID)
	if err != nil {
		return Party{}, err
	}
	if st[ps.HostID].Flagged {
		return Party{}, refuse(RefuseFlagged, "your account is flagged: you cannot host a party").InCase("host")
	}
	var held int64
	if e.held != nil {
		_, held = e.held(ctx, ps.HostID)
	}
	now := e.clock.Now()
	p := Party{
		Key: ps.Key, GuildID: ps.GuildID, ChannelID: ps.ChannelID, HostID: ps.HostID, Theme: theme,
		Award: ps.Award, Budget: ps.Budget, Interval: interval, StartsAt: now, EndsAt: now.Add(ps.Duration),
	}
	got, _, err := e.store.OpenParty(ctx, p, p.BudgetEntry(held))
	if err != nil {
		if errors.Is(err, ErrInsufficient) {
			bal, _ := e.store.Balance(ctx, ps.HostID)
			if held > 0 {
				return Party{}, refuse(RefuseInsufficient, "you do not have %d kudos for the budget: you have %d, and %d of them are held for your queued requests", ps.Budget, bal, held).
					InCase("party_held").With("Budget", ps.Budget).With("Balance", bal).With("Held", held)
			}
			return Party{}, refuse(RefuseInsufficient, "you do not have %d kudos for the budget: you have %d", ps.Budget, bal).
				InCase("party").With("Budget", ps.Budget).With("Balance", bal)
		}
		if RefusalCode(err) != "" {
			return Party{}, err
		}
		return Party{}, fmt.Errorf("start party in channel %s: %w", ps.ChannelID, err)
	}
	return got, nil
}

// OpenParty returns a channel's open party; RefuseNoParty if none.
func (e *Engine) OpenParty(ctx context.Context, channelID string) (Party, error) {
	p, err := e.store.OpenPartyIn(ctx, channelID)
	if err != nil {
		if RefusalCode(err) != "" {
			return Party{}, err
		}
		return Party{}, fmt.Errorf("party of channel %s: %w", channelID, err)
	}
	return p, nil
}

// CreditPartyGeneration counts a member's generation delivered in a channel
// for the channel's open party, if the request was made during it, and pays
// the award unless the member is the host, is flagged, was awarded in this
// interval already, or the budget cannot pay it. With no party running (or
// the request made outside it) it does nothing and returns a zero
// PartyCredit. A generation credited twice (a replayed delivery) is counted
// and paid once.
func (e *Engine) CreditPartyGeneration(ctx context.Context, g PartyGeneration) (PartyCredit, error) {
	if !e.cfg.Party.Enabled || g.ChannelID == "" || g.RequestID == "" {
		return PartyCredit{}, nil
	}
	p, err := e.store.OpenPartyIn(ctx, g.ChannelID)
	if RefusalCode(err) == RefuseNoParty {
		return PartyCredit{}, nil
	}
	if err != nil {
		return PartyCredit{}, fmt.Errorf("party of channel %s: %w", g.ChannelID, err)
	}
	if !p.During(g.SubmittedAt) {
		return PartyCredit{}, nil
	}
	now := e.clock.Now()
	r := PartyRecord{PartyID: p.ID, RequestID: g.RequestID, MemberID: g.MemberID, ImageRef: g.ImageRef,
		Slot: p.Slot(g.SubmittedAt), At: now}
	credit := PartyCredit{Party: p}
	switch {
	case g.MemberID == p.HostID:
		credit.NoAward = PartyNoAwardHost
	case g.MemberID == anonymousID:
		credit.NoAward = PartyNoAwardFlagged
	default:
		st, err := e.store.Standings(ctx, []int64{g.MemberID})
		if err != nil {
			return PartyCredit{}, fmt.Errorf("read standing of user %d: %w", g.MemberID, err)
		}
		if s, ok := st[g.MemberID]; !ok || s.Flagged {
			credit.NoAward = PartyNoAwardFlagged
		} else {
			r.Amount = p.Award
		}
	}
	var award *Entry
	if r.Amount > 0 {
		a := p.AwardEntry(g.MemberID, r.Slot, now)
		award = &a
	}
	res, err := e.store.RecordPartyGeneration(ctx, r, award)
	if err != nil {
		return PartyCredit{}, fmt.Errorf("credit generation %s to party %d: %w", g.RequestID, p.ID, err)
	}
	if res.Party.ID != 0 {
		credit.Party = res.Party
	}
	credit.Counted = res.Counted
	if !res.Counted {
		credit.NoAward = ""
		return credit, nil
	}
	if res.Awarded {
		credit.Awarded = p.Award
	} else if res.Refused != "" {
		credit.NoAward = res.Refused
	}
	return credit, nil
}

// PartyEnd is a member's /party end.
type PartyEnd struct {
	ChannelID string
	ByID      int64
	// ByModerator: the member is a moderator (a role or the user's flag),
	// who may end anyone's party.
	ByModerator bool
}

// EndParty ends the channel's open party on its host's or a moderator's
// word and returns its unspent budget to the host. Refusals: RefuseNoParty
// (none running: also a second /party end, which pays nothing twice),
// RefuseNotHost. closed is false when another caller ended it first.
func (e *Engine) EndParty(ctx context.Context, pe PartyEnd) (p Party, closed bool, err error) {
	p, err = e.OpenParty(ctx, pe.ChannelID)
	if err != nil {
		return Party{}, false, err
	}
	if pe.ByID != p.HostID && !pe.ByModerator {
		return Party{}, false, refuse(RefuseNotHost, "only the host of this party or a moderator can end it")
	}
	return e.closeParty(ctx, p.ID, pe.ByID)
}

func (e *Engine) closeParty(ctx context.Context, id, by int64) (Party, bool, error) {
	p, closed, err := e.store.CloseParty(ctx, id, by, e.clock.Now())
	if err != nil {
		return Party{}, false, fmt.Errorf("end party %d: %w", id, err)
	}
	return p, closed, nil
}

// partyBatch is how many due parties one EndDueParties read takes.
const partyBatch = 100

// EndDueParties ends every open party whose end time has passed, of the
// guilds own accepts (nil: all), and returns those it ended. Running it
// twice, or in two processes, ends (and refunds) each party once.
func (e *Engine) EndDueParties(ctx context.Context, own func(guildID string) bool) ([]Party, error) {
	if !e.cfg.Party.Enabled {
		return nil, nil
	}
	due, err := e.store.DueParties(ctx, e.clock.Now(), partyBatch)
	if err != nil {
		return nil, fmt.Errorf("read due parties: %w", err)
	}
	var ended []Party
	for _, p := range due {
		if own != nil && !own(p.GuildID) {
			continue
		}
		got, closed, err := e.closeParty(ctx, p.ID, 0)
		if err != nil {
			return ended, err
		}
		if closed {
			ended = append(ended, got)
		}
	}
	return ended, nil
}

// UnannouncedParties returns ended parties whose summary was not posted.
func (e *Engine) UnannouncedParties(ctx context.Context, limit int) ([]Party, error) {
	ps, err := e.store.UnannouncedParties(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("read unannounced parties: %w", err)
	}
	return ps, nil
}

// ClaimPartyAnnouncement reports whether the caller is the one to post the
// summary of an ended party (at most one caller is).
func (e *Engine) ClaimPartyAnnouncement(ctx context.Context, id int64) (bool, error) {
	ok, err := e.store.ClaimPartyAnnouncement(ctx, id)
	if err != nil {
		return false, fmt.Errorf("claim the summary of party %d: %w", id, err)
	}
	return ok, nil
}

// ReleasePartyAnnouncement gives back a claim whose post failed, so that a
// later pass posts the summary.
func (e *Engine) ReleasePartyAnnouncement(ctx context.Context, id int64) error {
	if err := e.store.ReleasePartyAnnouncement(ctx, id); err != nil {
		return fmt.Errorf("release the summary of party %d: %w", id, err)
	}
	return nil
}

// PartyReport returns what a party's summary shows, with up to images images.
func (e *Engine) PartyReport(ctx context.Context, id int64, images int) (PartyReport, error) {
	r, err := e.store.PartyReport(ctx, id, images)
	if err != nil {
		return PartyReport{}, fmt.Errorf("report of party %d: %w", id, err)
	}
	return r, nil
}

// VerifyParties returns the parties whose ledger entries do not net to
// minus what they hold, or whose awards do not sum to what they spent
// (empty when the books balance). `hordebot kudos verify` prints them.
func (e *Engine) VerifyParties(ctx context.Context) ([]PartyMismatch, error) {
	m, err := e.store.VerifyParties(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify parties: %w", err)
	}
	return m, nil
}
