package worker

import (
	"context"
	"log/slog"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// PopAlchemy asks for alchemy forms. No form is not an error: the answer's
// Forms are empty and Skipped says why.
func (c *Client) PopAlchemy(ctx context.Context, req aihorde.InterrogationPopRequest) (aihorde.InterrogationPopResponse, error) {
	var resp aihorde.InterrogationPopResponse
	if err := c.postJSON(ctx, "/interrogate/pop", req, &resp); err != nil {
		return aihorde.InterrogationPopResponse{}, err
	}
	return resp, nil
}

// SubmitAlchemy submits a form's result.
func (c *Client) SubmitAlchemy(ctx context.Context, req aihorde.InterrogationSubmit) (aihorde.SubmitResponse, error) {
	var resp aihorde.SubmitResponse
	if err := c.postJSON(ctx, "/interrogate/submit", req, &resp); err != nil {
		return aihorde.SubmitResponse{}, err
	}
	return resp, nil
}

// newHealthOf is newHealth for any backend, image, text or alchemy: a
// backend that is a HealthChecker is checked before pops.
func newHealthOf(b any, log *slog.Logger) *health {
	hc, _ := b.(HealthChecker)
	return &health{backend: hc, log: log}
}
