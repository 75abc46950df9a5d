package horde_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// TestPopMessagesSeeEveryChange: the messages a pop carries (read from a
// cache, every pop shows them) include a message posted here at once, lose
// a deleted one at once and an expired one the moment it expires, and show
// one written by another process sharing the database within
// PopMessagesFor.
func TestPopMessagesSeeEveryChange(t *testing.T) {
	e := newEnv(t, horde.Config{})
	owner := e.user("owner", 0)
	e.pop(owner, imagePop("owner-gpu"))
	wk, err := e.h.WorkerByName(e.ctx, "owner-gpu")
	if err != nil {
		t.Fatal(err)
	}
	shown := func(when string, want ...string) {
		t.Helper()
		ms, err := e.h.ActiveWorkerMessages(e.ctx, wk.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.Message)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the pop shows %q, want %q", when, got, want)
		}
	}
	shown("before any message")
	hello, err := e.h.PostWorkerMessage(e.ctx, owner.User, horde.NewWorkerMessage{WorkerID: wk.ID, Message: "hello", Expiry: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	shown("once posted", "hello")

	e.clock.Advance(time.Second)
	now := e.clock.Now()
	elsewhere := horde.WorkerMessage{ID: "from-elsewhere", WorkerID: wk.ID, UserID: owner.User.ID, AuthorID: owner.User.ID,
		Message: "from another process", Origin: "1", CreatedAt: now, Expiry: now.Add(2 * time.Hour)}
	if err := e.st.SaveWorkerMessage(e.ctx, elsewhere); err != nil {
		t.Fatal(err)
	}
	shown("just after another process posted", "hello")
	e.clock.Advance(horde.PopMessagesFor)
	shown("PopMessagesFor later", "hello", "from another process")

	e.clock.Set(hello.Expiry.Add(-time.Second))
	shown("a second before hello expires", "hello", "from another process")
	e.clock.Set(hello.Expiry)
	shown("when hello expires", "from another process")

	if err := e.h.DeleteWorkerMessage(e.ctx, owner.User, elsewhere.ID); err != nil {
		t.Fatal(err)
	}
	shown("once deleted")
}
