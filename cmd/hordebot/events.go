package main

import (
	"context"
	"errors"
)

// relayEvents publishes to a.Events what every process announces on the
// database (PostgreSQL's LISTEN/NOTIFY: a request finished on another
// process wakes this one's result watchers), until ctx ends. On SQLite it
// returns at once: the one process's horde publishes its own events.
func (a *App) relayEvents(ctx context.Context) {
	if err := a.Store.ListenEvents(ctx, a.Events); err != nil && !errors.Is(err, context.Canceled) {
		a.Log.Error("event listener stopped", "err", err)
	}
}
