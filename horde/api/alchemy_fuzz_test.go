package api_test

import (
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

// The alchemy decoders hold to the same rules as the image and text ones
// (fuzz_test.go): no panic, every refusal KindInvalid with a message,
// every accepted body within the documented bounds.

func FuzzDecodeInterrogation(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		_, ni, _, err := api.DecodeInterrogation(data)
		if err != nil {
			wantInvalid(t, err)
			return
		}
		if len(ni.Forms) == 0 {
			t.Fatal("accepted an interrogation without forms")
		}
		for _, f := range ni.Forms {
			if f.Name == "" || len(f.Name) > aihorde.MaxNameLength {
				t.Fatalf("accepted a form named %q", f.Name)
			}
			if len(f.Payload) > horde.MaxFormPayloadKeys {
				t.Fatalf("accepted a payload of %d keys", len(f.Payload))
			}
		}
	})
}

func FuzzDecodeAlchemyPop(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := api.DecodeAlchemyPop(data)
		if err != nil {
			wantInvalid(t, err)
			return
		}
		if p.Amount < 1 || p.Amount > aihorde.MaxPopAmount || p.Threads < 1 || p.Threads > aihorde.MaxThreads {
			t.Fatalf("accepted amount %d, threads %d", p.Amount, p.Threads)
		}
		if p.MaxTiles < 1 || p.MaxTiles > aihorde.MaxTiles {
			t.Fatalf("accepted max_tiles %d", p.MaxTiles)
		}
		if len(p.Forms) > aihorde.MaxPopModels {
			t.Fatalf("accepted %d forms", len(p.Forms))
		}
	})
}

func FuzzDecodeAlchemySubmit(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		sub, _, err := api.DecodeAlchemySubmit(data)
		if err != nil {
			wantInvalid(t, err)
			return
		}
		if sub.FormID == "" || len(sub.FormID) > aihorde.MaxJobIDLength {
			t.Fatalf("accepted form id %q", sub.FormID)
		}
		switch sub.State {
		case horde.ResultOK, horde.ResultCensored, horde.ResultCSAM:
			if sub.Result == "" {
				t.Fatalf("accepted a %s submit without a result", sub.State)
			}
		case horde.ResultFaulted:
		default:
			t.Fatalf("accepted state %q", sub.State)
		}
	})
}
