package horde

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Teams (the AI Horde's /teams): a trusted user founds a named team that
// workers join (PUT /workers/{id} team); the team shows its members and
// the sum of their counters. Its owner or a moderator renames it, edits
// its info or deletes it; deleting a team leaves its workers without one.

// Team limits.
const (
	// MaxTeamName bounds a team's name (the AI Horde's 100).
	MaxTeamName = 100
	// MaxTeamInfo bounds a team's info (the AI Horde's 1000).
	MaxTeamInfo = 1000
)

// Team is a named group of workers.
type Team struct {
	ID      string // uuid
	Name    string // unique, case-insensitively
	Info    string
	OwnerID int64
}

// TeamChange sets the fields of a team that are not nil.
type TeamChange struct {
	Name *string
	Info *string
}

// TeamStore keeps teams and which team each worker is in.
type TeamStore interface {
	// CreateTeam stores a new team; a name taken (case-insensitively) is
	// KindConflict NameAlreadyExists.
	CreateTeam(ctx context.Context, t Team) error
	// Team returns a team by id; ErrNotFound if none.
	Team(ctx context.Context, id string) (Team, error)
	// Teams returns every team, by name.
	Teams(ctx context.Context) ([]Team, error)
	// UpdateTeam saves Name and Info; ErrNotFound if none, a name taken
	// KindConflict NameAlreadyExists.
	UpdateTeam(ctx context.Context, t Team) error
	// DeleteTeam removes a team; its workers are left without a team.
	// ErrNotFound if none.
	DeleteTeam(ctx context.Context, id string) error
	// SetWorkerTeam puts a worker in a team, or in none when teamID is "".
	// An unknown team is ErrNotFound.
	SetWorkerTeam(ctx context.Context, workerID, teamID string) error
	// WorkerTeam returns the id of the worker's team, "" if none.
	WorkerTeam(ctx context.Context, workerID string) (string, error)
	// TeamWorkers returns the ids of a team's workers.
	TeamWorkers(ctx context.Context, teamID string) ([]string, error)
}

// Teams manages teams. It is safe for concurrent use.
type Teams struct {
	h  *Horde
	st TeamStore
}

// NewTeams returns the teams of h's workers, kept in st.
func NewTeams(h *Horde, st TeamStore) *Teams { return &Teams{h: h, st: st} }

// TeamDetails is a team with its owner, its workers and the sums of their
// counters (what they did in all, not only while in the team).
type TeamDetails struct {
	Team
	Owner   User
	Workers []Worker
	// Sums over the workers; Performance is their average.
	Fulfilled     int64
	KudosEarned   int64
	UptimeSeconds int64
	Speed         float64
	Performance   float64
}

// teamText validates a team's name or info: trimmed, within max runes,
// a name not empty.
func teamText(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", Invalidf(field, "%s must not be empty", field)
	}
	if utf8.RuneCountInString(v) > max {
		return "", Invalidf(field, "%s must be at most %d characters", field, max)
	}
	return v, nil
}

// Create founds a team owned by by, who must be trusted (the AI Horde's
// rule): the anonymous user is KindForbidden AnonForbidden, an untrusted
// one KindForbidden NotTrusted.
func (t *Teams) Create(ctx context.Context, by User, name string, info *string) (Team, error) {
	if by.Anonymous() {
		return Team{}, Errorf(KindForbidden, "AnonForbidden", "the anonymous key cannot create teams")
	}
	if !by.Trusted && !by.Moderator {
		return Team{}, Errorf(KindForbidden, "NotTrusted", "only trusted users may create teams")
	}
	team := Team{ID: newID(), OwnerID: by.ID}
	var err error
	if team.Name, err = teamText("name", name, MaxTeamName, true); err != nil {
		return Team{}, err
	}
	if info != nil {
		if team.Info, err = teamText("info", *info, MaxTeamInfo, false); err != nil {
			return Team{}, err
		}
	}
	if err := t.st.CreateTeam(ctx, team); err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	return team, nil
}

// Get returns a team by id; an unknown one is KindNotFound TeamNotFound.
func (t *Teams) Get(ctx context.Context, id string) (Team, error) {
	team, err := t.st.Team(ctx, strings.TrimSpace(id))
	if notFound(err) {
		return Team{}, NotFoundf("TeamNotFound", "no team has id %s", QuoteInput(id))
	}
	if err != nil {
		return Team{}, fmt.Errorf("read team: %w", err)
	}
	return team, nil
}

