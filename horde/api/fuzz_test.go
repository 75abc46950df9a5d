package api_test

import (
	"testing"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

// The fuzz targets check that no body makes a decoder panic, that every
// refusal is a KindInvalid error with a message, and that every accepted
// body satisfies the documented ranges. Seed corpora are in testdata/fuzz.

func wantInvalid(t *testing.T, err error) {
	t.Helper()
	if !horde.IsKind(err, horde.KindInvalid) {
		t.Fatalf("error of kind %v, want invalid: %v", horde.KindOf(err), err)
	}
	if horde.MessageOf(err) == "" {
		t.Fatalf("invalid error without a message")
	}
}

func checkCommon(t *testing.T, nr horde.NewRequest) {
	t.Helper()
	if n := utf8.RuneCountInString(nr.Prompt); n == 0 || n > aihorde.MaxPromptLength {
		t.Fatalf("accepted a prompt of %d characters", n)
	}
	if nr.N < aihorde.MinN || nr.N > aihorde.MaxN {
		t.Fatalf("accepted n = %d", nr.N)
	}
	if len(nr.Workers) > 5 {
		t.Fatalf("accepted %d workers", len(nr.Workers))
	}
}

func FuzzDecodeImageAsync(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		nr, _, err := api.DecodeImageAsync(data)
		if err != nil {
			wantInvalid(t, err)
			return
		}
		checkCommon(t, nr)
		p := nr.Image
		if nr.Kind != horde.KindImage || p == nil {
			t.Fatalf("accepted without image params: %+v", nr)
		}
		if p.Steps < aihorde.MinSteps || p.Steps > aihorde.MaxSteps {
			t.Fatalf("accepted steps = %d", p.Steps)
		}
		for _, side := range []int{p.Width, p.Height} {
			if side < aihorde.MinSide || side > aihorde.MaxSide || side%64 != 0 {
				t.Fatalf("accepted %dx%d", p.Width, p.Height)
			}
		}
	})
}

func FuzzDecodeTextAsync(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		nr, _, err := api.DecodeTextAsync(data)
		if err != nil {
			wantInvalid(t, err)
			return
		}
		checkCommon(t, nr)
		p := nr.Text
		if nr.Kind != horde.KindText || p == nil {
			t.Fatalf("accepted without text params: %+v", nr)
		}
		if p.MaxLength < aihorde.MinMaxLength || p.MaxLength > aihorde.MaxMaxLength {
			t.Fatalf("accepted max_length = %d", p.MaxLength)
		}
		if p.MaxContextLength <= 0 {
			t.Fatalf("accepted max_context_length = %d", p.MaxContextLength)
		}
	})
}

func kindOf(text bool) horde.RequestKind {
	if text {
		return horde.KindText
	}
	return horde.KindImage
}

func FuzzDecodePop(f *testing.F) {
	f.Fuzz(func(t *testing.T, text bool, data []byte) {
		p, _, err := api.DecodePop(kindOf(text), data)
		if err != nil {
			wantInvalid(t, err)
			return
		}
		if p.Name == "" || utf8.RuneCountInString(p.Name) > 100 {
			t.Fatalf("accepted worker name %q", p.Name)
		}
		if p.Amount < 1 || p.Amount > 20 || p.Threads < 1 {
			t.Fatalf("accepted amount %d threads %d", p.Amount, p.Threads)
		}
		if p.Kind != kindOf(text) {
			t.Fatalf("kind = %s", p.Kind)
		}
	})
}

func FuzzDecodeSubmit(f *testing.F) {
	f.Fuzz(func(t *testing.T, text bool, data []byte) {
		s, _, err := api.DecodeSubmit(kindOf(text), data)
		if err != nil {
			wantInvalid(t, err)
			return
		}
		if s.JobID == "" {
			t.Fatalf("accepted a submit without id")
		}
		switch s.State {
		case horde.ResultOK, horde.ResultCensored, horde.ResultCSAM:
			if !text && s.UseUpload == (s.Image != nil) {
				t.Fatalf("image result must be either R2 or inline: %+v", s)
			}
		case horde.ResultFaulted:
		default:
			t.Fatalf("accepted state %q", s.State)
		}
		if text && (s.UseUpload || s.Image != nil) {
			t.Fatalf("text submit carries an image")
		}
	})
}
