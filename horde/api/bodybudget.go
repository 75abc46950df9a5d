package api

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/hordebot/hordebot/horde"
)

// Defaults of the body budget.
const (
	// DefaultBodyBudgetBytes is how many bytes of large JSON bodies the
	// server reads and decodes at once: one image request of the largest
	// default size. A decoded body holds about twice its size while the
	// request runs, so this bounds the memory that any number of concurrent
	// large bodies can take, and decoding them keeps at most about one core
	// busy, leaving the other to pops, submits and heartbeats.
	DefaultBodyBudgetBytes = 12 << 20
	// smallBody is the size under which a body skips the budget: pops,
	// submits, transfers and ordinary requests, which must never wait
	// behind a large upload.
	smallBody = 256 << 10
	// bodyBudgetWait is how long a large body waits for the budget before
	// it is answered 503 with Retry-After.
	bodyBudgetWait = 30 * time.Second
)

// bodyBudget is a weighted semaphore over the bytes of the large bodies
// being read and decoded.
type bodyBudget struct {
	sem  *semaphore.Weighted
	size int64
}

func newBodyBudget(size int64) *bodyBudget {
	if size <= 0 {
		size = DefaultBodyBudgetBytes
	}
	return &bodyBudget{sem: semaphore.NewWeighted(size), size: size}
}

// acquire takes n bytes of the budget for the request r (at most the whole
// budget, so that one body larger than it runs alone), released when the
// request ends. Small bodies take nothing. It waits at most bodyBudgetWait;
// past that the answer is KindUnavailable (503, Retry-After).
func (b *bodyBudget) acquire(r *http.Request, n int64) error {
	if n <= smallBody {
		return nil
	}
	n = min(n, b.size)
	ctx, cancel := context.WithTimeout(r.Context(), bodyBudgetWait)
	defer cancel()
	if err := b.sem.Acquire(ctx, n); err != nil {
		return &horde.Error{Kind: horde.KindUnavailable, Code: "ServerBusy",
			Message: "the server is busy reading other large requests; try again later", Err: err}
	}
	// net/http cancels a request's context when its handler returns: the
	// budget is held while the decoded body is in use.
	context.AfterFunc(r.Context(), func() { b.sem.Release(n) })
	return nil
}