// List returns every team.
func (t *Teams) List(ctx context.Context) ([]Team, error) {
	return t.st.Teams(ctx)
}

// editable is the team id if by owns it or is a moderator: KindNotFound
// TeamNotFound if none, KindForbidden NotOwner otherwise.
func (t *Teams) editable(ctx context.Context, by User, id string) (Team, error) {
	team, err := t.Get(ctx, id)
	if err != nil {
		return Team{}, err
	}
	if !by.Moderator && (by.Anonymous() || team.OwnerID != by.ID) {
		return Team{}, Errorf(KindForbidden, "NotOwner", "only the team's owner or a moderator may change team %s", QuoteInput(team.Name))
	}
	return team, nil
}

// Update changes the team's name and info; nothing to change is
// KindInvalid NoValidActions.
func (t *Teams) Update(ctx context.Context, by User, id string, c TeamChange) (Team, error) {
	team, err := t.editable(ctx, by, id)
	if err != nil {
		return Team{}, err
	}
	if c.Name == nil && c.Info == nil {
		return Team{}, Errorf(KindInvalid, "NoValidActions", "no team modification selected: send name or info")
	}
	if c.Name != nil {
		if team.Name, err = teamText("name", *c.Name, MaxTeamName, true); err != nil {
			return Team{}, err
		}
	}
	if c.Info != nil {
		if team.Info, err = teamText("info", *c.Info, MaxTeamInfo, false); err != nil {
			return Team{}, err
		}
	}
	if err := t.st.UpdateTeam(ctx, team); err != nil {
		return Team{}, fmt.Errorf("update team: %w", err)
	}
	return team, nil
}

// Delete removes the team; its workers are left without a team.
func (t *Teams) Delete(ctx context.Context, by User, id string) (Team, error) {
	team, err := t.editable(ctx, by, id)
	if err != nil {
		return Team{}, err
	}
	if err := t.st.DeleteTeam(ctx, team.ID); err != nil {
		return Team{}, fmt.Errorf("delete team: %w", err)
	}
	return team, nil
}

// Join puts the worker in the team teamID, or in none when teamID is "";
// the caller has checked that by may change the worker. An unknown team is
// KindNotFound TeamNotFound. It returns the team joined (zero for none).
func (t *Teams) Join(ctx context.Context, workerID, teamID string) (Team, error) {
	teamID = strings.TrimSpace(teamID)
	var team Team
	if teamID != "" {
		var err error
		if team, err = t.Get(ctx, teamID); err != nil {
			return Team{}, err
		}
	}
	if err := t.st.SetWorkerTeam(ctx, workerID, team.ID); err != nil {
		if notFound(err) {
			return Team{}, NotFoundf("TeamNotFound", "no team has id %s", QuoteInput(teamID))
		}
		return Team{}, fmt.Errorf("set team of worker %s: %w", workerID, err)
	}
	return team, nil
}

// WorkerTeam returns the worker's team; ok is false if it has none.
func (t *Teams) WorkerTeam(ctx context.Context, workerID string) (team Team, ok bool, err error) {
	id, err := t.st.WorkerTeam(ctx, workerID)
	if err != nil || id == "" {
		return Team{}, false, err
	}
	team, err = t.st.Team(ctx, id)
	if notFound(err) {
		return Team{}, false, nil
	}
	return team, err == nil, err
}

// Details returns team with its owner, workers and their sums.
func (t *Teams) Details(ctx context.Context, team Team) (TeamDetails, error) {
	d := TeamDetails{Team: team, Workers: []Worker{}}
	owner, err := t.h.user(ctx, team.OwnerID)
	if err != nil && !notFound(err) {
		return TeamDetails{}, err
	}
	d.Owner = owner
	ids, err := t.st.TeamWorkers(ctx, team.ID)
	if err != nil {
		return TeamDetails{}, fmt.Errorf("workers of team %s: %w", team.ID, err)
	}
	for _, id := range ids {
		w, err := t.h.Worker(ctx, id)
		if notFound(err) {
			continue // deleted since
		}
		if err != nil {
			return TeamDetails{}, err
		}
		d.Workers = append(d.Workers, w)
		d.Fulfilled += w.Fulfilled
		d.KudosEarned += w.KudosEarned
		d.UptimeSeconds += w.UptimeSeconds
		d.Speed += w.Performance
	}
	if len(d.Workers) > 0 {
		d.Performance = d.Speed / float64(len(d.Workers))
	}
	return d, nil
}
