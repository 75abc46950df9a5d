package api

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

func (s *server) workerOf(wk horde.Worker) aihorde.Worker {
	models := wk.Models
	if models == nil {
		models = []string{}
	}
	out := aihorde.Worker{
		Type:              string(wk.Kind),
		Name:              wk.Name,
		ID:                wk.ID,
		Online:            wk.Online(s.clock.Now()),
		RequestsFulfilled: wk.Fulfilled,
		KudosRewards:      wk.KudosEarned,
		KudosDetails:      aihorde.WorkerKudosDetails{Generated: wk.KudosEarned},
		Threads:           max(wk.Threads, 1),
		Uptime:            wk.UptimeSeconds,
		UncompletedJobs:   wk.Dropped,
		MaintenanceMode:   wk.Maintenance,
		Paused:            wk.Paused,
		NSFW:              wk.NSFW,
		Trusted:           wk.Trusted,
		Models:            models,
		BridgeAgent:       wk.BridgeAgent,
	}
	if wk.Info != "" {
		info := wk.Info
		out.Info = &info
	}
	switch wk.Kind {
	case horde.KindAlchemy:
		// An alchemist's performance is seconds per form, and its Models
		// are the forms it offers (the AI Horde's "forms").
		out.Performance = fmt.Sprintf("%.1f seconds per form", wk.Performance)
		out.Forms = models
		out.Models = []string{}
	case horde.KindText:
		out.Performance = fmt.Sprintf("%.1f tokens per second", wk.Performance)
		out.MaxLength = wk.MaxLength
		out.MaxContextLength = wk.MaxContextLength
	default:
		out.Performance = fmt.Sprintf("%.1f megapixelsteps per second", wk.Performance)
		out.MaxPixels = wk.MaxPixels
		out.Img2Img = &wk.AllowImg2Img
		out.Painting = &wk.AllowPainting
		out.PostProcessing = &wk.AllowPostProcessing
		out.Lora = &wk.AllowLora
	}
	return out
}

// kindParam reads ?type=image|text; absent means def.
func kindParam(r *http.Request, def horde.RequestKind) (horde.RequestKind, error) {
	switch t := strings.ToLower(r.URL.Query().Get("type")); t {
	case "":
		return def, nil
	case "image", "text", string(horde.KindAlchemy):
		return horde.RequestKind(t), nil
	default:
		return "", horde.Invalidf("type", "type must be image, text or interrogation, not %s", horde.QuoteInput(t))
	}
}

func (s *server) workers(w http.ResponseWriter, r *http.Request) {
	kind, err := kindParam(r, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ws, err := s.h.Workers(r.Context(), kind)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]aihorde.Worker, 0, len(ws))
	for _, wk := range ws {
		out = append(out, s.workerOf(wk))
	}
	s.ok(w, out)
}

func (s *server) worker(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "WorkerNotFound", "worker")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wk, err := s.h.Worker(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := s.workerOf(wk)
	if out.Messages, err = s.ownerMessages(r, wk); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, out)
}

func (s *server) workerByName(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if utf8.RuneCountInString(name) > horde.MaxWorkerNameLength {
		s.writeError(w, r, horde.NotFoundf("WorkerNotFound", "no worker is named %s", horde.QuoteInput(name)))
		return
	}
	wk, err := s.h.WorkerByName(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := s.workerOf(wk)
	if out.Messages, err = s.ownerMessages(r, wk); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, out)
}

// ownerMessages are the worker's active messages when the request's key is
// its owner's (a user key or the worker's own) or a moderator's; nil for
// anyone else. As on the AI Horde, a key that does not authenticate only
// hides them.
func (s *server) ownerMessages(r *http.Request, wk horde.Worker) ([]aihorde.WorkerMessage, error) {
	key := apiKey(r)
	if key == "" || key == horde.AnonymousKey {
		return nil, nil
	}
	c, err := s.authenticate(r)
	if err != nil || c.User.Anonymous() || (c.WorkerID != "" && c.WorkerID != wk.ID) ||
		(c.User.ID != wk.OwnerID && !c.User.Moderator) {
		return nil, nil
	}
	ms, err := s.h.ActiveWorkerMessages(r.Context(), wk.ID)
	if err != nil {
		return nil, err
	}
	out := make([]aihorde.WorkerMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, workerMessageOf(m))
	}
	return out, nil
}

