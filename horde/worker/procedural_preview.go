package worker

import (
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"time"
)

// maxProceduralSteps bounds the steps a paced procedural job walks
// through, so that a job of many steps still ends within its TTL's reach.
const maxProceduralSteps = 200

// walkSteps paces an image job as a diffusion model would: one StepTime
// per step of the job, offering job.Preview the picture as it stands after
// each step but the last (partialRender). It ends early, with an error,
// when ctx does.
func (p *Procedural) walkSteps(ctx context.Context, job Job, final *image.NRGBA) error {
	steps := min(max(job.Image.Steps, 1), maxProceduralSteps)
	for i := 1; i <= steps; i++ {
		if err := sleepCtx(ctx, min(p.StepTime, MaxProceduralStepTime)); err != nil {
			return fmt.Errorf("procedural: job %s at step %d of %d: %w", job.ID, i, steps, err)
		}
		if job.Preview != nil && i < steps {
			job.Preview(partialRender(final, float64(i)/float64(steps), job.Seed))
		}
	}
	return nil
}

// partialRender is final as a denoising model shows it a fraction done
// (0..1) of the way: coarse blocks of its colours under seeded noise, both
// fading as done grows. It returns a new image.
func partialRender(final *image.NRGBA, done float64, seed int64) *image.NRGBA {
	done = min(max(done, 0), 1)
	b := final.Bounds()
	out := image.NewNRGBA(b)
	block := 1 + int((1-done)*24)
	noise := (1 - done) * (1 - done)
	r := rand.New(rand.NewPCG(uint64(seed), 0x5EED))
	w, h := b.Dx(), b.Dy()
	for by := 0; by < h; by += block {
		for bx := 0; bx < w; bx += block {
			var sum [3]int
			n := 0
			for y := by; y < min(by+block, h); y++ {
				for x := bx; x < min(bx+block, w); x++ {
					o := y*final.Stride + x*4
					sum[0] += int(final.Pix[o])
					sum[1] += int(final.Pix[o+1])
					sum[2] += int(final.Pix[o+2])
					n++
				}
			}
			for y := by; y < min(by+block, h); y++ {
				for x := bx; x < min(bx+block, w); x++ {
					o := y*out.Stride + x*4
					grey := float64(r.IntN(256))
					for c := range 3 {
						v := (1-noise)*float64(sum[c]/n) + noise*grey
						out.Pix[o+c] = uint8(min(max(v, 0), 255))
					}
					out.Pix[o+3] = 255
				}
			}
		}
	}
	return out
}

// MaxProceduralStepTime bounds Procedural.StepTime: it is a test backend,
// not a means to hold jobs for hours.
const MaxProceduralStepTime = 10 * time.Second
