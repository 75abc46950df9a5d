package imagecheck

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// WebP chunk names (RIFF FourCCs).
const (
	fccVP8  = "VP8 "
	fccVP8L = "VP8L"
	fccVP8X = "VP8X"
	fccALPH = "ALPH"
)

// vp8xAlpha is the only VP8X flag the decoder takes (golang.org/x/image/webp
// refuses animation, ICC, EXIF and XMP).
const vp8xAlpha = 1 << 4

// webpSize checks the structure of a WebP without decoding its pixels and
// returns the image's size. It takes what golang.org/x/image/webp decodes,
// and nothing else: a RIFF "WEBP" container that ends where its size says
// (a pad byte allowed), holding either one "VP8 " (lossy) or "VP8L"
// (lossless) chunk, or a "VP8X" header with only the alpha flag, an "ALPH"
// chunk and a "VP8 " chunk of the canvas's size, and no other chunk. Each
// chunk fits in the container; a lossy frame is a key frame with the VP8
// start code whose first partition fits in its chunk; a lossless one has
// the VP8L signature and version 0; raw alpha holds a byte per pixel.
//
// The full decode costs time with the pixels (most of a submit's CPU at
// 64x64, tens of milliseconds at 1024x1024) and told little more: that the
// entropy-coded data did not run out.
func webpSize(data []byte) (width, height int, err error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return 0, 0, errors.New("no RIFF WEBP container")
	}
	size := uint64(binary.LittleEndian.Uint32(data[4:8])) + 8
	if size != uint64(len(data)) && size+1 != uint64(len(data)) { // a pad byte is allowed
		return 0, 0, fmt.Errorf("the RIFF container holds %d bytes and %d were sent", size, len(data))
	}
	chunks, err := riffChunks(data[12:size])
	if err != nil {
		return 0, 0, err
	}
	switch chunks[0].id {
	case fccVP8:
		if len(chunks) != 1 {
			return 0, 0, errors.New("a lossy WebP holds one chunk")
		}
		return vp8Size(chunks[0].data)
	case fccVP8L:
		if len(chunks) != 1 {
			return 0, 0, errors.New("a lossless WebP holds one chunk")
		}
		return vp8lSize(chunks[0].data)
	case fccVP8X:
		return vp8xSize(chunks)
	}
	return 0, 0, fmt.Errorf("the first chunk is %q, not VP8, VP8L or VP8X", chunks[0].id)
}

// chunk is one RIFF chunk: its FourCC and its payload.
type chunk struct {
	id   string
	data []byte
}

// riffChunks splits a RIFF form's body (after "WEBP") into its chunks, each
// padded to an even length; every chunk must fit and the last end the body.
func riffChunks(body []byte) ([]chunk, error) {
	var out []chunk
	for len(body) > 0 {
		if len(body) < 8 {
			return nil, errors.New("a chunk header is cut short")
		}
		n := uint64(binary.LittleEndian.Uint32(body[4:8]))
		if n > uint64(len(body)-8) {
			return nil, fmt.Errorf("chunk %q says %d bytes and %d are left", body[:4], n, len(body)-8)
		}
		out = append(out, chunk{id: string(body[:4]), data: body[8 : 8+n]})
		body = body[8+n:]
		if n%2 == 1 && len(body) > 0 { // the pad byte; a last one may be missing
			body = body[1:]
		}
		if len(out) > 3 {
			return nil, errors.New("too many chunks")
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the container is empty")
	}
	return out, nil
}

// vp8Size checks a lossy frame's header and returns its size.
func vp8Size(b []byte) (int, int, error) {
	if len(b) < 10 {
		return 0, 0, errors.New("the VP8 frame header is cut short")
	}
	if b[0]&1 != 0 {
		return 0, 0, errors.New("the VP8 frame is not a key frame")
	}
	if b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
		return 0, 0, errors.New("the VP8 start code is missing")
	}
	first := uint32(b[0])>>5 | uint32(b[1])<<3 | uint32(b[2])<<11
	if uint64(first) > uint64(len(b)-10) {
		return 0, 0, fmt.Errorf("the VP8 first partition says %d bytes and %d are left", first, len(b)-10)
	}
	w := int(b[7]&0x3f)<<8 | int(b[6])
	h := int(b[9]&0x3f)<<8 | int(b[8])
	if w == 0 || h == 0 {
		return 0, 0, errors.New("the VP8 frame is empty")
	}
	return w, h, nil
}

// vp8lSize checks a lossless image's header and returns its size.
func vp8lSize(b []byte) (int, int, error) {
	if len(b) < 5 || b[0] != 0x2f {
		return 0, 0, errors.New("the VP8L signature is missing")
	}
	bits := binary.LittleEndian.Uint32(b[1:5])
	if version := bits >> 29; version != 0 {
		return 0, 0, fmt.Errorf("VP8L version %d is not taken", version)
	}
	return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, nil
}

// vp8xSize checks an extended WebP (VP8X, ALPH, VP8) and returns its size.
func vp8xSize(chunks []chunk) (int, int, error) {
	x := chunks[0].data
	if len(x) != 10 {
		return 0, 0, errors.New("the VP8X header is not 10 bytes")
	}
	if x[0] != vp8xAlpha {
		return 0, 0, fmt.Errorf("VP8X features %#02x are not taken (only alpha)", x[0])
	}
	w := int(uint32(x[4])|uint32(x[5])<<8|uint32(x[6])<<16) + 1
	h := int(uint32(x[7])|uint32(x[8])<<8|uint32(x[9])<<16) + 1
	if len(chunks) != 3 || chunks[1].id != fccALPH || chunks[2].id != fccVP8 {
		return 0, 0, errors.New("an extended WebP holds VP8X, ALPH and VP8 chunks, in that order")
	}
	a := chunks[1].data
	if len(a) < 1 {
		return 0, 0, errors.New("the ALPH chunk is empty")
	}
	switch a[0] & 0x03 {
	case 0: // raw: a byte per pixel
		if uint64(len(a)-1) < uint64(w)*uint64(h) {
			return 0, 0, fmt.Errorf("the raw alpha holds %d bytes for %dx%d pixels", len(a)-1, w, h)
		}
	case 1: // lossless-coded
		if w > 1<<14 || h > 1<<14 {
			return 0, 0, fmt.Errorf("lossless alpha of %dx%d is too large", w, h)
		}
	default:
		return 0, 0, fmt.Errorf("alpha compression %d is not taken", a[0]&0x03)
	}
	fw, fh, err := vp8Size(chunks[2].data)
	if err != nil {
		return 0, 0, err
	}
	if fw != w || fh != h {
		return 0, 0, fmt.Errorf("the VP8X canvas is %dx%d and its frame %dx%d", w, h, fw, fh)
	}
	return w, h, nil
}
