package api

import (
	"encoding/base64"
	"time"
)

// Timeouts bound how long a route may take to read its request body and to
// write its answer, counted from when its handler starts. A client that
// trickles its body is cut off at the read deadline, and one that does not
// read its answer at the write deadline. Zero fields take the defaults.
type Timeouts struct {
	// Read is for ordinary routes: pops, submits of R2 results, checks,
	// transfers (default 30 s).
	Read time.Duration
	// LargeRead is for image requests (a base64 source image) and inline
	// image submits (default 2 min).
	LargeRead time.Duration
	// Upload is for r2 PUTs of a raw result image (default 5 min).
	Upload time.Duration
	// Write is for ordinary answers (default 1 min).
	Write time.Duration
	// LargeWrite is for answers that carry images: results, statuses with
	// inline base64 images, worker lists (default 5 min).
	LargeWrite time.Duration
}

// Default timeouts.
const (
	DefaultReadTimeout       = 30 * time.Second
	DefaultLargeReadTimeout  = 2 * time.Minute
	DefaultUploadTimeout     = 5 * time.Minute
	DefaultWriteTimeout      = time.Minute
	DefaultLargeWriteTimeout = 5 * time.Minute
)

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Read, DefaultReadTimeout)
	def(&t.LargeRead, DefaultLargeReadTimeout)
	def(&t.Upload, DefaultUploadTimeout)
	def(&t.Write, DefaultWriteTimeout)
	def(&t.LargeWrite, DefaultLargeWriteTimeout)
	return t
}

// routeClass names the timeouts a route gets.
type routeClass int

const (
	classDefault     routeClass = iota // small body, small answer
	classLargeBody                     // an image request or an inline image submit
	classUpload                        // an r2 PUT
	classLargeAnswer                   // an answer that may carry images
)

// of is the read and write timeouts of a route class.
func (t Timeouts) of(c routeClass) (read, write time.Duration) {
	switch c {
	case classLargeBody:
		return t.LargeRead, t.Write
	case classUpload:
		return t.Upload, t.Write
	case classLargeAnswer:
		return t.Read, t.LargeWrite
	default:
		return t.Read, t.Write
	}
}

// Body limits per route, sized to the largest valid body (with room for
// JSON escapes) so that nobody can make the server read megabytes where a
// few kilobytes is all a valid request can be. Each is also capped by
// Options.MaxBodyBytes, except the inline image submit (bodyLimit).
const (
	// limitSmall: a transfer, a worker update.
	limitSmall = 64 << 10
	// limitPop: a pop names up to 1000 models and 1000 blacklist words.
	limitPop = 2 << 20
	// limitText: a text request (a 10,000-character prompt, stop
	// sequences) or a text submit.
	limitText = 2 << 20
)

// inlineSubmitLimit is the body limit of an image submit with the image
// inline: base64 of the largest upload, plus the rest of the body.
func (s *server) inlineSubmitLimit() int64 {
	return int64(base64.StdEncoding.EncodedLen(int(s.opt.MaxUploadBytes))) + 64<<10
}

// bodyLimit is a route's body limit: its own, at most MaxBodyBytes.
func (s *server) bodyLimit(route int64) int64 {
	return min(route, s.opt.MaxBodyBytes)
}
