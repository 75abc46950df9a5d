package horde_test

import (
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// TestPopMatching checks every matching rule: a worker that cannot serve the
// request gets no job and the skip reason; one that can gets it.
// koboldCppAgent is the bridge_agent of KoboldCpp's embedded horde worker,
// a validated backend.
const koboldCppAgent = "KoboldCppEmbedWorker:1.80.3:https://github.com/LostRuins/koboldcpp"

func TestPopMatching(t *testing.T) {
	img := func(mod func(*horde.NewRequest)) horde.NewRequest {
		nr := imageRequest("a red barn ### a cat", "sd15")
		if mod != nil {
			mod(&nr)
		}
		return nr
	}
	pop := func(mod func(*horde.PopRequest)) horde.PopRequest {
		p := imagePop("rig", "sd15")
		if mod != nil {
			mod(&p)
		}
		return p
	}
	tests := []struct {
		name        string
		req         horde.NewRequest
		refuse      horde.PopRequest // gets nothing, with reason
		reason      string
		accept      horde.PopRequest
		trustedUser bool // the popping user is trusted (for accept)
	}{
		{
			name:   "model",
			req:    img(nil),
			refuse: pop(func(p *horde.PopRequest) { p.Models = []string{"sdxl"} }),
			reason: horde.SkipModels,
			accept: pop(nil),
		},
		{
			name:   "max pixels",
			req:    img(func(r *horde.NewRequest) { r.Image.Width, r.Image.Height = 1024, 1024 }),
			refuse: pop(func(p *horde.PopRequest) { p.MaxPixels = 512 * 512 }),
			reason: horde.SkipMaxPixels,
			accept: pop(func(p *horde.PopRequest) { p.MaxPixels = 1024 * 1024 }),
		},
		{
			name:   "nsfw",
			req:    img(func(r *horde.NewRequest) { r.NSFW = true }),
			refuse: pop(nil),
			reason: horde.SkipNSFW,
			accept: pop(func(p *horde.PopRequest) { p.NSFW = true }),
		},
		{
			name:        "trusted workers only",
			req:         img(func(r *horde.NewRequest) { r.TrustedWorkers = true }),
			refuse:      pop(nil),
			reason:      horde.SkipUntrusted,
			accept:      pop(nil),
			trustedUser: true,
		},
		{
			name:   "blacklist matches the positive prompt, case-insensitively",
			req:    img(nil),
			refuse: pop(func(p *horde.PopRequest) { p.Blacklist = []string{"BARN"} }),
			reason: horde.SkipBlacklist,
			accept: pop(func(p *horde.PopRequest) { p.Blacklist = []string{"cat"} }), // only in the negative prompt
		},
		{
			name:   "img2img",
			req:    img(func(r *horde.NewRequest) { r.Image.SourceImage = "aGVsbG8=" }),
			refuse: pop(nil),
			reason: horde.SkipImg2Img,
			accept: pop(func(p *horde.PopRequest) { p.AllowImg2Img = true }),
		},
		{
			name: "inpainting",
			req: img(func(r *horde.NewRequest) {
				r.Image.SourceImage, r.Image.SourceProcessing = "aGVsbG8=", "inpainting"
			}),
			refuse: pop(func(p *horde.PopRequest) { p.AllowImg2Img = true }),
			reason: horde.SkipPainting,
			accept: pop(func(p *horde.PopRequest) { p.AllowPainting = true }),
		},
		{
			name:   "post-processing",
			req:    img(func(r *horde.NewRequest) { r.Image.PostProcessing = []string{"RealESRGAN_x4plus"} }),
			refuse: pop(nil),
			reason: horde.SkipPostProcessing,
			accept: pop(func(p *horde.PopRequest) { p.AllowPostProcessing = true }),
		},
		{
			name:   "lora",
			req:    img(func(r *horde.NewRequest) { r.Image.Loras = []horde.Lora{{Name: "detail"}} }),
			refuse: pop(nil),
			reason: horde.SkipLora,
			accept: pop(func(p *horde.PopRequest) { p.AllowLora = true }),
		},
		{
			name:   "text max_length",
			req:    textRequest("once upon a time", 300, 1024),
			refuse: horde.PopRequest{Kind: horde.KindText, Name: "rig", MaxLength: 200, MaxContextLength: 4096},
			reason: horde.SkipMaxLength,
			accept: horde.PopRequest{Kind: horde.KindText, Name: "rig", MaxLength: 300, MaxContextLength: 4096, BridgeAgent: koboldCppAgent},
		},
		{
			name:   "text max_context_length",
			req:    textRequest("once upon a time", 100, 4096),
			refuse: horde.PopRequest{Kind: horde.KindText, Name: "rig", MaxLength: 512, MaxContextLength: 2048},
			reason: horde.SkipMaxContextLength,
			accept: horde.PopRequest{Kind: horde.KindText, Name: "rig", MaxLength: 512, MaxContextLength: 4096, BridgeAgent: koboldCppAgent},
		},
		{
			name:   "text validated_backends",
			req:    textRequest("once upon a time", 100, 1024),
			refuse: horde.PopRequest{Kind: horde.KindText, Name: "rig", MaxLength: 512, MaxContextLength: 4096, BridgeAgent: "KoboldAI Bridge:10:https://example.org"},
			reason: horde.SkipBridgeVersion,
			accept: horde.PopRequest{Kind: horde.KindText, Name: "rig", MaxLength: 512, MaxContextLength: 4096, BridgeAgent: koboldCppAgent},
		},
		{
			name:   "upfront kudos",
			req:    img(nil),
			refuse: pop(func(p *horde.PopRequest) { p.RequireUpfrontKudos = true }),
			reason: horde.SkipKudos,
			accept: pop(nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, horde.Config{})
			requester := e.user("requester", 0) // cannot pay upfront
			stranger := e.user("stranger", 0)
			req := e.submit(requester, tt.req)

			as, sk := e.pop(stranger, tt.refuse)
			if len(as) != 0 {
				t.Fatalf("refusing worker got %d jobs", len(as))
			}
			if sk[tt.reason] != 1 || len(sk) != 1 {
				t.Fatalf("skipped %v, want {%s: 1}", sk, tt.reason)
			}

			accepter := e.user("accepter", 0)
			if tt.trustedUser {
				u := accepter.User
				u.Trusted = true
				if err := e.st.UpdateUser(e.ctx, u); err != nil {
					t.Fatal(err)
				}
				accepter.User = u
			}
			tt.accept.Name = "other-rig"
			if a := e.popOne(accepter, tt.accept); a.Request.ID != req.ID {
				t.Fatalf("accepting worker got %s, want %s", a.Request.ID, req.ID)
			}
		})
	}
}

