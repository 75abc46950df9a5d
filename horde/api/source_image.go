package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	_ "golang.org/x/image/webp" // a source image format (DecodeConfig)

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// Source images of alchemy requests. A base64 image is decoded here; a URL
// of this server's own results (/api/v2/results/{ref}, e.g. an image it
// generated) is read from the blob store; any other http(s) URL is fetched
// once, here, and stored like a base64 image, so that alchemists only ever
// download from this server. The fetch refuses what it cannot do safely:
// an address that is not public unicast (loopback, private, link-local,
// multicast: checked on the address actually dialled, so neither a DNS
// answer nor a redirect can reach the inside of the network), more than
// maxSourceImageBytes, more than three redirects, or anything slower
// than sourceFetchTimeout. Options.SourceURLs set to "off" refuses every
// remote URL.

const (
	sourceFetchTimeout   = 10 * time.Second
	sourceFetchRedirects = 3
	// maxSourceImageBytes bounds a fetched source image (the AI Horde's
	// 5 MB: SourceImageSizeExceeded); maxSourceImagePixels a base64 one
	// (its 3072x3072: SourceImageResolutionExceeded).
	maxSourceImageBytes  = aihorde.MaxSourceImageMB << 20
	maxSourceImagePixels = 3072 * 3072
	// maxInterrogationForms bounds the forms of one request.
	maxInterrogationForms = 20
)

// sourceImage is a decoded source image.
type sourceImage struct {
	data          []byte
	width, height int
}

// readSourceImage turns a request's source_image into image bytes.
func (s *server) readSourceImage(r *http.Request, src string) (sourceImage, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return sourceImage{}, horde.Invalidf("source_image", "source_image is required: a URL or a base64 image")
	}
	var data []byte
	lower := strings.ToLower(src)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		var err error
		if data, err = s.fetchSource(r, src); err != nil {
			return sourceImage{}, err
		}
	default:
		var err error
		if data, err = decodeBase64Image(src, "source_image"); err != nil {
			return sourceImage{}, &horde.Error{Kind: horde.KindInvalid, Code: "ImageValidationFailed", Field: "source_image",
				Message: "source_image must be a URL or a base64 WebP, PNG, JPEG or GIF image", Err: err}
		}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return sourceImage{}, &horde.Error{Kind: horde.KindInvalid, Code: "SourceImageUnreadable", Field: "source_image",
			Message: "the source image could not be read as a WebP, PNG, JPEG or GIF image", Err: err}
	}
	if cfg.Width*cfg.Height > maxSourceImagePixels {
		return sourceImage{}, &horde.Error{Kind: horde.KindInvalid, Code: "SourceImageResolutionExceeded", Field: "source_image",
			Message: fmt.Sprintf("the source image is %dx%d; it may have at most 3072*3072 pixels", cfg.Width, cfg.Height)}
	}
	return sourceImage{data: data, width: cfg.Width, height: cfg.Height}, nil
}

// fetchSource reads a source image URL: this server's own result links
// from the blob store, any other through the guarded fetch.
func (s *server) fetchSource(r *http.Request, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, &horde.Error{Kind: horde.KindInvalid, Code: "SourceImageUrlInvalid", Field: "source_image",
			Message: "source_image is not a valid URL"}
	}
	if ref, ok := s.ownResult(r, u); ok {
		data, err := s.h.Blob(r.Context(), ref)
		if horde.IsKind(err, horde.KindNotFound) {
			return nil, &horde.Error{Kind: horde.KindInvalid, Code: "SourceImageUrlInvalid", Field: "source_image",
				Message: "source_image names a result of this horde that no longer exists"}
		}
		return data, err
	}
	if s.opt.SourceURLs == SourceURLsOff {
		return nil, &horde.Error{Kind: horde.KindDisabled, Code: "SourceImageURLsDisabled", Field: "source_image",
			Message: "this horde does not fetch source images from other sites; send the image as base64"}
	}
	return fetchPublicImage(r.Context(), u, s.sourceAddrAllowed)
}

