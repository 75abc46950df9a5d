package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// WarnNoAvailableWorker is the AI Horde's warning code for "no online
// worker can serve this now" (aihorde.WarnNoAvailableWorker).
const WarnNoAvailableWorker = aihorde.WarnNoAvailableWorker

// noticeWarning is the warning a scheduler notice is sent as: one with an
// AI Horde WarningMessage code (aihorde.WarningCodes). Other notices have no
// such code, and are not sent (ok false): a client generated from the AI
// Horde's swagger refuses an answer with an unknown code.
func noticeWarning(n string) (w aihorde.Warning, ok bool) {
	if strings.HasPrefix(n, horde.WarningNoWorkerOnline) || strings.HasPrefix(n, horde.WarningNoWorkerCanServe) {
		return aihorde.Warning{Code: aihorde.WarnNoAvailableWorker, Message: n}, true
	}
	return aihorde.Warning{}, false
}

// ignored lists, for the server's log, what a request asked for that this
// horde ignores: the fields it does not know, and the AI Horde features it
// does not offer. As on the AI Horde, neither is a warning in the answer.
type ignored []string

// add notes field when the request set it.
func (ig *ignored) add(set bool, field string) {
	if set {
		*ig = append(*ig, field)
	}
}

// applyCommon validates the fields image and text requests share and copies them into nr.
func applyCommon(a *aihorde.AsyncCommon, c *check, nr *horde.NewRequest, ig *ignored) {
	c.list("workers", a.Workers, aihorde.MaxRequestWorkers, aihorde.MaxNameLength)
	c.list("models", a.Models, aihorde.MaxRequestModels, aihorde.MaxNameLength)
	nr.TrustedWorkers = valueOr(a.TrustedWorkers, false)
	nr.Workers = a.Workers
	nr.WorkerBlacklist = valueOr(a.WorkerBlacklist, false)
	nr.Models = a.Models
	nr.DryRun = valueOr(a.DryRun, false)
	nr.FastWorkersOnly = !valueOr(a.SlowWorkers, true)
	nr.ExtraSlowWorkers = valueOr(a.ExtraSlowWorkers, false)
	nr.DisableBatching = valueOr(a.DisableBatching, false)
	if wh := strings.TrimSpace(valueOr(a.Webhook, "")); wh != "" {
		// As on the AI Horde: https only. Where it may point is checked when it is called.
		if u, err := url.Parse(wh); err != nil || u.Scheme != "https" || u.Host == "" || len(wh) > aihorde.MaxWebhookLength {
			c.fail("webhook", "webhook must be an https URL of at most %d characters", aihorde.MaxWebhookLength)
		}
		nr.Webhook = wh
	}
	ig.add(valueOr(a.ProxiedAccount, "") != "", "proxied_account")
}

