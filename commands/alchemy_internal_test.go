package commands

import (
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

func TestUpscaleAsk(t *testing.T) {
	tests := []struct {
		name          string
		w, h, factor  int
		form          string
		refusedByKind horde.Kind
	}{
		{"2x", 512, 512, 2, aihorde.FormRealESRGANx2, 0},
		{"4x", 512, 768, 4, aihorde.FormRealESRGANx4, 0},
		{"4x of 1024x1024 is the largest", 1024, 1024, 4, aihorde.FormRealESRGANx4, 0},
		{"a result over 4096x4096 is refused", 2048, 2049, 2, "", horde.KindInvalid},
		{"3x is no factor", 512, 512, 3, "", horde.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := upscaleAsk([]byte("x"), tt.w, tt.h, tt.factor, "it")
			if tt.form == "" {
				if !horde.IsKind(err, tt.refusedByKind) {
					t.Fatalf("err = %v, want a refusal", err)
				}
				return
			}
			if err != nil || len(a.forms) != 1 || a.forms[0] != tt.form || a.show.Factor != tt.factor || a.show.Action != actionUpscale {
				t.Fatalf("ask %+v, %v", a, err)
			}
		})
	}
}

func TestSizeForSource(t *testing.T) {
	tests := []struct{ w, h, wantW, wantH int }{
		{640, 480, 576, 448},
		{512, 512, 512, 512},
		{100, 4000, 64, 1024}, // clamped to the sides allowed
		{0, 10, aihorde.DefaultWidth, aihorde.DefaultHeight},
	}
	for _, tt := range tests {
		if w, h := sizeForSource(tt.w, tt.h); w != tt.wantW || h != tt.wantH {
			t.Errorf("sizeForSource(%d, %d) = %dx%d, want %dx%d", tt.w, tt.h, w, h, tt.wantW, tt.wantH)
		}
	}
}