// Limits on worker fields a PUT may set.
const maxWorkerInfo = 1000

// workerActor authenticates who acts on worker id: a user key, or the
// worker's own key; another worker's key is refused.
func (s *server) workerActor(r *http.Request, id string) (horde.User, error) {
	c, err := s.authenticate(r)
	if err != nil {
		return horde.User{}, err
	}
	if c.WorkerID != "" && c.WorkerID != id {
		return horde.User{}, horde.Errorf(horde.KindForbidden, "WrongCredentials", "this worker key belongs to another worker")
	}
	if c.User.Anonymous() {
		return horde.User{}, horde.Errorf(horde.KindForbidden, "WrongCredentials", "anonymous users cannot change workers")
	}
	return c.User, nil
}

// updateWorker changes a worker, as the AI Horde's PUT /workers/{id}: its
// owner or a moderator may set maintenance (a moderator's maintenance_msg
// goes to the owner as a worker message), info, name and team; moderators
// alone paused. team is a team's id to join ("" leaves its team); an
// unknown team is 404 TeamNotFound and changes nothing.
func (s *server) updateWorker(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "WorkerNotFound", "worker")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var b aihorde.WorkerUpdate
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	var c check
	if b.Name != nil {
		name := c.workerName(*b.Name)
		b.Name = &name
	}
	if b.Info != nil {
		c.text("info", *b.Info, false, maxWorkerInfo)
	}
	if b.MaintenanceMsg != nil {
		c.text("maintenance_msg", *b.MaintenanceMsg, false, horde.MaxWorkerMessageLength)
	}
	if c.err != nil {
		s.writeError(w, r, c.err)
		return
	}
	if b.Maintenance == nil && b.Paused == nil && b.Info == nil && b.Name == nil && b.Team == nil {
		s.writeError(w, r, horde.Errorf(horde.KindInvalid, "NoWorkerModSelected", "nothing to change: send maintenance, paused, info, name or team"))
		return
	}
	by, err := s.workerActor(r, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if b.Team != nil && strings.TrimSpace(*b.Team) != "" {
		if s.opt.Teams == nil {
			s.writeError(w, r, horde.NotFoundf("TeamNotFound", "no team has id %s: teams are not enabled on this horde", horde.QuoteInput(*b.Team)))
			return
		}
		if _, err := s.opt.Teams.Get(r.Context(), *b.Team); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	wk, err := s.h.UpdateWorker(r.Context(), by, id, horde.WorkerUpdate{
		Maintenance: b.Maintenance, Paused: b.Paused, Name: b.Name, Info: b.Info,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if msg := valueOr(b.MaintenanceMsg, ""); valueOr(b.Maintenance, false) && strings.TrimSpace(msg) != "" && wk.OwnerID != by.ID {
		// As on the AI Horde, the message is for the owner: this horde
		// tells them through the worker's messages.
		if _, err := s.h.PostWorkerMessage(r.Context(), by, horde.NewWorkerMessage{
			WorkerID: wk.ID, Message: msg, Origin: by.Name,
		}); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	out := aihorde.WorkerUpdateResponse{Maintenance: b.Maintenance, Paused: b.Paused, Info: b.Info, Name: b.Name}
	if b.Team != nil {
		team, err := s.joinTeam(r, wk.ID, *b.Team)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Team = &team // the team's name, or the AI Horde's "None"
	}
	s.ok(w, out)
}

func (s *server) deleteWorker(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "WorkerNotFound", "worker")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	by, err := s.workerActor(r, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wk, err := s.h.Worker(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.h.DeleteWorker(r.Context(), by, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.WorkerDeleted{DeletedID: wk.ID, DeletedName: wk.Name})
}
