package horde_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// TestPopOrder checks the order in which one worker receives queued requests:
// kudos, ageing, FIFO, owner first and priority usernames.
func TestPopOrder(t *testing.T) {
	type sub struct {
		who     string // "a", "b", "c" or "owner"
		balance int64
		after   time.Duration // clock advance before this submit
		model   string        // the request's model; "" is sdxl, the worker's
	}
	tests := []struct {
		name     string
		subs     []sub
		priority []string // users named in priority_usernames
		trusted  bool     // the worker's owner is trusted
		want     []int    // indexes of subs in pop order
	}{
		{
			name: "more kudos is served first",
			subs: []sub{{who: "a", balance: 100}, {who: "b", balance: 1000, after: time.Second}},
			want: []int{1, 0},
		},
		{
			name: "equal priority is first in first out",
			subs: []sub{{who: "a", balance: 100}, {who: "b", balance: 100}, {who: "c", balance: 100}},
			want: []int{0, 1, 2},
		},
		{
			name: "ageing of 30 s outweighs 100 kudos",
			subs: []sub{{who: "a", balance: 0}, {who: "b", balance: 100, after: 30 * time.Second}},
			want: []int{0, 1},
		},
		{
			name: "ageing of 10 s does not outweigh 100 kudos",
			subs: []sub{{who: "a", balance: 0}, {who: "b", balance: 100, after: 10 * time.Second}},
			want: []int{1, 0},
		},
		{
			name: "the worker's owner is served first",
			subs: []sub{{who: "a", balance: 5000}, {who: "owner", balance: 0, after: time.Minute}, {who: "b", balance: 9000}},
			want: []int{1, 2, 0},
		},
		{
			name:     "priority usernames of a trusted worker are served first",
			subs:     []sub{{who: "a", balance: 5000}, {who: "c", balance: 0, after: time.Minute}},
			priority: []string{"c"},
			trusted:  true,
			want:     []int{1, 0},
		},
		{
			name:     "priority usernames of an untrusted worker are ignored",
			subs:     []sub{{who: "a", balance: 5000}, {who: "c", balance: 0, after: time.Minute}},
			priority: []string{"c"},
			want:     []int{0, 1},
		},
		{
			name:     "priority usernames never take a request the worker cannot serve",
			subs:     []sub{{who: "c", balance: 0, model: "other"}, {who: "a", balance: 5000, after: time.Minute}},
			priority: []string{"c"},
			trusted:  true,
			want:     []int{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, horde.Config{})
			users := map[string]horde.Credential{"owner": e.user("owner", 0)}
			if tt.trusted {
				users["owner"] = e.trustedUser("trusted-owner", 0)
			}
			var ids []string
			for _, s := range tt.subs {
				e.clock.Advance(s.after)
				c, ok := users[s.who]
				if !ok {
					c = e.user(s.who, 0)
					users[s.who] = c
				}
				// The balance at submit is the priority; reset it to s.balance.
				e.give(c.User.ID, s.balance-e.balance(c.User.ID))
				model := "sdxl"
				if s.model != "" {
					model = s.model
				}
				ids = append(ids, e.submit(c, imageRequest("a lighthouse", model)).ID)
			}
			p := imagePop("rig", "sdxl")
			for _, who := range tt.priority {
				p.PriorityUsernames = append(p.PriorityUsernames, users[who].User.Username())
			}
			for i, want := range tt.want {
				a := e.popOne(users["owner"], p)
				if a.Request.ID != ids[want] {
					t.Fatalf("pop %d: got request %s, want #%d (%s); ids %v", i, a.Request.ID, want, ids[want], ids)
				}
			}
			if as, _ := e.pop(users["owner"], p); len(as) != 0 {
				t.Fatalf("queue should be empty, popped %d more", len(as))
			}
		})
	}
}

// TestPopBatchAndBuckets checks that a pop with amount > 1 takes items of one
// request in item order with consecutive seeds, and that requests naming no
// model and several models are served from their buckets.
func TestPopBatchAndBuckets(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 100)
	worker := e.user("worker", 0)

	nr := imageRequest("a fox", "sd15", "sdxl")
	nr.N = 3
	nr.Image.Seed = "1000"
	multi := e.submit(alice, nr)
	anyModel := e.submit(alice, imageRequest("an owl"))

	p := imagePop("rig", "sdxl")
	p.Amount = 2
	as, _ := e.pop(worker, p)
	if len(as) != 2 {
		t.Fatalf("got %d jobs, want 2", len(as))
	}
	for i, a := range as {
		if a.Request.ID != multi.ID || a.Job.Item != i || a.Job.Seed != int64(1000+i) || a.Job.Model != "sdxl" {
			t.Errorf("job %d: request %s item %d seed %d model %s; want %s item %d seed %d model sdxl",
				i, a.Request.ID, a.Job.Item, a.Job.Seed, a.Job.Model, multi.ID, i, 1000+i)
		}
		if a.TTL != horde.ImageJobTTL(*a.Request.Image) || !a.Job.Deadline.Equal(a.Job.StartedAt.Add(a.TTL)) {
			t.Errorf("job %d: ttl %v deadline %v", i, a.TTL, a.Job.Deadline)
		}
	}
	// The third item is still queued, in both of its model buckets.
	a := e.popOne(worker, imagePop("rig2", "sd15"))
	if a.Request.ID != multi.ID || a.Job.Item != 2 || a.Job.Model != "sd15" {
		t.Fatalf("got %s item %d model %s, want %s item 2 model sd15", a.Request.ID, a.Job.Item, a.Job.Model, multi.ID)
	}
	// Once the multi-model request is fully taken it is in no bucket.
	a = e.popOne(worker, imagePop("rig3", "sd15"))
	if a.Request.ID != anyModel.ID || a.Job.Model != "sd15" {
		t.Fatalf("got %s model %s, want the no-model request %s run with sd15", a.Request.ID, a.Job.Model, anyModel.ID)
	}
	if as, sk := e.pop(worker, imagePop("rig", "sdxl")); len(as) != 0 || len(sk) != 0 {
		t.Fatalf("empty queue: got %d jobs, skipped %v", len(as), sk)
	}
}

// TestPopScanLimit checks that a pop examines at most PopScanLimit entries.
func TestPopScanLimit(t *testing.T) {
	e := newEnv(t, horde.Config{PopScanLimit: 5})
	alice := e.user("alice", 100)
	worker := e.user("worker", 0)
	for i := 0; i < 8; i++ {
		e.submit(alice, imageRequest(fmt.Sprintf("nsfw thing %d", i)))
	}
	want := e.submit(alice, imageRequest("a tree"))
	p := imagePop("rig", "sd15")
	p.Blacklist = []string{"nsfw"}
	as, sk := e.pop(worker, p)
	if len(as) != 0 || sk[horde.SkipBlacklist] != 5 {
		t.Fatalf("got %d jobs, skipped %v; want none and 5 blacklist skips", len(as), sk)
	}
	p.Blacklist = nil
	for i := 0; i < 8; i++ {
		e.popOne(worker, p)
	}
	if a := e.popOne(worker, p); a.Request.ID != want.ID {
		t.Fatalf("got %s, want %s", a.Request.ID, want.ID)
	}
}