// async reads an async body (at most limit bytes), applies its style,
// decodes it with decode and queues the request. What the body asked for
// that is ignored is logged, not answered.
func (s *server) async(w http.ResponseWriter, r *http.Request, limit int64, kind horde.RequestKind, decode func([]byte) (horde.NewRequest, []string, error)) {
	data, err := s.readBody(w, r, limit)
	var style *appliedStyle
	if err == nil {
		data, style, err = s.applyStyle(r, kind, data)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nr, ignored, err := decode(data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nr.Style = style.use()
	if len(ignored) > 0 {
		s.log.DebugContext(r.Context(), "request with ignored fields", "path", r.URL.Path, "fields", ignored)
	}
	mws, err := s.modelWarnings(nr)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.submitRequest(w, r, nr, style, mws)
}

// submitRequest authenticates the requester and queues (or prices) nr,
// made with style (nil: none); warnings (the model reference's) come first
// in the answer.
func (s *server) submitRequest(w http.ResponseWriter, r *http.Request, nr horde.NewRequest, style *appliedStyle, warnings []aihorde.Warning) {
	u, sk, err := s.styleRequester(r, nr.Style, style)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nr.SharedKey = sk
	nr.ClientAgent = clientAgent(r)
	nr.Source = "api"
	req, notices, err := s.h.Submit(r.Context(), u, nr)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if nr.DryRun {
		s.ok(w, aihorde.DryRunResponse{Kudos: req.Kudos})
		return
	}
	warnings = append([]aihorde.Warning{}, warnings...)
	for _, n := range notices {
		if w, ok := noticeWarning(n); ok {
			warnings = append(warnings, w)
		}
	}
	writeJSON(w, s.log, http.StatusAccepted, aihorde.AsyncResponse{ID: req.ID, Kudos: req.Kudos, Warnings: warnings})
}

func progressOf(p horde.Progress) aihorde.RequestStatusCheck {
	return aihorde.RequestStatusCheck{
		Finished:      p.Finished,
		Processing:    p.Processing,
		Restarted:     p.Restarted,
		Waiting:       p.Waiting,
		Done:          p.Done,
		Faulted:       p.Faulted,
		WaitTime:      p.WaitTime,
		QueuePosition: p.QueuePosition,
		Kudos:         p.Kudos,
		IsPossible:    p.IsPossible,
	}
}

// requestOfKind refuses, as unknown, a request id of the other kind (a text
// id on the image status route), so that each route speaks one shape.
func requestOfKind(p horde.Progress, kind horde.RequestKind, id string) error {
	if p.Request.Kind != "" && p.Request.Kind != kind {
		return horde.NotFoundf("RequestNotFound", "no %s request with id %s", kind, horde.QuoteInput(id))
	}
	return nil
}

// checkOfKind is the progress of the request named by the path's {id},
// which must be of the given kind.
func (s *server) checkOfKind(r *http.Request, kind horde.RequestKind) (horde.Progress, error) {
	id, err := pathID(r, "id", "RequestNotFound", "request")
	if err != nil {
		return horde.Progress{}, err
	}
	p, err := s.h.Check(r.Context(), id)
	if err == nil {
		err = requestOfKind(p, kind, id)
	}
	return p, err
}

// statusOfKind is the progress and the results of the request named by the
// path's {id}, which must be of the given kind.
func (s *server) statusOfKind(r *http.Request, kind horde.RequestKind) (horde.Progress, []horde.Generation, error) {
	id, err := pathID(r, "id", "RequestNotFound", "request")
	if err != nil {
		return horde.Progress{}, nil, err
	}
	p, gens, err := s.h.Status(r.Context(), id)
	if err == nil {
		err = requestOfKind(p, kind, id)
	}
	return p, gens, err
}

// cancelOfKind cancels the request named by the path's {id} after checking
// that it is of the given kind, and returns the state it had before the
// cancel, with what it had finished, as the AI Horde's DELETE does.
func (s *server) cancelOfKind(r *http.Request, kind horde.RequestKind) (horde.Progress, []horde.Generation, error) {
	p, gens, err := s.statusOfKind(r, kind)
	if err != nil {
		return horde.Progress{}, nil, err
	}
	if _, _, err := s.h.Cancel(r.Context(), r.PathValue("id")); err != nil {
		return horde.Progress{}, nil, err
	}
	return p, gens, nil
}

// maxPathID bounds an id in a path: request, job and worker ids are UUIDs.
const maxPathID = 64

// pathID is the path value name, an id of something (what): one longer
// than any id is KindNotFound (code) at once, quoting a clipped copy, so
// that neither the horde nor an error message handles a megabyte id.
func pathID(r *http.Request, name, code, what string) (string, error) {
	id := r.PathValue(name)
	if len(id) > maxPathID {
		return "", horde.NotFoundf(code, "no %s has id %s", what, horde.QuoteInput(id))
	}
	return id, nil
}

func metadataOut(ms []horde.GenMetadata) []aihorde.GenMetadata {
	out := make([]aihorde.GenMetadata, 0, len(ms))
	for _, m := range ms {
		out = append(out, aihorde.GenMetadata(m))
	}
	return out
}
