package commands

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"runtime"
	"sync"

	"github.com/disintegration/imaging"
)

// gridGap is the space between the cells of a grid, in pixels.
const gridGap = 8

// gridBackground is the colour of the gaps, and of a cell around a smaller
// image: Discord's dark theme.
var gridBackground = color.RGBA{0x20, 0x22, 0x25, 0xff}

// gridQualities are the JPEG qualities EncodeGrid tries, best first. At 90
// a grid of generated images looks like its PNG in Discord's viewer, at a
// fraction of the bytes and of the encoding time.
var gridQualities = []int{90, 80, 65}

// gridLayout is where the images of a grid go.
type gridLayout struct {
	imgs   []image.Image
	opaque []bool // an opaque image is copied, another drawn over the background
	cw, ch int    // cell size: the largest image's
	cols   int
	size   image.Point
}

// layoutGrid places up to four images: one image as it is, two side by
// side (1x2), three or four in a 2x2 grid. Every cell has the size of the
// largest image; a smaller image is centred in its cell. Images beyond the
// fourth are ignored. It reports false for no images.
func layoutGrid(images []image.Image) (gridLayout, bool) {
	var g gridLayout
	for _, im := range images {
		if im != nil && len(g.imgs) < 4 {
			g.imgs = append(g.imgs, im)
		}
	}
	if len(g.imgs) == 0 {
		return g, false
	}
	for _, im := range g.imgs {
		b := im.Bounds()
		g.cw = max(g.cw, b.Dx())
		g.ch = max(g.ch, b.Dy())
		o, ok := im.(interface{ Opaque() bool })
		g.opaque = append(g.opaque, ok && o.Opaque())
	}
	rows := 1
	g.cols = 2
	switch len(g.imgs) {
	case 1:
		g.cols = 1
	case 3, 4:
		rows = 2
	}
	g.size = image.Pt(g.cols*g.cw+(g.cols-1)*gridGap, rows*g.ch+(rows-1)*gridGap)
	return g, true
}

// draw fills dst, whose bounds are a band of the grid's rows, with that band
// of the grid.
func (g gridLayout) draw(dst *image.RGBA) {
	draw.Draw(dst, dst.Bounds(), image.NewUniform(gridBackground), image.Point{}, draw.Src)
	for i, im := range g.imgs {
		b := im.Bounds()
		at := image.Pt((i%g.cols)*(g.cw+gridGap)+(g.cw-b.Dx())/2, (i/g.cols)*(g.ch+gridGap)+(g.ch-b.Dy())/2)
		r := image.Rectangle{Min: at, Max: at.Add(b.Size())}.Intersect(dst.Bounds())
		if r.Empty() {
			continue
		}
		op := draw.Over
		if g.opaque[i] {
			op = draw.Src
		}
		draw.Draw(dst, r, im, b.Min.Add(r.Min.Sub(at)), op)
	}
}

// Decoded is one decoded image, or why it could not be decoded.
type Decoded struct {
	Image  image.Image
	Format string // as image.Decode names it: "png", "jpeg", "webp"...
	Err    error
}

// DecodeImages decodes images (in any registered format) in parallel, on
// every CPU: the results of one request are decoded at once before their
// grid is drawn. The i-th result is the i-th image's.
func DecodeImages(images [][]byte) []Decoded {
	out := make([]Decoded, len(images))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, data := range images {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// The horde checks a WebP's structure, not its pixels: a decoder
			// that panics on what follows a whole header fails this image only.
			defer func() {
				if p := recover(); p != nil {
					out[i] = Decoded{Err: fmt.Errorf("decode image %d: %v", i+1, p)}
				}
			}()
			img, format, err := image.Decode(bytes.NewReader(data))
			out[i] = Decoded{Image: img, Format: format, Err: err}
		}()
	}
	wg.Wait()
	return out
}

// ComposeGrid lays out up to four images (see layoutGrid) on the grid's
// background; one image is returned as it is. It returns nil for no images.
func ComposeGrid(images []image.Image) image.Image {
	g, ok := layoutGrid(images)
	if !ok {
		return nil
	}
	if len(g.imgs) == 1 {
		return g.imgs[0]
	}
	dst := image.NewRGBA(image.Rectangle{Max: g.size})
	g.draw(dst)
	return dst
}

// EncodeGrid lays out images as ComposeGrid does and encodes the grid as
// JPEG of falling quality until it fits in limit bytes (limit <= 0: no
// limit), then, failing that, as EncodeWithin does. It returns the bytes and
// the file extension ("jpg", or what EncodeWithin chose).
//
// The grid is drawn and encoded in bands on every CPU: it is the largest
// image the bot makes, and a PNG of it took longer than ImageMagick's
// montage of the same images.
func EncodeGrid(images []image.Image, limit int) ([]byte, string, error) {
	g, ok := layoutGrid(images)
	if !ok {
		return nil, "", fmt.Errorf("encode grid: no image")
	}
	for _, q := range gridQualities {
		data, err := encodeJPEGBands(g.size, q, g.draw)
		if err != nil {
			return nil, "", fmt.Errorf("encode grid: %w", err)
		}
		if limit <= 0 || len(data) <= limit {
			return data, "jpg", nil
		}
	}
	return EncodeWithin(ComposeGrid(images), limit)
}

// jpegBandRows is the height of one band of a banded JPEG: a multiple of
// the 16-row MCU of 4:2:0, small enough for bands to share the CPUs evenly
// and to stay in cache.
const jpegBandRows = 128

