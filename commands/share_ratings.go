package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// Ratings rates shared images; *horde.Ratings satisfies it. The shared
// post carries 1-10 buttons: a member's click rates every image of the
// post, once, and pays as the AI Horde's /generate/rate does (capped per
// day); the post shows the average.
type Ratings interface {
	// Publish makes a finished request's images ratable; requester only.
	Publish(ctx context.Context, by horde.User, requestID string) error
	// Rate records a member's ratings of a request's images; it returns the kudos paid.
	Rate(ctx context.Context, by horde.User, requestID string, set horde.RatingSet) (int64, error)
	// Summary sums up a request's ratings.
	Summary(ctx context.Context, requestID string) (horde.RatingSummary, error)
}

var _ Ratings = (*horde.Ratings)(nil)

// btnRate is the prefix of a shared post's rating buttons:
// "share/rate/{request id}/{1..10}".
const btnRate = "share/rate"

// ratingLinePrefix starts the shared post's line with the average.
const ratingLinePrefix = "⭐ "

// ratingButtons are the shared post's two rows of 1-10 buttons.
func ratingButtons(requestID string) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	for start := horde.MinRating; start <= horde.MaxRating; start += 5 {
		var row []discordgo.MessageComponent
		for n := start; n < start+5 && n <= horde.MaxRating; n++ {
			row = append(row, discordgo.Button{
				Label: strconv.Itoa(n), Style: discordgo.SecondaryButton,
				CustomID: fmt.Sprintf("%s/%s/%d", btnRate, requestID, n),
			})
		}
		rows = append(rows, discordgo.ActionsRow{Components: row})
	}
	return rows
}

func (s *Set) ratingComponents() []*Component {
	if s.ratings == nil {
		return nil
	}
	return []*Component{{Prefix: btnRate, Defer: deferAlways(interact.DeferEphemeral), Handle: s.handleRate}}
}

// handleRate rates the images of a shared post for the clicker, then
// shows the new average on the post.
func (s *Set) handleRate(ctx context.Context, ix *interact.Interaction, args []string) error {
	if len(args) != 2 {
		return horde.Invalidf("custom_id", "this button is malformed").InCase("button")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < horde.MinRating || n > horde.MaxRating {
		return horde.Invalidf("custom_id", "this button is malformed").InCase("button")
	}
	p, err := s.requestArg(ctx, args[:1], 1)
	if err != nil {
		return err
	}
	if p.Request.UserID == ix.User.ID {
		return horde.Errorf(horde.KindForbidden, "OwnImages", "You cannot rate your own images.")
	}
	imgs, err := s.finishedImages(ctx, p.Request.ID)
	if err != nil {
		return err
	}
	set := horde.RatingSet{}
	for _, im := range imgs {
		set.Ratings = append(set.Ratings, horde.Rating{GenerationID: im.gen.JobID, Rating: n, Artifacts: horde.NoArtifacts})
	}
	paid, err := s.ratings.Rate(ctx, ix.User, p.Request.ID, set)
	var he *horde.Error
	if errors.As(err, &he) && he.Code == "AestheticsAlreadyExist" {
		return horde.Errorf(horde.KindConflict, "AlreadyRated", "You already rated these images.")
	}
	if err != nil {
		return err
	}
	s.showAverage(ctx, ix, p.Request.ID)
	text := ix.T("share.rated", locale.Args{"Rating": n, "Kudos": paid})
	if paid == 0 {
		text = ix.T("share.rated_unpaid", locale.Args{"Rating": n})
	}
	return ix.Reply(ctx, interact.Reply{Content: text})
}

// showAverage edits the shared post's average line. The rating is already
// recorded when this runs, so a failure is logged, not shown.
func (s *Set) showAverage(ctx context.Context, ix *interact.Interaction, requestID string) {
	if ix.I.Message == nil {
		return
	}
	sum, err := s.ratings.Summary(ctx, requestID)
	if err != nil {
		s.log.Error("rating summary for the shared post", "request", requestID, "err", err)
		return
	}
	// The post is the channel's: its line is in the posts' language.
	content := withRatingLine(s.postPrinter(ix.I.GuildLocale), ix.I.Message.Content, sum)
	err = s.retry().Do(ctx, "show the shared post's rating", func(opts ...discordgo.RequestOption) error {
		_, err := ix.S.ChannelMessageEditComplex(&discordgo.MessageEdit{
			ID: ix.I.Message.ID, Channel: ix.I.ChannelID, Content: &content,
			AllowedMentions: &discordgo.MessageAllowedMentions{},
		}, opts...)
		return err
	})
	if err != nil {
		s.log.Error("show the shared post's rating", "message", ix.I.Message.ID, "err", err)
	}
}

// withRatingLine replaces (or adds) the average line of a shared post.
func withRatingLine(p *locale.Printer, content string, sum horde.RatingSummary) string {
	lines := strings.Split(content, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, ratingLinePrefix) {
			kept = append(kept, l)
		}
	}
	if sum.Raters == 0 {
		return strings.Join(kept, "\n")
	}
	return strings.Join(append(kept, ratingLinePrefix+FormatRating(p, sum)), "\n")
}

// FormatRating is a request's average as members read it in p's
// language: "7.5/10 from 4 ratings".
func FormatRating(p *locale.Printer, sum horde.RatingSummary) string {
	return p.T("share.average", locale.Args{"Average": p.Decimal(sum.Average, 1), locale.CountArg: sum.Raters})
}
