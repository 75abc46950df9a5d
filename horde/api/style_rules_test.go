package api_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestStyleRulesApplyAsTheAsyncRoute checks that a request made with
// StyleRules (as the Discord commands make them) is the request the async
// route makes of a body naming the same style.
func TestStyleRulesApplyAsTheAsyncRoute(t *testing.T) {
	ctx := context.Background()
	e := newStyleEnv(t)
	_, key := e.trustedUser("artist")
	e.createStyle(key, styleBody(map[string]any{"nsfw": true}))
	e.createStyle(key, styleBody(map[string]any{"name": "sized", "params": map[string]any{"steps": 8, "width": 1024, "height": 768}}))
	rules := api.NewStyleRules(e.st)

	tests := []struct {
		name, style string
		width       int
	}{
		{"a style keeps the request's size when it sets none", "oil", 768},
		{"a style's size replaces the request's", "sized", 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := e.asyncImage(key, map[string]any{"style": tt.style, "prompt": "a red fox ### rain",
				"params": map[string]any{"n": 2, "width": tt.width, "height": 512, "steps": 50, "seed": "7"}})
			p, err := e.h.Check(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			viaAPI := p.Request

			sty, use, err := rules.Find(ctx, horde.KindImage, tt.style)
			if err != nil {
				t.Fatal(err)
			}
			nr := horde.NewRequest{Kind: horde.KindImage, Prompt: "a red fox ### rain", N: 2, R2: true,
				Image: &horde.ImageParams{Width: tt.width, Height: 512, Steps: 50, Seed: "7"}}
			got, err := rules.Apply(nr, sty)
			if err != nil {
				t.Fatal(err)
			}
			if use == nil || use.StyleID != sty.ID || use.OwnerID != sty.UserID {
				t.Errorf("use = %+v, want the style %s of %d", use, sty.ID, sty.UserID)
			}
			if got.Prompt != viaAPI.Prompt || got.N != viaAPI.N || got.NSFW != viaAPI.NSFW || !reflect.DeepEqual(got.Models, viaAPI.Models) {
				t.Errorf("applied prompt %q n %d nsfw %v models %v; the API made %q n %d nsfw %v models %v",
					got.Prompt, got.N, got.NSFW, got.Models, viaAPI.Prompt, viaAPI.N, viaAPI.NSFW, viaAPI.Models)
			}
			// A style drops the request's seed (its params replace the
			// request's); the horde then draws one at random.
			gp, ap := *got.Image, *viaAPI.Image
			if gp.Seed != "" {
				t.Errorf("applied seed %q, want none", gp.Seed)
			}
			ap.Seed = ""
			if !reflect.DeepEqual(gp, ap) {
				t.Errorf("applied params %+v; the API made %+v", gp, ap)
			}
		})
	}

	t.Run("an unknown style is not found", func(t *testing.T) {
		if _, _, err := rules.Find(ctx, horde.KindImage, "nope"); !horde.IsKind(err, horde.KindNotFound) {
			t.Fatalf("err %v, want KindNotFound", err)
		}
	})
	t.Run("a text style on an image request is refused", func(t *testing.T) {
		_, err := rules.Apply(horde.NewRequest{Kind: horde.KindImage, Prompt: "x", N: 1, Image: &horde.ImageParams{}},
			horde.Style{Kind: horde.KindText, Name: "prose", Prompt: "{p}"})
		if !horde.IsKind(err, horde.KindInvalid) {
			t.Fatalf("err %v, want KindInvalid", err)
		}
	})
	t.Run("validate refuses what POST /styles refuses", func(t *testing.T) {
		for _, sty := range []horde.Style{
			{Kind: horde.KindImage, Name: "x", Prompt: "no placeholders", Models: []string{"m"}},
			{Kind: horde.KindImage, Name: "x", Prompt: "{p}{np}", Models: []string{"m"}, Params: []byte(`{"steps": 9999}`)},
			{Kind: horde.KindImage, Name: "x", Prompt: "{p}{np}"},
		} {
			if err := rules.Validate(sty); !horde.IsKind(err, horde.KindInvalid) {
				t.Errorf("Validate(%+v) = %v, want KindInvalid", sty, err)
			}
		}
		if err := rules.Validate(horde.Style{Kind: horde.KindImage, Name: "ok", Prompt: "{p}{np}", Models: []string{"m"}, Params: []byte(`{"steps": 20}`)}); err != nil {
			t.Errorf("a valid style: %v", err)
		}
	})
}
