package api

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde"
)

// workerJSON is the AI Horde's worker details. It never carries keys, IP
// addresses, owners or prompts, and not the worker's blacklist.
type workerJSON struct {
	Type              string           `json:"type"`
	Name              string           `json:"name"`
	ID                string           `json:"id"`
	Online            bool             `json:"online"`
	RequestsFulfilled int64            `json:"requests_fulfilled"`
	KudosRewards      int64            `json:"kudos_rewards"`
	KudosDetails      kudosDetailsJSON `json:"kudos_details"`
	Performance       string           `json:"performance"`
	Threads           int              `json:"threads"`
	Uptime            int64            `json:"uptime"`
	UncompletedJobs   int64            `json:"uncompleted_jobs"`
	MaintenanceMode   bool             `json:"maintenance_mode"`
	Paused            bool             `json:"paused"`
	Info              *string          `json:"info"`
	NSFW              bool             `json:"nsfw"`
	Trusted           bool             `json:"trusted"`
	Flagged           bool             `json:"flagged"`
	Models            []string         `json:"models"`
	BridgeAgent       string           `json:"bridge_agent"`
	// Image workers.
	MaxPixels      int   `json:"max_pixels,omitempty"`
	Img2Img        *bool `json:"img2img,omitempty"`
	Painting       *bool `json:"painting,omitempty"`
	PostProcessing *bool `json:"post-processing,omitempty"`
	Lora           *bool `json:"lora,omitempty"`
	// Text workers.
	MaxLength        int `json:"max_length,omitempty"`
	MaxContextLength int `json:"max_context_length,omitempty"`
}

type kudosDetailsJSON struct {
	Generated int64 `json:"generated"`
	Uptime    int64 `json:"uptime"`
}

func (s *server) workerOf(wk horde.Worker) workerJSON {
	models := wk.Models
	if models == nil {
		models = []string{}
	}
	out := workerJSON{
		Type:              string(wk.Kind),
		Name:              wk.Name,
		ID:                wk.ID,
		Online:            wk.Online(s.clock.Now()),
		RequestsFulfilled: wk.Fulfilled,
		KudosRewards:      wk.KudosEarned,
		KudosDetails:      kudosDetailsJSON{Generated: wk.KudosEarned},
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
	case "image", "text":
		return horde.RequestKind(t), nil
	default:
		return "", horde.Invalidf("type", "type must be image or text, not %s", horde.QuoteInput(t))
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
	out := make([]workerJSON, 0, len(ws))
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
	s.ok(w, s.workerOf(wk))
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
	s.ok(w, s.workerOf(wk))
}

// workerUpdateBody is the body of PUT /workers/{id}.
type workerUpdateBody struct {
	Maintenance    *bool   `json:"maintenance"`
	MaintenanceMsg *string `json:"maintenance_msg"`
	Paused         *bool   `json:"paused"`
	Info           *string `json:"info"`
	Name           *string `json:"name"`
	Team           *string `json:"team"`
}

// workerUpdateJSON echoes the fields a PUT changed, as the AI Horde does.
type workerUpdateJSON struct {
	Maintenance *bool   `json:"maintenance,omitempty"`
	Paused      *bool   `json:"paused,omitempty"`
	Info        *string `json:"info,omitempty"`
	Name        *string `json:"name,omitempty"`
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

func (s *server) updateWorker(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "WorkerNotFound", "worker")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var b workerUpdateBody
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
	if c.err != nil {
		s.writeError(w, r, c.err)
		return
	}
	if b.Maintenance == nil && b.Paused == nil && b.Info == nil && b.Name == nil {
		s.writeError(w, r, horde.Invalidf("", "nothing to change: send maintenance, paused, info or name"))
		return
	}
	by, err := s.workerActor(r, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.h.UpdateWorker(r.Context(), by, id, horde.WorkerUpdate{
		Maintenance: b.Maintenance, Paused: b.Paused, Name: b.Name, Info: b.Info,
	}); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, workerUpdateJSON{Maintenance: b.Maintenance, Paused: b.Paused, Info: b.Info, Name: b.Name})
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
	s.ok(w, struct {
		DeletedID   string `json:"deleted_id"`
		DeletedName string `json:"deleted_name"`
	}{wk.ID, wk.Name})
}
