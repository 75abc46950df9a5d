package storetest

import (
	"context"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// StoredWorker reads worker id back from s, as any process would see it;
// it fails the test when s has no such worker.
func StoredWorker(tb testing.TB, s interface {
	Workers(context.Context) ([]horde.Worker, error)
}, id string) horde.Worker {
	tb.Helper()
	ws, err := s.Workers(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, w := range ws {
		if w.ID == id {
			return w
		}
	}
	tb.Fatalf("worker %s not stored", id)
	return horde.Worker{}
}