// ownResult reports whether u is a link to one of this server's results,
// and its ref.
func (s *server) ownResult(r *http.Request, u *url.URL) (string, bool) {
	base, err := url.Parse(s.baseURL(r))
	if err != nil || !strings.EqualFold(u.Host, base.Host) {
		return "", false
	}
	ref, ok := strings.CutPrefix(u.EscapedPath(), strings.TrimRight(base.EscapedPath(), "/")+Prefix+"/results/")
	if !ok || !validRef(ref) {
		return "", false
	}
	return ref, true
}

// sourceAddrAllowed says whether the guarded fetch may dial addr.
func (s *server) sourceAddrAllowed(addr netip.Addr) bool {
	if s.opt.SourceAddrAllowed != nil {
		return s.opt.SourceAddrAllowed(addr)
	}
	return PublicAddr(addr)
}

// PublicAddr reports whether addr is a public unicast address: the only
// addresses a source image URL may reach by default.
func PublicAddr(addr netip.Addr) bool {
	addr = addr.Unmap()
	return addr.IsGlobalUnicast() && !addr.IsPrivate() && !addr.IsLoopback() && !addr.IsLinkLocalUnicast() &&
		!addr.IsMulticast() && !addr.IsUnspecified() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(addr) && // carrier-grade NAT
		!netip.MustParsePrefix("64:ff9b::/96").Contains(addr) // NAT64 into the inside
}

// errRefusedAddr is the dial refusal of an address that is not allowed.
var errRefusedAddr = errors.New("address not allowed")

// fetchPublicImage GETs u with the guards of this file.
func fetchPublicImage(ctx context.Context, u *url.URL, allowed func(netip.Addr) bool) ([]byte, error) {
	invalid := func(code, format string, args ...any) error {
		return &horde.Error{Kind: horde.KindInvalid, Code: code, Field: "source_image", Message: fmt.Sprintf(format, args...)}
	}
	dialer := &net.Dialer{
		Timeout: sourceFetchTimeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !allowed(ap.Addr()) {
				return errRefusedAddr
			}
			return nil
		},
	}
	client := &http.Client{
		Timeout: sourceFetchTimeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			Proxy:                 nil, // a proxy would dial for us, past the address check
			TLSHandshakeTimeout:   sourceFetchTimeout,
			ResponseHeaderTimeout: sourceFetchTimeout,
			MaxIdleConns:          1,
			DisableKeepAlives:     true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > sourceFetchRedirects {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errors.New("redirect to a non-http URL")
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, invalid("SourceImageUrlInvalid", "source_image is not a valid URL")
	}
	req.Header.Set("Accept", "image/webp,image/png,image/jpeg,image/gif")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, errRefusedAddr) {
			return nil, invalid("SourceImageUrlInvalid", "source_image points to an address this horde does not fetch from (only public addresses)")
		}
		return nil, invalid("SourceImageUrlInvalid", "source_image could not be fetched: %s", horde.QuoteInput(err.Error()))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, invalid("SourceImageUrlInvalid", "source_image could not be fetched: the site answered %s", resp.Status)
	}
	if resp.ContentLength > maxSourceImageBytes {
		return nil, invalid("SourceImageSizeExceeded", "the source image may be at most %d MB", maxSourceImageBytes>>20)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSourceImageBytes+1))
	if err != nil {
		return nil, invalid("SourceImageUrlInvalid", "source_image could not be read: %s", horde.QuoteInput(err.Error()))
	}
	if len(data) > maxSourceImageBytes {
		return nil, invalid("SourceImageSizeExceeded", "the source image may be at most %d MB", maxSourceImageBytes>>20)
	}
	if _, err := sniffImage(data, "source_image"); err != nil {
		return nil, invalid("SourceImageUrlInvalid", "the URL does not hold a WebP, PNG, JPEG or GIF image")
	}
	return data, nil
}
