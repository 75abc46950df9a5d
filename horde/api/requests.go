package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// aihorde.Warning codes.
const (
	WarnUnknownField = "UnknownField" // a body field this server does not know
	WarnUnsupported  = "Unsupported"  // a known AI Horde feature this server does not offer
	WarnNotice       = "Notice"       // something the scheduler accepted but ignored
	// WarnNoAvailableWorker is the AI Horde's code (one of the values clients
	// such as the npm package @zeldafan0225/ai_horde type the field with) for
	// "no online worker can serve this request now".
	WarnNoAvailableWorker = "NoAvailableWorker"
)

// noticeCode is the warning code of a scheduler notice.
func noticeCode(n string) string {
	if strings.HasPrefix(n, horde.WarningNoWorkerOnline) || strings.HasPrefix(n, horde.WarningNoWorkerCanServe) {
		return WarnNoAvailableWorker
	}
	return WarnNotice
}

func unknownFieldWarnings(fields []string) []aihorde.Warning {
	ws := make([]aihorde.Warning, 0, len(fields))
	for _, f := range fields {
		ws = append(ws, aihorde.Warning{Code: WarnUnknownField, Message: f})
	}
	return ws
}

// warnUnsupported adds an Unsupported warning for field when the request set it.
func warnUnsupported(warnings *[]aihorde.Warning, set bool, field string) {
	if set {
		*warnings = append(*warnings, aihorde.Warning{Code: WarnUnsupported, Message: field + " is not supported by this horde and was ignored"})
	}
}

// applyCommon validates the fields image and text requests share and copies them into nr.
func applyCommon(a *aihorde.AsyncCommon, c *check, nr *horde.NewRequest, warnings *[]aihorde.Warning) {
	c.list("workers", a.Workers, aihorde.MaxRequestWorkers, aihorde.MaxNameLength)
	c.list("models", a.Models, aihorde.MaxRequestModels, aihorde.MaxNameLength)
	nr.TrustedWorkers = valueOr(a.TrustedWorkers, false)
	nr.Workers = a.Workers
	nr.WorkerBlacklist = valueOr(a.WorkerBlacklist, false)
	nr.Models = a.Models
	nr.DryRun = valueOr(a.DryRun, false)
	unsupported := func(set bool, field string) { warnUnsupported(warnings, set, field) }
	if wh := strings.TrimSpace(valueOr(a.Webhook, "")); wh != "" {
		// As on the AI Horde: https only. Where it may point is checked when it is called.
		if u, err := url.Parse(wh); err != nil || u.Scheme != "https" || u.Host == "" || len(wh) > aihorde.MaxWebhookLength {
			c.fail("webhook", "webhook must be an https URL of at most %d characters", aihorde.MaxWebhookLength)
		}
		nr.Webhook = wh
	}
	unsupported(valueOr(a.ProxiedAccount, "") != "", "proxied_account")
	unsupported(valueOr(a.Style, "") != "", "style")
	unsupported(len(a.ExtraSourceImages) > 0, "extra_source_images")
}

// async reads an async body (at most limit bytes), decodes it with decode
// and queues the request.
func (s *server) async(w http.ResponseWriter, r *http.Request, limit int64, decode func([]byte) (horde.NewRequest, []aihorde.Warning, error)) {
	data, err := s.readBody(w, r, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nr, warnings, err := decode(data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.submitRequest(w, r, nr, warnings)
}

// submitRequest authenticates the requester and queues (or prices) nr.
func (s *server) submitRequest(w http.ResponseWriter, r *http.Request, nr horde.NewRequest, warnings []aihorde.Warning) {
	u, sk, err := s.requester(r)
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
	for _, n := range notices {
		warnings = append(warnings, aihorde.Warning{Code: noticeCode(n), Message: n})
	}
	if warnings == nil {
		warnings = []aihorde.Warning{}
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
// that it is of the given kind, and returns what it had finished.
func (s *server) cancelOfKind(r *http.Request, kind horde.RequestKind) (horde.Progress, []horde.Generation, error) {
	if _, err := s.checkOfKind(r, kind); err != nil {
		return horde.Progress{}, nil, err
	}
	return s.h.Cancel(r.Context(), r.PathValue("id"))
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
