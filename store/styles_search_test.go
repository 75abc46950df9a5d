package store_test

import (
	"context"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

func TestSearchStyles(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	alice, bob := mustUser(t, s, "alice").ID, mustUser(t, s, "bob").ID
	add := func(name string, owner int64, kind horde.RequestKind, public bool, uses int) {
		t.Helper()
		st := horde.Style{ID: horde.NewStyleID(), Kind: kind, UserID: owner, Name: name, Prompt: "{p}, " + name + "{np}",
			Params: []byte(`{"steps":20}`), Models: []string{"sdxl"}, Public: public}
		if err := s.CreateStyle(ctx, st); err != nil {
			t.Fatal(err)
		}
		for range uses {
			// Use counts rise with requests; a request naming the style counts it.
			r := imageRequest(horde.NewStyleID(), owner, 1)
			r.Extras = &horde.RequestExtras{StyleID: st.ID}
			if err := s.CreateRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("Watercolor", alice, horde.KindImage, true, 1)
	add("Neon noir", alice, horde.KindImage, true, 3)
	add("Noir sketch", bob, horde.KindImage, true, 0)
	add("bob's secret noir", bob, horde.KindImage, false, 5)
	add("noir prose", alice, horde.KindText, true, 9)
	add("Éclair", alice, horde.KindImage, true, 0)

	names := func(q horde.StyleSearch) []string {
		t.Helper()
		got, err := s.SearchStyles(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, st := range got {
			out = append(out, st.Name)
		}
		return out
	}
	tests := []struct {
		name string
		q    horde.StyleSearch
		want []string
	}{
		{"every public style, most used first", horde.StyleSearch{Kind: horde.KindImage}, []string{"Neon noir", "Watercolor", "Noir sketch", "Éclair"}},
		{"a prefix match comes before a substring match", horde.StyleSearch{Kind: horde.KindImage, Text: "NOIR"}, []string{"Noir sketch", "Neon noir"}},
		{"one's own private styles are included", horde.StyleSearch{Kind: horde.KindImage, UserID: bob, Text: "noir"}, []string{"Noir sketch", "bob's secret noir", "Neon noir"}},
		{"another member's private style is not", horde.StyleSearch{Kind: horde.KindImage, UserID: alice, Text: "secret"}, nil},
		{"text styles apart", horde.StyleSearch{Kind: horde.KindText, Text: "noir"}, []string{"noir prose"}},
		{"case folds beyond ASCII", horde.StyleSearch{Kind: horde.KindImage, Text: "écl"}, []string{"Éclair"}},
		{"a page", horde.StyleSearch{Kind: horde.KindImage, Offset: 1, Limit: 2}, []string{"Watercolor", "Noir sketch"}},
		{"wildcards are plain text", horde.StyleSearch{Kind: horde.KindImage, Text: "%"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(tt.q)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}
