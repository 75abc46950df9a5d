package worker

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"strings"

	"golang.org/x/image/draw"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// ProceduralAlchemy is the alchemy backend with no model, for tests and
// demos. What it returns is honest about what it is: a caption and an
// interrogation built from the image's colours (and saying so), an nsfw
// verdict of false (it has no classifier), upscales resampled with
// Catmull-Rom, face fixers that return the image unchanged, and a
// strip_background that keys out the colour of the image's border.
type ProceduralAlchemy struct {
	// Format is the image forms' format: "webp" (the default) or "png"
	// (fast to encode: tests).
	Format string
}

var _ AlchemyBackend = ProceduralAlchemy{}

// maxAlchemyPixels bounds the source image a backend decodes (256 tiles of
// 512x512, the most a worker may take).
const maxAlchemyPixels = aihorde.MaxWorkerTiles * aihorde.TileSide * aihorde.TileSide

// Forms are every form hordebot serves.
func (ProceduralAlchemy) Forms() []string {
	return append(append([]string{}, aihorde.TextForms...), aihorde.PostProcessorForms...)
}

// Alchemize runs one form.
func (p ProceduralAlchemy) Alchemize(ctx context.Context, job AlchemyJob) (AlchemyResult, error) {
	if err := ctx.Err(); err != nil {
		return AlchemyResult{}, fmt.Errorf("procedural alchemy: %w", err)
	}
	img, err := decodeSource(job.Source)
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("procedural alchemy: form %s: %w", job.ID, err)
	}
	switch job.Form {
	case aihorde.FormCaption:
		return AlchemyResult{Value: colourCaption(img)}, nil
	case aihorde.FormInterrogation:
		return AlchemyResult{Value: colourInterrogation(img)}, nil
	case aihorde.FormNSFW:
		return AlchemyResult{Value: false}, nil
	}
	var out image.Image
	switch {
	case aihorde.Upscalers[job.Form] > 0:
		out = resample(img, aihorde.Upscalers[job.Form])
	case job.Form == aihorde.FormStripBackground:
		out = stripBorderColour(img)
	case job.Form == aihorde.FormGFPGAN || job.Form == aihorde.FormCodeFormers:
		out = img
	default:
		return AlchemyResult{}, fmt.Errorf("procedural alchemy: form %s: unknown form %q", job.ID, job.Form)
	}
	data, contentType, err := encodeAs(out, p.Format)
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("procedural alchemy: form %s: %w", job.ID, err)
	}
	return AlchemyResult{Image: data, ContentType: contentType}, nil
}

// decodeSource decodes a source image, refusing one too large to process.
func decodeSource(data []byte) (image.Image, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("empty source image")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("source image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxAlchemyPixels {
		return nil, fmt.Errorf("source image of %dx%d: too large", cfg.Width, cfg.Height)
	}
	img, _, err := decodeImage(data)
	return img, err
}

// resample scales img by factor with Catmull-Rom.
func resample(img image.Image, factor int) image.Image {
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx()*factor, b.Dy()*factor))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// stripBorderColour makes transparent the pixels close to the mean colour
// of the image's border: a naive background removal that is right for a
// subject on a plain backdrop.
func stripBorderColour(img image.Image) image.Image {
	b := img.Bounds()
	var sr, sg, sb, n float64
	add := func(x, y int) {
		r, g, bl := rgb8(img.At(x, y))
		sr, sg, sb, n = sr+r, sg+g, sb+bl, n+1
	}
	for x := b.Min.X; x < b.Max.X; x++ {
		add(x, b.Min.Y)
		add(x, b.Max.Y-1)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		add(b.Min.X, y)
		add(b.Max.X-1, y)
	}
	br, bg, bb := sr/n, sg/n, sb/n
	const tolerance = 40.0
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl := rgb8(img.At(x, y))
			c := color.NRGBA{R: uint8(r), G: uint8(g), B: uint8(bl), A: 255}
			if math.Sqrt((r-br)*(r-br)+(g-bg)*(g-bg)+(bl-bb)*(bl-bb)) <= tolerance {
				c.A = 0
			}
			dst.SetNRGBA(x-b.Min.X, y-b.Min.Y, c)
		}
	}
	return dst
}

