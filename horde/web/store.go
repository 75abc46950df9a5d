package web

import (
	"context"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// Snapshot is the horde's state in one minute, as the status charts draw
// it. A row read back over a longer bucket (Snapshots) holds the bucket's
// averages for the queue and workers, its sums for the items finished and
// the largest median wait of its minutes.
type Snapshot struct {
	At            time.Time // the start of the minute (or bucket)
	ImageQueue    int64     // image items waiting
	TextQueue     int64     // text items waiting
	ImageWorkers  int64     // image workers online
	TextWorkers   int64     // text workers online
	ImageFinished int64     // image items of requests that finished in the minute before At
	TextFinished  int64     // text items likewise
	MedianWait    time.Duration
	Minutes       int64 // the minutes recorded in the bucket (1 for a minute)
}

// Finished is what the requests that finished in a window did: their items
// by kind and, for each request that ended done, how long it waited from
// submit to done.
type Finished struct {
	ImageItems, TextItems int64
	Waits                 []time.Duration
}

// UptimeHour is how many minutes of one hour a worker was online.
type UptimeHour struct {
	Hour    time.Time
	Minutes int64
}

// KudosDay is the sum of a member's ledger entries on one UTC day.
type KudosDay struct {
	Day   time.Time
	Delta int64
}

// AwardTotal is what a member received of one kind of ledger entry, all time.
type AwardTotal struct {
	Kind  kudos.EntryKind
	Count int64
	Kudos int64
}

// ArtOrder orders the gallery.
type ArtOrder int

// The gallery's orders.
const (
	ArtNewest      ArtOrder = iota // newest share first
	ArtMostReacted                 // most distinct reactors first, then newest
)

// ArtQuery selects shared art.
type ArtQuery struct {
	Order ArtOrder
	// NSFW includes the shares of NSFW requests; they are left out otherwise.
	NSFW bool
	// DiscordUserID keeps only one member's shares ("" for everyone's).
	DiscordUserID string
	Limit         int
}

// Art is one post shared to the art channel: its request's prompt (the
// positive part) and images, the member who shared it and the distinct
// members reacting on it now. The shares of flagged members are never
// returned.
type Art struct {
	MessageID string
	RequestID string
	SharedAt  time.Time
	Artist    horde.User
	Prompt    string
	NSFW      bool
	Reactions int64
	// Raters is how many members rated the images (the shared post's 1-10
	// buttons or /generate/rate), Rating their average.
	Raters int64
	Rating float64
	Images []ArtImage
}

// ArtImage is one image of a shared request: its blob ref (served at
// /api/v2/results/{ref}) and the model that made it.
type ArtImage struct {
	Ref   string
	Model string
}

// Store is what the pages read and the snapshot job writes. store.Store
// satisfies it; every method returns Unavailable-kind errors when the
// database cannot be reached and never a nil error with partial data.
type Store interface {
	// RecordSnapshot writes the minute s.At and adds a minute of uptime to
	// each worker in online, in one transaction. A minute written already
	// changes nothing and returns false: a job run twice counts once.
	RecordSnapshot(ctx context.Context, s Snapshot, online []string) (bool, error)
	// FinishedBetween sums the requests that finished in [from, to).
	FinishedBetween(ctx context.Context, from, to time.Time) (Finished, error)
	// Snapshots returns the snapshots in [from, to) grouped into buckets of
	// the given length (aligned to the unix epoch), oldest first; buckets
	// with no snapshot are left out.
	Snapshots(ctx context.Context, from, to time.Time, bucket time.Duration) ([]Snapshot, error)
	// PruneSnapshots deletes snapshots and uptime hours older than before and
	// returns how many rows went.
	PruneSnapshots(ctx context.Context, before time.Time) (int64, error)
	// WorkerUptime returns a worker's online minutes per hour in [from, to),
	// oldest first; hours with none are left out.
	WorkerUptime(ctx context.Context, workerID string, from, to time.Time) ([]UptimeHour, error)

	// UsersNamed returns the users with this name, oldest first.
	UsersNamed(ctx context.Context, name string) ([]horde.User, error)
	// User returns a user by id; an error wrapping horde.ErrNotFound if none.
	User(ctx context.Context, id int64) (horde.User, error)
	// UserByDiscordID returns the user of a Discord account; horde.ErrNotFound if none.
	UserByDiscordID(ctx context.Context, discordID string) (horde.User, error)
	// Balance is a member's kudos now.
	Balance(ctx context.Context, userID int64) (int64, error)
	// KudosByDay sums a member's ledger entries per UTC day in [from, to),
	// oldest first; days with none are left out.
	KudosByDay(ctx context.Context, userID int64, from, to time.Time) ([]KudosDay, error)
	// AwardsReceived sums a member's positive entries of the given kinds, all time.
	AwardsReceived(ctx context.Context, userID int64, kinds []kudos.EntryKind) ([]AwardTotal, error)
	// SharedArt returns shared posts, at most q.Limit.
	SharedArt(ctx context.Context, q ArtQuery) ([]Art, error)
}

// Horde is what the pages read of the scheduler. *horde.Horde satisfies it.
type Horde interface {
	Performance(ctx context.Context) (horde.Performance, error)
	Models(ctx context.Context, kind horde.RequestKind) ([]horde.ModelStatus, error)
	Workers(ctx context.Context, kind horde.RequestKind) ([]horde.Worker, error)
	WorkerByName(ctx context.Context, name string) (horde.Worker, error)
	Status(ctx context.Context, id string) (horde.Progress, []horde.Generation, error)
}

// Previews is what the request page reads of the workers' live previews
// (hordebot's extension). *horde.Previews satisfies it.
type Previews interface {
	// Latest returns the latest preview of a request; KindNotFound when
	// it has none now.
	Latest(ctx context.Context, requestID string) (horde.Preview, error)
}

var _ Previews = (*horde.Previews)(nil)

// Kudos is what the leaderboard reads of the kudos engine. *kudos.Engine
// satisfies it: the numbers are those /kudos leaderboard shows.
type Kudos interface {
	Board(ctx context.Context, span kudos.Span, now time.Time) (kudos.Board, error)
}

var _ Horde = (*horde.Horde)(nil)
var _ Kudos = (*kudos.Engine)(nil)
