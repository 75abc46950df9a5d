package kudos

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Category is a kind of community award.
type Category string

// Award categories.
const (
	CategoryHelpful    Category = "helpful"
	CategoryModeration Category = "moderation"
	CategoryArt        Category = "art"
)

// Categories lists every award category, in display order.
var Categories = []Category{CategoryHelpful, CategoryModeration, CategoryArt}

// Kind is the ledger entry kind an award of this category is paid with.
func (c Category) Kind() EntryKind {
	switch c {
	case CategoryModeration:
		return KindAwardModeration
	case CategoryArt:
		return KindAwardArt
	default:
		return KindAwardHelpful
	}
}

// Valid reports whether c is one of Categories.
func (c Category) Valid() bool {
	return c == CategoryHelpful || c == CategoryModeration || c == CategoryArt
}

// CategoryConfig says which reactions award a category and how much.
type CategoryConfig struct {
	// Emojis are the reactions that award this category: a Unicode emoji
	// ("🙏"; variation selectors are ignored) or a custom emoji "name:id".
	Emojis []string `json:"emojis"`
	// Amount is the kudos one award pays.
	Amount int64 `json:"amount"`
}

// ArtConfig tunes the daily art tally.
type ArtConfig struct {
	// Channels are the Discord channel ids whose posts the art tally pays.
	Channels []string `json:"channels"`
	// PerReactor is paid to a post's author per distinct human reactor.
	PerReactor int64 `json:"per_reactor"`
	// PostCap caps what one post earns in one daily tally.
	PostCap int64 `json:"post_cap"`
	// DailyCap caps what one author earns from one daily tally (0: no cap).
	DailyCap int64 `json:"daily_cap"`
}

// RecurringGrant pays every member holding Role Amount kudos each month.
type RecurringGrant struct {
	Role   string `json:"role"`
	Amount int64  `json:"amount"`
}

// Schedules are robfig/cron specs (5 fields, or descriptors such as
// "@hourly" and "@every 1m") in the configured timezone. An empty spec
// disables that job. The runner at the edge (kudos/schedule) parses and
// validates them (schedule.Validate); the engine says what each job does
// (Engine.Jobs).
type Schedules struct {
	ArtTally    string `json:"art_tally"`   // pays yesterday's art posts
	Leaderboard string `json:"leaderboard"` // posts last week's leaderboard
	Recurring   string `json:"recurring"`   // pays this month's recurring grants
	Cleanup     string `json:"cleanup"`     // deletes old revoked/pending awards and old reaction rows
	Settle      string `json:"settle"`      // turns due pending awards into ledger entries
	Parties     string `json:"parties"`     // ends (and refunds) the parties whose end time passed
}

// Config tunes the kudos engine. Start from DefaultConfig and decode the
// config file over it: a field the file leaves out keeps its default, and a
// zero the file sets means zero (a cap of 0 is no cap, an age of 0 no minimum).
type Config struct {
	// Timezone is the IANA zone that days, weeks (Monday first) and months
	// and the cron schedules are reckoned in. Empty is UTC.
	Timezone string `json:"timezone"`

	// Categories configures the reaction emojis and amounts per category.
	Categories map[Category]CategoryConfig `json:"categories"`

	// GiverDailyCap caps the kudos one member may award per day by reactions
	// and thanks; ReceiverDailyCap what one member may receive per day;
	// PairWeeklyCap what one member may award to one other member per week
	// (award rings). 0 is no cap.
	GiverDailyCap    int64 `json:"giver_daily_cap"`
	ReceiverDailyCap int64 `json:"receiver_daily_cap"`
	PairWeeklyCap    int64 `json:"pair_weekly_cap"`

	// MinAccountAge and MinMembershipAge are how old the giver's Discord
	// account and guild membership must be for their reactions to award.
	MinAccountAge    Duration `json:"min_account_age"`
	MinMembershipAge Duration `json:"min_membership_age"`

	// ModeratorRoles are role ids whose holders are moderators: their award
	// reactions count as moderation awards and they may use /kudos award.
	// hordebot fills it from discord.moderator_role_ids, the one place
	// moderators are configured; moderator_roles in the kudos section of a
	// config file is a deprecated alias, merged into it.
	ModeratorRoles []string `json:"moderator_roles"`
	// GiveRequiredRoles: a giver must hold at least one (if any are set);
	// GiveBarredRoles: a giver must hold none. The same for receivers.
	GiveRequiredRoles    []string `json:"give_required_roles"`
	GiveBarredRoles      []string `json:"give_barred_roles"`
	ReceiveRequiredRoles []string `json:"receive_required_roles"`
	ReceiveBarredRoles   []string `json:"receive_barred_roles"`

	// SettleDelay is how long a reaction award stays pending (revocable by
	// removing the reaction) before it becomes a ledger entry.
	SettleDelay Duration `json:"settle_delay"`
	// Thanks enables awarding a helpful award for a reply that thanks.
	Thanks bool `json:"thanks"`
	// ModeratorAwardMax caps one /kudos award (0: no cap).
	ModeratorAwardMax int64 `json:"moderator_award_max"`
	// PingPongWindow refuses a transfer B->A this soon after A->B.
	PingPongWindow Duration `json:"ping_pong_window"`

	Art ArtConfig `json:"art"`
	// LeaderboardSize is how many members each weekly board lists.
	LeaderboardSize int `json:"leaderboard_size"`
	// Recurring are the monthly grants per role.
	Recurring []RecurringGrant `json:"recurring"`
	// Retention is how long revoked or unsettled awards and art reaction
	// rows are kept; it must cover a week for the pair cap.
	Retention Duration `json:"retention"`

	Schedules Schedules `json:"schedules"`
	// Party bounds the generation parties members host (party.go).
	Party PartyConfig `json:"party"`
	// CatchUpPeriods bounds the catch-up at start (Engine.CatchUp): at most
	// this many missed periods of each tally are tallied (days for the art
	// tally, weeks for the leaderboard, months for recurring grants), the
	// most recent ones. 0 tallies only the latest period.
	CatchUpPeriods int `json:"catch_up_periods"`
}