// TestPopWorkerLists checks a request's worker allow-list and deny-list, and
// that a worker in maintenance serves only its owner and a paused one nobody.
func TestPopWorkerLists(t *testing.T) {
	e := newEnv(t, horde.Config{})
	owner := e.user("owner", 0)
	alice := e.user("alice", 50)
	listed, listedKey, err := e.h.RegisterWorker(e.ctx, owner.User, "listed", horde.KindImage)
	if err != nil {
		t.Fatal(err)
	}
	listedCred, err := e.h.Authenticate(e.ctx, listedKey)
	if err != nil {
		t.Fatal(err)
	}
	if listedCred.WorkerID != listed.ID {
		t.Fatalf("worker key resolves to worker %q, want %q", listedCred.WorkerID, listed.ID)
	}

	allow := imageRequest("allowed only", "sd15")
	allow.Workers = []string{listed.ID}
	allowReq := e.submit(alice, allow)
	if as, sk := e.pop(owner, imagePop("unlisted", "sd15")); len(as) != 0 || sk[horde.SkipWorkerID] != 1 {
		t.Fatalf("allow-list: unlisted worker got %d jobs, skipped %v", len(as), sk)
	}
	if a := e.popOne(listedCred, imagePop("listed", "sd15")); a.Request.ID != allowReq.ID {
		t.Fatalf("allow-list: listed worker got %s", a.Request.ID)
	}

	deny := imageRequest("not that one", "sd15")
	deny.Workers, deny.WorkerBlacklist = []string{listed.ID}, true
	denyReq := e.submit(alice, deny)
	if as, sk := e.pop(listedCred, imagePop("listed", "sd15")); len(as) != 0 || sk[horde.SkipWorkerID] != 1 {
		t.Fatalf("deny-list: listed worker got %d jobs, skipped %v", len(as), sk)
	}
	if a := e.popOne(owner, imagePop("unlisted", "sd15")); a.Request.ID != denyReq.ID {
		t.Fatalf("deny-list: other worker got %s", a.Request.ID)
	}

	on, off := true, false
	if _, err := e.h.UpdateWorker(e.ctx, owner.User, listed.ID, horde.WorkerUpdate{Maintenance: &on}); err != nil {
		t.Fatal(err)
	}
	e.submit(alice, imageRequest("for anyone", "sd15"))
	if as, _ := e.pop(listedCred, imagePop("listed", "sd15")); len(as) != 0 {
		t.Fatalf("maintenance: served a stranger's request")
	}
	mine := e.submit(owner, imageRequest("for my own worker", "sd15"))
	if a := e.popOne(listedCred, imagePop("listed", "sd15")); a.Request.ID != mine.ID {
		t.Fatalf("maintenance: got %s, want the owner's %s", a.Request.ID, mine.ID)
	}

	mod := e.user("mod", 0)
	mod.User.Moderator = true
	if _, err := e.h.UpdateWorker(e.ctx, mod.User, listed.ID, horde.WorkerUpdate{Maintenance: &off, Paused: &on}); err != nil {
		t.Fatal(err)
	}
	if as, sk := e.pop(listedCred, imagePop("listed", "sd15")); len(as) != 0 || len(sk) != 0 {
		t.Fatalf("paused: got %d jobs, skipped %v", len(as), sk)
	}
}