// rgb8 is a colour's 8-bit red, green and blue.
func rgb8(c color.Color) (float64, float64, float64) {
	r, g, b, _ := c.RGBA()
	return float64(r >> 8), float64(g >> 8), float64(b >> 8)
}

// colourShare is one named colour and the share of the image's pixels
// nearest to it.
type colourShare struct {
	name  string
	share float64
}

// namedColours are the colours a procedural caption names.
var namedColours = []struct {
	name    string
	r, g, b float64
}{
	{"black", 0, 0, 0}, {"white", 255, 255, 255}, {"grey", 128, 128, 128},
	{"red", 220, 30, 30}, {"orange", 240, 140, 20}, {"yellow", 240, 220, 40},
	{"green", 40, 170, 60}, {"teal", 20, 150, 150}, {"blue", 40, 80, 220},
	{"purple", 130, 50, 180}, {"pink", 240, 130, 190}, {"brown", 120, 75, 40},
}

// colourStats samples img (at most about 64x64 points) and returns its
// named colours by share, most first, and its mean brightness and
// saturation (0..1).
func colourStats(img image.Image) ([]colourShare, float64, float64) {
	b := img.Bounds()
	stepX, stepY := max(b.Dx()/64, 1), max(b.Dy()/64, 1)
	counts := make([]float64, len(namedColours))
	var total, bright, sat float64
	for y := b.Min.Y; y < b.Max.Y; y += stepY {
		for x := b.Min.X; x < b.Max.X; x += stepX {
			r, g, bl := rgb8(img.At(x, y))
			best, bestD := 0, math.MaxFloat64
			for i, c := range namedColours {
				d := (r-c.r)*(r-c.r) + (g-c.g)*(g-c.g) + (bl-c.b)*(bl-c.b)
				if d < bestD {
					best, bestD = i, d
				}
			}
			counts[best]++
			hi, lo := max(r, g, bl), min(r, g, bl)
			bright += (hi + lo) / 2 / 255
			if hi > 0 {
				sat += (hi - lo) / hi
			}
			total++
		}
	}
	var shares []colourShare
	for i, n := range counts {
		if n > 0 {
			shares = append(shares, colourShare{name: namedColours[i].name, share: n / total})
		}
	}
	sort.SliceStable(shares, func(i, j int) bool { return shares[i].share > shares[j].share })
	return shares, bright / total, sat / total
}

// colourCaption describes img by its colours, e.g. "a bright, mostly blue
// image with white and grey, 512x512 (procedural caption from its colours)".
func colourCaption(img image.Image) string {
	shares, bright, sat := colourStats(img)
	tone := "a"
	switch {
	case bright > 0.65:
		tone = "a bright"
	case bright < 0.3:
		tone = "a dark"
	}
	if sat < 0.15 {
		tone += ", muted"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, mostly %s image", tone, shares[0].name)
	var others []string
	for _, s := range shares[1:] {
		if len(others) == 2 || s.share < 0.1 {
			break
		}
		others = append(others, s.name)
	}
	if len(others) > 0 {
		fmt.Fprintf(&b, " with %s", strings.Join(others, " and "))
	}
	fmt.Fprintf(&b, ", %dx%d (procedural caption from its colours)", img.Bounds().Dx(), img.Bounds().Dy())
	return b.String()
}

// colourInterrogation is an interrogation of img's colours: its colours as
// tags (confidence: their share of the pixels) and its brightness and
// saturation as flavors.
func colourInterrogation(img image.Image) aihorde.InterrogationDetails {
	shares, bright, sat := colourStats(img)
	d := aihorde.NewInterrogationDetails()
	for _, s := range shares {
		d.Tags = append(d.Tags, aihorde.InterrogationItem{Text: s.name, Confidence: round3(s.share)})
	}
	d.Flavors = append(d.Flavors,
		aihorde.InterrogationItem{Text: "bright", Confidence: round3(bright)},
		aihorde.InterrogationItem{Text: "colourful", Confidence: round3(sat)},
	)
	d.Techniques = append(d.Techniques, aihorde.InterrogationItem{Text: "procedural colour analysis", Confidence: 1})
	return d
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
