package commands_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/hordebot/hordebot/commands"
)

func solid(w, h int, c color.NRGBA) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for p := 0; p < len(img.Pix); p += 4 {
		img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = c.R, c.G, c.B, c.A
	}
	return img
}

func noise(w, h int, seed uint64) image.Image {
	r := rand.New(rand.NewPCG(seed, seed))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for p := range img.Pix {
		img.Pix[p] = byte(r.Uint32())
	}
	return img
}

var (
	red   = color.NRGBA{255, 0, 0, 255}
	green = color.NRGBA{0, 255, 0, 255}
	blue  = color.NRGBA{0, 0, 255, 255}
	white = color.NRGBA{255, 255, 255, 255}
)

func TestComposeGrid(t *testing.T) {
	four := []image.Image{solid(64, 64, red), solid(64, 64, green), solid(64, 64, blue), solid(64, 64, white)}
	tests := []struct {
		name         string
		images       []image.Image
		wantW, wantH int
		// probes: a point and the colour it must have
		probes map[image.Point]color.NRGBA
	}{
		{"one image as it is", four[:1], 64, 64, map[image.Point]color.NRGBA{{32, 32}: red}},
		{"two side by side", four[:2], 136, 64, map[image.Point]color.NRGBA{{10, 10}: red, {130, 10}: green}},
		{"three in a 2x2", four[:3], 136, 136, map[image.Point]color.NRGBA{{130, 10}: green, {10, 130}: blue}},
		{"four in a 2x2", four, 136, 136, map[image.Point]color.NRGBA{{10, 10}: red, {130, 10}: green, {10, 130}: blue, {130, 130}: white}},
		{"a fifth is ignored", append(append([]image.Image{}, four...), solid(64, 64, red)), 136, 136, nil},
		{"a smaller image is centred", []image.Image{solid(64, 64, red), solid(32, 32, green)}, 136, 64,
			map[image.Point]color.NRGBA{{72 + 16 + 1, 16 + 1}: green, {72 + 2, 2}: {0x20, 0x22, 0x25, 0xff}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := commands.ComposeGrid(tt.images)
			if b := g.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Fatalf("grid is %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			for p, want := range tt.probes {
				if got := color.NRGBAModel.Convert(g.At(p.X, p.Y)).(color.NRGBA); got != want {
					t.Errorf("pixel %v is %v, want %v", p, got, want)
				}
			}
		})
	}
	if commands.ComposeGrid(nil) != nil {
		t.Error("a grid of nothing is not nil")
	}
}

func TestEncodeWithin(t *testing.T) {
	big := commands.ComposeGrid([]image.Image{noise(256, 256, 1), noise(256, 256, 2), noise(256, 256, 3), noise(256, 256, 4)})
	tests := []struct {
		name    string
		img     image.Image
		limit   int
		wantExt string
		wantErr bool
	}{
		{"small image stays PNG", solid(64, 64, red), 1 << 20, "png", false},
		{"too big for PNG becomes JPEG", big, 200 << 10, "jpg", false},
		{"impossible limit fails", big, 100, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, ext, err := commands.EncodeWithin(tt.img, tt.limit)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %d bytes, want an error", len(data))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ext != tt.wantExt || len(data) > tt.limit {
				t.Fatalf("ext %s, %d bytes (limit %d), want %s", ext, len(data), tt.limit, tt.wantExt)
			}
			dec := png.Decode
			if ext == "jpg" {
				dec = jpeg.Decode
			}
			if _, err := dec(bytes.NewReader(data)); err != nil {
				t.Fatalf("output does not decode as %s: %v", ext, err)
			}
		})
	}
}

// BenchmarkComposeGrid composes four 1024x1024 images into a 2x2 grid.
func BenchmarkComposeGrid(b *testing.B) {
	imgs := []image.Image{noise(1024, 1024, 1), noise(1024, 1024, 2), noise(1024, 1024, 3), noise(1024, 1024, 4)}
	b.ResetTimer()
	for range b.N {
		if commands.ComposeGrid(imgs) == nil {
			b.Fatal("no grid")
		}
	}
}

// BenchmarkComposeAndEncodeGrid adds encoding within Discord's 10 MiB limit.
func BenchmarkComposeAndEncodeGrid(b *testing.B) {
	imgs := []image.Image{noise(1024, 1024, 1), noise(1024, 1024, 2), noise(1024, 1024, 3), noise(1024, 1024, 4)}
	b.ResetTimer()
	for range b.N {
		if _, _, err := commands.EncodeWithin(commands.ComposeGrid(imgs), 10<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGridFromPNG is the whole job that ImageMagick's montage does on
// files, in memory: decode four 1024x1024 PNGs, compose, encode the grid as
// PNG (what the bot sends when it fits). Opaque noise, as in bench.sh's montage run.
func BenchmarkGridFromPNG(b *testing.B) {
	var files [][]byte
	for i := uint64(1); i <= 4; i++ {
		img := noise(1024, 1024, i).(*image.NRGBA)
		for p := 3; p < len(img.Pix); p += 4 {
			img.Pix[p] = 255
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			b.Fatal(err)
		}
		files = append(files, buf.Bytes())
	}
	b.ResetTimer()
	for range b.N {
		imgs := make([]image.Image, 0, 4)
		for _, f := range files {
			img, err := png.Decode(bytes.NewReader(f))
			if err != nil {
				b.Fatal(err)
			}
			imgs = append(imgs, img)
		}
		var out bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, commands.ComposeGrid(imgs)); err != nil {
			b.Fatal(err)
		}
	}
}