// DefaultCatchUpPeriods is Config.CatchUpPeriods' default: a week of missed
// art tallies (and up to 7 weeks or months of the others).
const DefaultCatchUpPeriods = 7

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Timezone: "UTC",
		Categories: map[Category]CategoryConfig{
			CategoryHelpful:    {Emojis: []string{"🙏", "💡", "✅"}, Amount: 5},
			CategoryModeration: {Emojis: []string{"🛡️"}, Amount: 10},
			CategoryArt:        {Emojis: []string{"🎨", "🖼️"}, Amount: 3},
		},
		GiverDailyCap:     50,
		ReceiverDailyCap:  100,
		PairWeeklyCap:     60,
		MinAccountAge:     Duration(7 * 24 * time.Hour),
		MinMembershipAge:  Duration(24 * time.Hour),
		SettleDelay:       Duration(10 * time.Minute),
		Thanks:            true,
		ModeratorAwardMax: 500,
		PingPongWindow:    Duration(60 * time.Second),
		Art:               ArtConfig{PerReactor: 2, PostCap: 40, DailyCap: 100},
		LeaderboardSize:   10,
		Retention:         Duration(35 * 24 * time.Hour),
		Schedules: Schedules{
			ArtTally:    "5 0 * * *",
			Leaderboard: "10 0 * * 1",
			Recurring:   "15 0 1 * *",
			Cleanup:     "@hourly",
			Settle:      "@every 1m",
			Parties:     "@every 30s",
		},
		CatchUpPeriods: DefaultCatchUpPeriods,
		Party:          DefaultPartyConfig(),
	}
}

// Validate checks the config and returns every problem found.
func (c Config) Validate() error {
	var problems []string
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		problems = append(problems, fmt.Sprintf("timezone %q: %v", c.Timezone, err))
	}
	seen := map[string]Category{}
	for cat, cc := range c.Categories {
		if !cat.Valid() {
			problems = append(problems, fmt.Sprintf("unknown category %q", cat))
			continue
		}
		if cc.Amount <= 0 && len(cc.Emojis) > 0 {
			problems = append(problems, fmt.Sprintf("category %s: amount must be positive", cat))
		}
		for _, e := range cc.Emojis {
			n := NormalizeEmoji(e)
			if n == "" {
				problems = append(problems, fmt.Sprintf("category %s: empty emoji", cat))
				continue
			}
			if other, ok := seen[n]; ok && other != cat {
				problems = append(problems, fmt.Sprintf("emoji %s is in both %s and %s", e, other, cat))
			}
			seen[n] = cat
		}
	}
	for name, v := range map[string]int64{
		"giver_daily_cap": c.GiverDailyCap, "receiver_daily_cap": c.ReceiverDailyCap,
		"pair_weekly_cap": c.PairWeeklyCap, "moderator_award_max": c.ModeratorAwardMax,
		"art.per_reactor": c.Art.PerReactor, "art.post_cap": c.Art.PostCap, "art.daily_cap": c.Art.DailyCap,
	} {
		if v < 0 {
			problems = append(problems, fmt.Sprintf("%s must not be negative", name))
		}
	}
	for name, d := range map[string]Duration{
		"min_account_age": c.MinAccountAge, "min_membership_age": c.MinMembershipAge,
		"settle_delay": c.SettleDelay, "ping_pong_window": c.PingPongWindow, "retention": c.Retention,
	} {
		if d < 0 {
			problems = append(problems, fmt.Sprintf("%s must not be negative", name))
		}
	}
	if c.Retention > 0 && c.Retention.Std() < 8*24*time.Hour {
		problems = append(problems, "retention must be at least 8 days (the pair cap looks back a week)")
	}
	if c.CatchUpPeriods < 0 {
		problems = append(problems, "catch_up_periods must not be negative")
	}
	if c.LeaderboardSize < 0 {
		problems = append(problems, "leaderboard_size must not be negative")
	}
	for i, g := range c.Recurring {
		if g.Role == "" || g.Amount <= 0 {
			problems = append(problems, fmt.Sprintf("recurring[%d]: needs a role and a positive amount", i))
		}
	}
	problems = append(problems, c.Party.validate()...)
	if len(problems) > 0 {
		return fmt.Errorf("kudos config: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Duration is a time.Duration that JSON spells as a Go duration string
// ("10m", "168h") or a number of seconds.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration %s: want a string like \"10m\" or a number of seconds", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}
