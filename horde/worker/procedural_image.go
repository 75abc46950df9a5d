package worker

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// proceduralImage draws a width x height picture determined by prompt and
// seed: a three-colour plasma (sums of sines with seeded frequencies and
// phases), a few translucent discs, and a black-and-white checker marker in
// the bottom-right corner that tells a test image from a model's.
func proceduralImage(prompt string, seed int64, width, height int) (*image.NRGBA, error) {
	if width < 1 || height < 1 || width > aihorde.MaxSide || height > aihorde.MaxSide {
		return nil, fmt.Errorf("size %dx%d: each side must be 1..%d", width, height, aihorde.MaxSide)
	}
	r := rand.New(rand.NewPCG(proceduralSeed(prompt, seed)))

	palette := [3][3]float64{}
	baseHue := r.Float64()
	for i := range palette {
		h := math.Mod(baseHue+float64(i)*(0.18+0.3*r.Float64()), 1)
		palette[i] = hsv(h, 0.55+0.45*r.Float64(), 0.35+0.65*r.Float64())
	}
	f1, f2, f3, f4 := 2+10*r.Float64(), 2+10*r.Float64(), 1+8*r.Float64(), 4+20*r.Float64()
	p1, p2, p3 := 2*math.Pi*r.Float64(), 2*math.Pi*r.Float64(), 2*math.Pi*r.Float64()
	cx, cy := r.Float64(), r.Float64()

	// Sines of x and of y alone are the same along a column or a row.
	colSin := make([]float64, width)
	for x := range colSin {
		colSin[x] = math.Sin(float64(x)/float64(width)*f1 + p1)
	}
	rowSin := make([]float64, height)
	for y := range rowSin {
		rowSin[y] = math.Sin(float64(y)/float64(height)*f2 + p2)
	}

	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		v := float64(y) / float64(height)
		row := img.Pix[y*img.Stride : y*img.Stride+width*4]
		for x := 0; x < width; x++ {
			u := float64(x) / float64(width)
			dx, dy := u-cx, v-cy
			s := colSin[x] + rowSin[y] + math.Sin((u+v)*f3+p3) + math.Sin(math.Sqrt(dx*dx+dy*dy)*f4)
			t := (s + 4) / 8 // 0..1
			c := gradient(&palette, t)
			o := x * 4
			row[o], row[o+1], row[o+2], row[o+3] = c[0], c[1], c[2], 255
		}
	}

	for n := 3 + r.IntN(4); n > 0; n-- {
		disc(img, r.Float64()*float64(width), r.Float64()*float64(height),
			(0.05+0.2*r.Float64())*float64(min(width, height)),
			hsv(r.Float64(), 0.3+0.7*r.Float64(), 0.5+0.5*r.Float64()), 0.25+0.35*r.Float64())
	}
	cornerMarker(img)
	return img, nil
}

// gradient interpolates the three-colour palette at t in [0,1].
func gradient(p *[3][3]float64, t float64) [3]uint8 {
	t = math.Max(0, math.Min(1, t))
	a, b, k := p[0], p[1], t*2
	if t > 0.5 {
		a, b, k = p[1], p[2], (t-0.5)*2
	}
	var out [3]uint8
	for i := range out {
		out[i] = uint8(255*(a[i]+(b[i]-a[i])*k) + 0.5)
	}
	return out
}

// disc blends a filled circle of colour c at opacity alpha.
func disc(img *image.NRGBA, cx, cy, radius float64, c [3]float64, alpha float64) {
	b := img.Bounds()
	x0, x1 := max(b.Min.X, int(cx-radius)), min(b.Max.X, int(cx+radius)+1)
	y0, y1 := max(b.Min.Y, int(cy-radius)), min(b.Max.Y, int(cy+radius)+1)
	r2 := radius * radius
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			if dx*dx+dy*dy > r2 {
				continue
			}
			o := img.PixOffset(x, y)
			for i := 0; i < 3; i++ {
				img.Pix[o+i] = uint8(float64(img.Pix[o+i])*(1-alpha) + 255*c[i]*alpha + 0.5)
			}
		}
	}
}

// cornerMarker draws a 4x4 black-and-white checker in the bottom-right
// corner, a quarter of a 16th of the short side per cell (at least 2 px).
func cornerMarker(img *image.NRGBA) {
	b := img.Bounds()
	cell := max(2, min(b.Dx(), b.Dy())/64)
	const cells = 4
	x0, y0 := b.Max.X-cells*cell, b.Max.Y-cells*cell
	for y := max(b.Min.Y, y0); y < b.Max.Y; y++ {
		for x := max(b.Min.X, x0); x < b.Max.X; x++ {
			v := uint8(0)
			if ((x-x0)/cell+(y-y0)/cell)%2 == 0 {
				v = 255
			}
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
}

// hsv converts hue, saturation, value in [0,1] to RGB in [0,1].
func hsv(h, s, v float64) [3]float64 {
	h = math.Mod(h, 1) * 6
	i := math.Floor(h)
	f := h - i
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch int(i) % 6 {
	case 0:
		return [3]float64{v, t, p}
	case 1:
		return [3]float64{q, v, p}
	case 2:
		return [3]float64{p, v, t}
	case 3:
		return [3]float64{p, q, v}
	case 4:
		return [3]float64{t, p, v}
	default:
		return [3]float64{v, p, q}
	}
}