// encodeJPEGBands encodes an image of the given size as baseline JPEG of
// quality q. fill draws the rows of its argument's bounds. The bands are
// drawn and encoded by image/jpeg in parallel and joined into one scan with
// restart markers (a decoder resets its DC predictors at each, which is all
// that differs between a band encoded alone and inside the whole image), so
// the result decodes to exactly the pixels of a one-piece jpeg.Encode.
func encodeJPEGBands(size image.Point, q int, fill func(dst *image.RGBA)) ([]byte, error) {
	if size.X <= 0 || size.Y <= 0 || size.X >= 1<<16 || size.Y >= 1<<16 {
		return nil, fmt.Errorf("cannot encode a %dx%d JPEG", size.X, size.Y)
	}
	nBands := (size.Y + jpegBandRows - 1) / jpegBandRows
	bands := make([][]byte, nBands)
	errs := make([]error, nBands)
	next := make(chan int, nBands)
	for i := range nBands {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), nBands) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pix := make([]byte, 4*size.X*jpegBandRows)
			var buf bytes.Buffer
			for i := range next {
				y0 := i * jpegBandRows
				band := &image.RGBA{Pix: pix, Stride: 4 * size.X, Rect: image.Rect(0, y0, size.X, min(y0+jpegBandRows, size.Y))}
				fill(band)
				buf.Reset()
				if err := jpeg.Encode(&buf, band, &jpeg.Options{Quality: q}); err != nil {
					errs[i] = err
					continue
				}
				bands[i] = bytes.Clone(buf.Bytes())
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	if nBands == 1 {
		return bands[0], nil
	}
	return joinJPEGBands(bands, size.Y, (size.X+15)/16*(jpegBandRows/16))
}

// joinJPEGBands joins the baseline JPEGs of horizontal bands, each but the
// last mcus 16x16 MCUs, into one JPEG of the given height: the first band's
// headers with the height patched and a restart interval of one band, then
// every band's scan, separated by RST0..RST7 in turn.
func joinJPEGBands(bands [][]byte, height, mcus int) ([]byte, error) {
	if mcus >= 1<<16 {
		return nil, fmt.Errorf("join jpeg bands: %d MCUs per band", mcus)
	}
	header, sos, _, err := jpegParts(bands[0])
	if err != nil {
		return nil, err
	}
	total := len(header) + len(sos) + 2*len(bands) + 8
	scans := make([][]byte, len(bands))
	for i, b := range bands {
		if _, _, scans[i], err = jpegParts(b); err != nil {
			return nil, err
		}
		total += len(scans[i])
	}
	out := make([]byte, 0, total)
	out = append(out, 0xff, 0xd8) // SOI
	for seg := header; len(seg) > 0; {
		n := 2 + int(binary.BigEndian.Uint16(seg[2:]))
		start := len(out)
		out = append(out, seg[:n]...)
		if seg[1] == 0xc0 { // SOF0: precision, height, width, ...
			binary.BigEndian.PutUint16(out[start+5:], uint16(height))
		}
		seg = seg[n:]
	}
	out = append(out, 0xff, 0xdd, 0, 4, byte(mcus>>8), byte(mcus)) // DRI
	out = append(out, sos...)
	for i, s := range scans {
		if i > 0 {
			out = append(out, 0xff, 0xd0+byte((i-1)%8)) // RSTn
		}
		out = append(out, s...)
	}
	return append(out, 0xff, 0xd9), nil // EOI
}

// jpegParts splits a JPEG as image/jpeg writes it (SOI, marker segments,
// one SOS, its entropy-coded data, EOI) into the segments between SOI and
// SOS, the SOS segment and the entropy-coded data.
func jpegParts(b []byte) (header, sos, scan []byte, err error) {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 || b[len(b)-2] != 0xff || b[len(b)-1] != 0xd9 {
		return nil, nil, nil, fmt.Errorf("split jpeg: no SOI/EOI")
	}
	for pos := 2; pos+4 <= len(b); {
		if b[pos] != 0xff {
			return nil, nil, nil, fmt.Errorf("split jpeg: no marker at byte %d", pos)
		}
		end := pos + 2 + int(binary.BigEndian.Uint16(b[pos+2:]))
		if end > len(b)-2 {
			return nil, nil, nil, fmt.Errorf("split jpeg: segment at byte %d runs past the end", pos)
		}
		if b[pos+1] == 0xda {
			return b[2:pos], b[pos:end], b[end : len(b)-2], nil
		}
		pos = end
	}
	return nil, nil, nil, fmt.Errorf("split jpeg: no SOS")
}

// EncodeWithin encodes img as PNG, or, when the PNG is larger than limit
// bytes, as JPEG of falling quality and then at smaller sizes until it fits.
// It returns the bytes and the file extension ("png" or "jpg").
func EncodeWithin(img image.Image, limit int) ([]byte, string, error) {
	if img == nil {
		return nil, "", fmt.Errorf("encode image: no image")
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, "", fmt.Errorf("encode png: %w", err)
	}
	if limit <= 0 || buf.Len() <= limit {
		return buf.Bytes(), "png", nil
	}
	cur := img
	for range 4 {
		for _, q := range []int{90, 80, 65} {
			buf.Reset()
			if err := jpeg.Encode(&buf, cur, &jpeg.Options{Quality: q}); err != nil {
				return nil, "", fmt.Errorf("encode jpeg: %w", err)
			}
			if buf.Len() <= limit {
				return buf.Bytes(), "jpg", nil
			}
		}
		b := cur.Bounds()
		if b.Dx() < 128 || b.Dy() < 128 {
			break
		}
		cur = imaging.Resize(cur, b.Dx()/2, 0, imaging.Linear)
	}
	return nil, "", fmt.Errorf("image does not fit in %d bytes", limit)
}
