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

// TestEncodeGrid checks the grid as posted: a JPEG within the limit that
// shows each image in its cell on the dark background, falling back to
// smaller encodings for a small limit.
func TestEncodeGrid(t *testing.T) {
	four := []image.Image{solid(300, 300, red), solid(300, 300, green), solid(300, 300, blue), solid(200, 200, white)}
	bg := color.NRGBA{0x20, 0x22, 0x25, 0xff}
	tests := []struct {
		name         string
		images       []image.Image
		limit        int
		wantExt      string
		wantW, wantH int
		probes       map[image.Point]color.NRGBA
	}{
		{"four in a 2x2", four, 10 << 20, "jpg", 608, 608, map[image.Point]color.NRGBA{
			{150, 150}: red, {458, 150}: green, {150, 458}: blue, {458, 458}: white,
			{304, 150}: bg, {458, 320}: bg, // the gap; around the smaller image
		}},
		{"two side by side", four[:2], 0, "jpg", 608, 300, map[image.Point]color.NRGBA{{150, 150}: red, {458, 150}: green}},
		{"one as it is", four[3:], 0, "jpg", 200, 200, map[image.Point]color.NRGBA{{100, 100}: white}},
		{"a small limit still fits", []image.Image{noise(256, 256, 1), noise(256, 256, 2), noise(256, 256, 3), noise(256, 256, 4)}, 40 << 10, "jpg", 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, ext, err := commands.EncodeGrid(tt.images, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if ext != tt.wantExt || (tt.limit > 0 && len(data) > tt.limit) {
				t.Fatalf("ext %s, %d bytes (limit %d), want %s within the limit", ext, len(data), tt.limit, tt.wantExt)
			}
			g, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("the grid does not decode as JPEG: %v", err)
			}
			if b := g.Bounds(); tt.wantW > 0 && (b.Dx() != tt.wantW || b.Dy() != tt.wantH) {
				t.Fatalf("grid is %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			for p, want := range tt.probes {
				if got := color.NRGBAModel.Convert(g.At(p.X, p.Y)).(color.NRGBA); !near(got, want, 12) {
					t.Errorf("pixel %v is %v, want about %v", p, got, want)
				}
			}
		})
	}
	if _, _, err := commands.EncodeGrid(nil, 0); err == nil {
		t.Error("a grid of nothing encoded without an error")
	}
}

// near reports whether two colours differ by at most tol in every channel.
func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return abs(int(x)-int(y)) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestDecodeImages: each result is its own image's, in order, and a broken
// image fails alone.
func TestDecodeImages(t *testing.T) {
	enc := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	var j bytes.Buffer
	if err := jpeg.Encode(&j, solid(16, 16, red), nil); err != nil {
		t.Fatal(err)
	}
	got := commands.DecodeImages([][]byte{enc(solid(10, 10, red)), []byte("not an image"), j.Bytes(), enc(solid(30, 20, blue))})
	want := []struct {
		format string
		w      int
		err    bool
	}{{"png", 10, false}, {"", 0, true}, {"jpeg", 16, false}, {"png", 30, false}}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i, w := range want {
		if g := got[i]; (g.Err != nil) != w.err || g.Format != w.format || (g.Image != nil && g.Image.Bounds().Dx() != w.w) {
			t.Errorf("image %d: %+v, want %+v", i, g, w)
		}
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
		if _, _, err := commands.EncodeGrid(imgs, 10<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGridFromPNG is the whole job that ImageMagick's montage does on
// files, in memory: decode four 1024x1024 PNGs, compose and encode the grid
// as the bot posts it (DecodeImages, EncodeGrid within Discord's 10 MiB).
// Opaque noise, as in bench.sh's montage run.
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
		for _, d := range commands.DecodeImages(files) {
			if d.Err != nil {
				b.Fatal(d.Err)
			}
			imgs = append(imgs, d.Image)
		}
		if _, _, err := commands.EncodeGrid(imgs, 10<<20); err != nil {
			b.Fatal(err)
		}
	}
}
