package horde

import (
	"slices"
	"testing"
	"time"

	"github.com/google/btree"
)

// TestMergerOrder checks that the k-way merge yields the entries of several
// trees in one priority order, across cursor batches.
func TestMergerOrder(t *testing.T) {
	tests := []struct {
		name  string
		trees [][]int64 // scores per tree
	}{
		{name: "no trees"},
		{name: "one tree", trees: [][]int64{{5, 3, 1}}},
		{name: "interleaved", trees: [][]int64{{9, 5, 1}, {8, 4, 2}, {7, 6, 3}}},
		{name: "an empty tree among others", trees: [][]int64{{}, {2, 1}}},
		{name: "longer than a batch", trees: [][]int64{seq(0, 200, 2), seq(1, 201, 2), seq(500, 510, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trees []*btree.BTreeG[qentry]
			var want []int64
			var n uint64
			for _, scores := range tt.trees {
				tr := btree.NewG(4, qless)
				for _, s := range scores {
					n++
					tr.ReplaceOrInsert(qentry{score: s, r: &openRequest{seq: n}})
					want = append(want, s)
				}
				trees = append(trees, tr)
			}
			slices.Sort(want)
			slices.Reverse(want)
			var got []int64
			m := newMerger(trees)
			for e, ok := m.next(); ok; e, ok = m.next() {
				got = append(got, e.score)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func seq(from, to, step int64) []int64 {
	var out []int64
	for i := from; i < to; i += step {
		out = append(out, i)
	}
	return out
}

// TestPriorityScore checks the static key: kudos, then ageing at +5 per second.
func TestPriorityScore(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name           string
		kudosA, kudosB int64
		delayB         time.Duration
		aFirst         bool
	}{
		{"more kudos first", 10, 20, 0, false},
		{"older first at equal kudos", 10, 10, time.Millisecond, true},
		{"10 s of age is worth 50 kudos", 0, 49, 10 * time.Second, true},
		{"51 kudos beat 10 s of age", 0, 51, 10 * time.Second, false},
		{"huge balances do not overflow", 1 << 62, -1 << 62, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := priorityScore(tt.kudosA, t0)
			b := priorityScore(tt.kudosB, t0.Add(tt.delayB))
			if got := a > b; got != tt.aFirst {
				t.Fatalf("score a %d, b %d: a first %v, want %v", a, b, got, tt.aFirst)
			}
		})
	}
}

// TestSeedFromString checks numeric seeds, text read as the AI Horde reads
// it (aihorde.SeedToInt), and stability.
func TestSeedFromString(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"", 0},
		{"42", 42},
		{" 7 ", 2111264}, // not all digits: the AI Horde reads it as text
		{"-3", 13101},
		{"a cat", 116},
	}
	for _, tt := range tests {
		if got := seedFromString(tt.in); got != tt.want {
			t.Errorf("seedFromString(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	a, b := seedFromString("a cat"), seedFromString("a dog")
	if a == b || a != seedFromString("a cat") || a < 0 || a > 1<<32 {
		t.Errorf("hashed seeds: %d %d", a, b)
	}
	if s := seedFromString(randomSeed()); s < 0 || s >= 1<<32 {
		t.Errorf("random seed %d out of the 32-bit range", s)
	}
}

// TestQueueIndexTotals checks that bucket and kind totals follow adds,
// takes and removals.
func TestQueueIndexTotals(t *testing.T) {
	q := newQueueIndex()
	mk := func(seq uint64, n int, models ...string) *openRequest {
		r := &openRequest{req: Request{Kind: KindImage, N: n, Models: models}, seq: seq, itemWork: 2, waiting: n}
		for _, m := range models {
			r.buckets = append(r.buckets, bucketKey{kind: KindImage, model: m})
		}
		if len(models) == 0 {
			r.buckets = []bucketKey{{kind: KindImage}}
		}
		return r
	}
	a, b := mk(1, 3, "x", "y"), mk(2, 1)
	q.add(a)
	q.add(b)
	check := func(when string, x, y, none, total int) {
		t.Helper()
		got := []int{q.bucket(bucketKey{KindImage, "x"}).items, q.bucket(bucketKey{KindImage, "y"}).items, q.bucket(bucketKey{kind: KindImage}).items, q.total(KindImage).items}
		if want := []int{x, y, none, total}; !slices.Equal(got, want) {
			t.Fatalf("%s: x, y, none, total = %v, want %v", when, got, want)
		}
		if w := q.total(KindImage).work; w != float64(total)*2 {
			t.Fatalf("%s: total work %v, want %v", when, w, float64(total)*2)
		}
	}
	check("added", 3, 3, 1, 4)
	q.setWaiting(a, -2)
	check("two taken", 1, 1, 1, 2)
	q.setWaiting(a, -1)
	check("all of a taken", 0, 0, 1, 1)
	if a.queued || q.bucket(bucketKey{KindImage, "x"}).tree.Len() != 0 {
		t.Fatalf("a still queued")
	}
	q.setWaiting(a, 1)
	check("one re-queued", 1, 1, 1, 2)
	q.remove(a)
	q.remove(b)
	check("removed", 0, 0, 0, 0)
	if q.requests != 0 || q.activity.Len() != 0 || len(q.users) != 0 {
		t.Fatalf("index not empty: %d requests, %d activity, %d users", q.requests, q.activity.Len(), len(q.users))
	}
}
