package commands

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/kudos"
)

// The ledger keeps each entry's reason in English, as the kudos engine
// wrote it ("gave 5 kudos to user 12"); /kudos history shows it in the
// member's language. Each reason the engine writes has a pattern here and
// a catalog key ledger.<name>; a reason of a moderator's own words (an
// adjustment, an award) keeps them after the kind's wording, and one the
// patterns do not know shows as it is.

// ledgerReason is one shape of reason the engine writes for a kind of
// entry: its pattern, and the catalog key and values it is shown with
// (args gets the pattern's submatches).
type ledgerReason struct {
	kind kudos.EntryKind
	re   *regexp.Regexp
	key  string
	args func(ctx context.Context, users interact.UserLookup, p *locale.Printer, m []string) (locale.Args, error)
}

// ledgerReasons are the reasons of kudos/ (payment.go, transfer.go,
// awards.go, tally.go, party.go), horde/ratings.go and the escrow release.
var ledgerReasons = []ledgerReason{
	{kudos.KindGeneration, regexp.MustCompile(`^(image|text|alchemy) generation$`), "ledger.generation", whatArg},
	{kudos.KindRequestCost, regexp.MustCompile(`^(image|text|alchemy) request$`), "ledger.request_cost", whatArg},
	{kudos.KindRequestCost, regexp.MustCompile(`^style fee to its creator$`), "ledger.style_fee", nil},
	{kudos.KindStyleReward, regexp.MustCompile(`^styled: a request used your style$`), "ledger.style_reward", nil},
	{kudos.KindUptime, regexp.MustCompile(`^worker uptime: (\d+) minutes online$`), "ledger.uptime", countArg},
	{kudos.KindTransfer, regexp.MustCompile(`^gave (\d+) kudos to user (-?\d+)$`), "ledger.transfer.gave", amountMemberArgs},
	{kudos.KindTransfer, regexp.MustCompile(`^received (\d+) kudos from user (-?\d+)$`), "ledger.transfer.received", amountMemberArgs},
	{"", regexp.MustCompile(`^(helpful|moderation|art) award \(thanks\) from user (-?\d+)$`), "ledger.award.thanks", awardArgs},
	{"", regexp.MustCompile(`^(helpful|moderation|art) award \(reaction (.*)\) from user (-?\d+)$`), "ledger.award.reaction", awardArgs},
	{kudos.KindAwardModeration, regexp.MustCompile(`^moderation award(?:: (.*))?$`), "ledger.award.moderator", ownWordsArg},
	{kudos.KindAwardArt, regexp.MustCompile(`^art tally (\S+): (\d+) reactors$`), "ledger.art_tally", tallyArgs},
	{kudos.KindRecurring, regexp.MustCompile(`^monthly kudos (\S+) for role (\S+)$`), "ledger.recurring", recurringArgs},
	{kudos.KindParty, regexp.MustCompile(`^party budget held: (.*)$`), "ledger.party.held", themeArg},
	{kudos.KindParty, regexp.MustCompile(`^party award: (.*)$`), "ledger.party.award", themeArg},
	{kudos.KindParty, regexp.MustCompile(`^party budget returned: (.*)$`), "ledger.party.returned", themeArg},
	{kudos.KindRating, regexp.MustCompile(`^rated images of a shared request$`), "ledger.rating", nil},
	{kudos.KindEscrow, regexp.MustCompile(`^escrow released: (.*)$`), "ledger.escrow", ownWordsArg},
	{kudos.KindAdmin, regexp.MustCompile(`^moderator adjustment$`), "ledger.admin", nil},
	{kudos.KindAdmin, regexp.MustCompile(`^(.+)$`), "ledger.admin.reason", ownWordsArg},
}

// LedgerReason is why a ledger entry was made, as a member reads it in p's
// language: the kind's name when the entry has no reason, the catalog's
// wording of a reason the engine writes (members it names by mention),
// else the reason as it is.
func LedgerReason(ctx context.Context, p *locale.Printer, users interact.UserLookup, e kudos.Entry) (string, error) {
	if e.Reason == "" {
		return EntryKindName(p, e.Kind), nil
	}
	for _, r := range ledgerReasons {
		if r.kind != "" && r.kind != e.Kind {
			continue
		}
		m := r.re.FindStringSubmatch(e.Reason)
		if m == nil {
			continue
		}
		args := locale.Args{}
		if r.args != nil {
			var err error
			if args, err = r.args(ctx, users, p, m); err != nil {
				return "", err
			}
		}
		return p.T(r.key, args), nil
	}
	return e.Reason, nil
}

func whatArg(_ context.Context, _ interact.UserLookup, p *locale.Printer, m []string) (locale.Args, error) {
	return locale.Args{"What": p.T("ledger.what."+m[1], nil)}, nil
}

func countArg(_ context.Context, _ interact.UserLookup, _ *locale.Printer, m []string) (locale.Args, error) {
	n, _ := strconv.Atoi(m[1])
	return locale.Args{locale.CountArg: n}, nil
}

func amountMemberArgs(ctx context.Context, users interact.UserLookup, p *locale.Printer, m []string) (locale.Args, error) {
	who, err := memberOf(ctx, p, users, m[2])
	if err != nil {
		return nil, err
	}
	return locale.Args{"Amount": m[1], "Member": who}, nil
}

// awardArgs are the values of a reaction or thanks award: its category,
// the emoji (reactions) and the giver.
func awardArgs(ctx context.Context, users interact.UserLookup, p *locale.Printer, m []string) (locale.Args, error) {
	who, err := memberOf(ctx, p, users, m[len(m)-1])
	if err != nil {
		return nil, err
	}
	args := locale.Args{"Award": EntryKindName(p, kudos.Category(m[1]).Kind()), "Member": who}
	if len(m) == 4 {
		args["Emoji"] = m[2]
	}
	return args, nil
}

// ownWordsArg keeps the words of a moderator (or the horde) that follow
// the engine's own: "" when there are none.
func ownWordsArg(_ context.Context, _ interact.UserLookup, _ *locale.Printer, m []string) (locale.Args, error) {
	words := ""
	if len(m) > 1 && strings.TrimSpace(m[1]) != "" {
		words = ": " + strings.TrimSpace(m[1])
	}
	return locale.Args{"Words": words}, nil
}

func tallyArgs(_ context.Context, _ interact.UserLookup, _ *locale.Printer, m []string) (locale.Args, error) {
	n, _ := strconv.Atoi(m[2])
	return locale.Args{"Day": m[1], locale.CountArg: n}, nil
}

func recurringArgs(_ context.Context, _ interact.UserLookup, _ *locale.Printer, m []string) (locale.Args, error) {
	role := m[2]
	if _, err := strconv.ParseUint(role, 10, 64); err == nil {
		role = "<@&" + role + ">" // a Discord role id
	}
	return locale.Args{"Month": m[1], "Role": role}, nil
}

func themeArg(_ context.Context, _ interact.UserLookup, _ *locale.Printer, m []string) (locale.Args, error) {
	return locale.Args{"Theme": shownTheme(m[1], 80)}, nil
}

// memberOf names the horde user of a decimal id for a ledger line, in p's language.
func memberOf(ctx context.Context, p *locale.Printer, users interact.UserLookup, id string) (string, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return id, nil
	}
	return interact.MemberName(ctx, p, users, n)
}
