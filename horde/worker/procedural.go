package worker

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// ProceduralModel is the model name the procedural backend serves.
const ProceduralModel = "procedural"

// proceduralNote is the gen_metadata that marks every procedural result, so
// nobody mistakes it for a real model's output.
var proceduralNote = aihorde.GenMetadata{Type: "information", Value: "procedural test backend"}

// Procedural is a backend with no GPU and no model: it draws a deterministic
// picture (plasma, shapes and a corner marker) or writes deterministic text
// from the prompt and the seed. A job with source images uses them
// honestly, with no model (applySources): img2img blends the source by the
// denoising strength, in- and outpainting paint only the masked area, a
// remix averages its images. The same prompt and seed always give the
// same output; different prompts give visibly different ones. It exists for
// tests, demos and wiring checks, and says so in every result's metadata.
//
// With a StepTime, an image job takes that long per step (up to 200 steps),
// as a GPU would, and shows its partial render to the job's Preview after
// each step (live previews); with none (the default) it is drawn at once.
type Procedural struct {
	StepTime time.Duration // per step of an image job; 0: none; at most MaxProceduralStepTime
	// Format is the result images' format: "webp" (the default, the AI
	// Horde's) or "png" (lossless, and encoded in a few milliseconds where
	// WebP takes far longer: tests).
	Format string
}

var _ BatchBackend = (*Procedural)(nil)

// NewProcedural returns the procedural backend.
func NewProcedural() *Procedural { return &Procedural{} }

// Generate draws or writes the job's output.
func (p *Procedural) Generate(ctx context.Context, job Job) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("procedural: %w", err)
	}
	switch job.Kind {
	case aihorde.KindImage:
		if job.Image == nil {
			return Result{}, fmt.Errorf("procedural: image job %s has no image parameters", job.ID)
		}
		img, err := proceduralImage(job.Prompt, job.Seed, job.Image.Width, job.Image.Height)
		if err != nil {
			return Result{}, fmt.Errorf("procedural: job %s: %w", job.ID, err)
		}
		if err := applySources(img, job.Image); err != nil {
			return Result{}, fmt.Errorf("procedural: job %s: %w", job.ID, err)
		}
		if p.StepTime > 0 {
			if err := p.walkSteps(ctx, job, img); err != nil {
				return Result{}, err
			}
		}
		data, contentType, err := encodeAs(img, p.Format)
		if err != nil {
			return Result{}, fmt.Errorf("procedural: job %s: %w", job.ID, err)
		}
		return Result{
			Image:       data,
			ContentType: contentType,
			Seed:        job.Seed,
			State:       aihorde.StateOK,
			Metadata:    []aihorde.GenMetadata{proceduralNote},
		}, nil
	case aihorde.KindText:
		maxLen := 80
		if job.Text != nil && job.Text.MaxLength > 0 {
			maxLen = job.Text.MaxLength
		}
		return Result{
			Text:     proceduralText(job.Prompt, job.Seed, maxLen),
			Seed:     job.Seed,
			State:    aihorde.StateOK,
			Metadata: []aihorde.GenMetadata{proceduralNote},
		}, nil
	default:
		return Result{}, fmt.Errorf("procedural: job %s: unknown kind %q", job.ID, job.Kind)
	}
}

// GenerateBatch draws n images of an image job, image i with seed
// job.BatchSeed(i): the same pictures as n jobs of those seeds.
func (p *Procedural) GenerateBatch(ctx context.Context, job Job, n int) ([]Result, error) {
	if job.Kind != aihorde.KindImage {
		return nil, fmt.Errorf("procedural: job %s: only image jobs batch", job.ID)
	}
	out := make([]Result, 0, n)
	for i := range n {
		one := job
		one.Seed, one.SeedStep = job.BatchSeed(i), 0
		res, err := p.Generate(ctx, one)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// proceduralSeed mixes the prompt's FNV-1a hash with the seed.
func proceduralSeed(prompt string, seed int64) (uint64, uint64) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(prompt)) // hash.Hash writes never fail
	ph := h.Sum64()
	return ph, uint64(seed)*0x9E3779B97F4A7C15 ^ 0xD1B54A32D192ED03
}
