package api

import (
	"net/http"
	"sort"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// teams reports the feature off when the API has no teams.
func (s *server) teams(w http.ResponseWriter, r *http.Request) (*horde.Teams, bool) {
	if s.opt.Teams == nil {
		s.writeError(w, r, horde.Errorf(horde.KindDisabled, "FeatureDisabled", "teams are not enabled on this horde"))
		return nil, false
	}
	return s.opt.Teams, true
}

// teamDetails is team as the AI Horde shows it.
func (s *server) teamDetails(r *http.Request, teams *horde.Teams, team horde.Team) (aihorde.TeamDetails, error) {
	d, err := teams.Details(r.Context(), team)
	if err != nil {
		return aihorde.TeamDetails{}, err
	}
	out := aihorde.TeamDetails{Name: d.Name, ID: d.ID, RequestsFulfilled: d.Fulfilled, Kudos: float64(d.KudosEarned),
		Uptime: d.UptimeSeconds, WorkerCount: len(d.Workers), Workers: []aihorde.TeamWorker{},
		Models: []aihorde.ActiveModelLite{}, Performance: d.Performance, Speed: d.Speed}
	if d.Info != "" {
		info := d.Info
		out.Info = &info
	}
	if d.Owner.ID != 0 {
		out.Creator = d.Owner.Username()
	}
	now := s.opt.Clock.Now()
	models := map[string]int{}
	for i := range d.Workers {
		wk := &d.Workers[i]
		out.Workers = append(out.Workers, aihorde.TeamWorker{Type: string(wk.Kind), Name: wk.Name, ID: wk.ID, Online: wk.Online(now)})
		for _, m := range wk.Models {
			models[m]++
		}
	}
	for m, n := range models {
		out.Models = append(out.Models, aihorde.ActiveModelLite{Name: m, Count: n})
	}
	sort.Slice(out.Models, func(i, j int) bool { return out.Models[i].Name < out.Models[j].Name })
	return out, nil
}

// listTeams is GET /teams: every team with its details, by name.
func (s *server) listTeams(w http.ResponseWriter, r *http.Request) {
	teams, ok := s.teams(w, r)
	if !ok {
		return
	}
	all, err := teams.List(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]aihorde.TeamDetails, 0, len(all))
	for _, t := range all {
		d, err := s.teamDetails(r, teams, t)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out = append(out, d)
	}
	s.ok(w, out)
}

// createTeam is POST /teams: a trusted user founds a team.
func (s *server) createTeam(w http.ResponseWriter, r *http.Request) {
	teams, ok := s.teams(w, r)
	if !ok {
		return
	}
	var b aihorde.TeamInput
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	if b.Name == nil {
		s.writeError(w, r, horde.Invalidf("name", "name is required"))
		return
	}
	u, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := teams.Create(r.Context(), u, *b.Name, b.Info)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.TeamModified{ID: t.ID, Name: &t.Name, Info: &t.Info})
}

// team is GET /teams/{id}. Unlike the AI Horde, which answers a
// non-moderator's key 403 here, a key is not needed and not checked: every
// caller sees the same details.
func (s *server) team(w http.ResponseWriter, r *http.Request) {
	teams, ok := s.teams(w, r)
	if !ok {
		return
	}
	id, err := pathID(r, "id", "TeamNotFound", "team")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := teams.Get(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.teamDetails(r, teams, t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, d)
}

// updateTeam is PATCH /teams/{id}: its owner or a moderator changes its
// name and info; the answer has the fields set.
func (s *server) updateTeam(w http.ResponseWriter, r *http.Request) {
	teams, ok := s.teams(w, r)
	if !ok {
		return
	}
	id, err := pathID(r, "id", "TeamNotFound", "team")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var b aihorde.TeamInput
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := teams.Update(r.Context(), u, id, horde.TeamChange{Name: b.Name, Info: b.Info})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := aihorde.TeamModified{ID: t.ID}
	if b.Name != nil {
		out.Name = &t.Name
	}
	if b.Info != nil {
		out.Info = &t.Info
	}
	s.ok(w, out)
}

// deleteTeam is DELETE /teams/{id}: its owner or a moderator deletes it;
// its workers are left without a team.
func (s *server) deleteTeam(w http.ResponseWriter, r *http.Request) {
	teams, ok := s.teams(w, r)
	if !ok {
		return
	}
	id, err := pathID(r, "id", "TeamNotFound", "team")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := teams.Delete(r.Context(), u, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.TeamDeleted{DeletedID: t.ID, DeletedName: t.Name})
}

// joinTeam puts worker id in the team named by a PUT /workers/{id} "team"
// ("" leaves its team) and returns what the AI Horde answers in "team":
// the team's name, or "None".
func (s *server) joinTeam(r *http.Request, workerID, teamID string) (string, error) {
	if s.opt.Teams == nil {
		if strings.TrimSpace(teamID) == "" {
			return "None", nil
		}
		return "", horde.NotFoundf("TeamNotFound", "no team has id %s: teams are not enabled on this horde", horde.QuoteInput(teamID))
	}
	t, err := s.opt.Teams.Join(r.Context(), workerID, teamID)
	if err != nil {
		return "", err
	}
	if t.ID == "" {
		return "None", nil
	}
	return t.Name, nil
}
