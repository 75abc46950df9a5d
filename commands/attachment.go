package commands

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/imagecheck"
)

// Members' images (the attachment of /imagine image:, /describe, /blend, the
// image of a message a context menu names) are fetched only from Discord's
// CDN, within a size and a pixel limit checked before and while reading,
// and only when they are a PNG, JPEG or WebP that decodes. A forged or
// tampered interaction cannot make the bot fetch another address, read an
// endless body or decode a decompression bomb.

// DefaultAttachmentHosts are where Discord serves attachments.
var DefaultAttachmentHosts = []string{"cdn.discordapp.com", "media.discordapp.net"}

// Defaults of the attachment limits (Config).
const (
	// DefaultMaxSourceBytes bounds a member's image: Discord's upload limit
	// without boosts.
	DefaultMaxSourceBytes = 10 << 20
	// DefaultMaxSourcePixels bounds its width x height (the AI Horde's
	// 3072x3072 for source images): decoding it takes 4 bytes a pixel.
	DefaultMaxSourcePixels = 3072 * 3072
	// DefaultFetchTimeout bounds one download.
	DefaultFetchTimeout = 20 * time.Second
	// maxConcurrentFetches bounds the images fetched and decoded at once,
	// so that a flood of commands holds a few decoded images, not hundreds.
	maxConcurrentFetches = 4
)

// memberImage is an image a member gave the bot, fetched and checked.
type memberImage struct {
	Name          string
	Data          []byte // as fetched
	Format        string // "png", "jpeg" or "webp"
	Width, Height int
	Img           image.Image
}

// attachmentFetcher downloads members' attachments from the allowed hosts.
type attachmentFetcher struct {
	hosts     []string // lower-case host or host:port
	client    *http.Client
	maxBytes  int
	maxPixels int
	timeout   time.Duration
	slots     chan struct{}
}

func newAttachmentFetcher(cfg Config) *attachmentFetcher {
	f := &attachmentFetcher{maxBytes: cfg.MaxSourceBytes, maxPixels: cfg.MaxSourcePixels, timeout: cfg.FetchTimeout,
		slots: make(chan struct{}, maxConcurrentFetches)}
	for _, h := range cfg.AttachmentHosts {
		f.hosts = append(f.hosts, strings.ToLower(strings.TrimSpace(h)))
	}
	c := http.Client{}
	if cfg.AttachmentClient != nil {
		c = *cfg.AttachmentClient
	}
	// A redirect is followed only to another allowed host.
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		if !f.allowed(req.URL) {
			return fmt.Errorf("redirect to %s: not a Discord CDN host", req.URL.Host)
		}
		return nil
	}
	f.client = &c
	return f
}

// allowed reports whether u is an http(s) URL on an allowed host.
func (f *attachmentFetcher) allowed(u *url.URL) bool {
	if u == nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return false
	}
	host := strings.ToLower(u.Host)
	return slices.Contains(f.hosts, host) || (u.Port() == "" || u.Port() == "443") && slices.Contains(f.hosts, strings.ToLower(u.Hostname()))
}

// notAnImage is the refusal of an attachment that is no usable image.
func notAnImage(field string) error {
	return &horde.Error{Kind: horde.KindInvalid, Code: "NotAnImage", Field: field,
		Message: "That attachment is not an image: send a PNG, JPEG or WebP."}
}

func (f *attachmentFetcher) tooLarge(field string, size int) error {
	return &horde.Error{Kind: horde.KindInvalid, Code: "ImageTooLarge", Field: field,
		Message: fmt.Sprintf("Images up to %s: that one is %s.", megabytes(f.maxBytes), megabytes(size)),
		Case:    "bytes", Params: map[string]any{"Max": megabytes(f.maxBytes), "Size": megabytes(size)}}
}

// megabytes shows a size as "10 MB" or "12.4 MB".
func megabytes(n int) string {
	mb := float64(n) / (1 << 20)
	if mb == float64(int(mb)) {
		return fmt.Sprintf("%d MB", int(mb))
	}
	return fmt.Sprintf("%.1f MB", mb)
}

// fetch downloads and checks a member's attachment; field names the
// option it came from ("" for a context menu's message), for the refusals.
func (f *attachmentFetcher) fetch(ctx context.Context, field string, a *discordgo.MessageAttachment) (memberImage, error) {
	if a == nil {
		return memberImage{}, horde.Invalidf(field, "attach an image").InCase("attach")
	}
	if ct := strings.ToLower(a.ContentType); ct != "" && !acceptedImageType(ct) {
		return memberImage{}, notAnImage(field)
	}
	if a.Size > f.maxBytes {
		return memberImage{}, f.tooLarge(field, a.Size)
	}
	if a.Width > 0 && a.Height > 0 && a.Width*a.Height > f.maxPixels {
		return memberImage{}, f.tooManyPixels(field, a.Width, a.Height)
	}
	u, err := url.Parse(a.URL)
	if err != nil || !f.allowed(u) {
		return memberImage{}, &horde.Error{Kind: horde.KindForbidden, Code: "AttachmentHost", Field: field,
			Message: "That attachment is not on Discord's CDN: I only fetch images uploaded to Discord."}
	}
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	case <-ctx.Done():
		return memberImage{}, fmt.Errorf("wait to fetch an attachment: %w", ctx.Err())
	}
	data, err := f.download(ctx, field, u)
	if err != nil {
		return memberImage{}, err
	}
	w, h, format, err := imagecheck.Inspect(data)
	if err != nil {
		return memberImage{}, notAnImage(field)
	}
	if w*h > f.maxPixels {
		return memberImage{}, f.tooManyPixels(field, w, h)
	}
	d := DecodeImages([][]byte{data})[0]
	if d.Err != nil {
		return memberImage{}, notAnImage(field)
	}
	return memberImage{Name: a.Filename, Data: data, Format: format, Width: w, Height: h, Img: d.Image}, nil
}

func (f *attachmentFetcher) tooManyPixels(field string, w, h int) error {
	return &horde.Error{Kind: horde.KindInvalid, Code: "ImageTooLarge", Field: field,
		Message: fmt.Sprintf("Images up to %.1f megapixels: that one is %dx%d.", float64(f.maxPixels)/1e6, w, h),
		Case:    "pixels", Params: map[string]any{"Max": fmt.Sprintf("%.1f", float64(f.maxPixels)/1e6), "Width": w, "Height": h}}
}

// download GETs u within the timeout, refusing a body over maxBytes from
// its Content-Length or once that much is read.
func (f *attachmentFetcher) download(ctx context.Context, field string, u *url.URL) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("attachment request: %w", err)
	}
	// unreadable is the refusal of a download that failed, for why (the
	// error's Case: timeout, no_answer, status, broken).
	unreadable := func(c, why string) *horde.Error {
		return &horde.Error{Kind: horde.KindInvalid, Code: "AttachmentUnreadable", Field: field, Case: c,
			Message: "That attachment could not be downloaded from Discord (" + why + "); upload it again."}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, unreadable("timeout", "it took too long")
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, unreadable("no_answer", "the CDN did not answer")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, unreadable("status", "HTTP "+resp.Status).With("Status", resp.Status)
	}
	if resp.ContentLength > int64(f.maxBytes) {
		return nil, f.tooLarge(field, int(min(resp.ContentLength, 1<<40)))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(f.maxBytes)+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, unreadable("timeout", "it took too long")
		}
		return nil, unreadable("broken", "the download broke off")
	}
	if len(data) > f.maxBytes {
		return nil, &horde.Error{Kind: horde.KindInvalid, Code: "ImageTooLarge", Field: field,
			Message: fmt.Sprintf("Images up to %s: that one is larger.", megabytes(f.maxBytes)),
			Case:    "bytes_larger", Params: map[string]any{"Max": megabytes(f.maxBytes)}}
	}
	return data, nil
}

// acceptedImageType reports whether a content type names a format the
// bot takes (what a browser or Discord calls PNG, JPEG and WebP).
func acceptedImageType(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	switch strings.TrimSpace(ct) {
	case "image/png", "image/jpeg", "image/jpg", "image/webp":
		return true
	}
	return false
}

// optionAttachment is the attachment an option of a slash command names.
func optionAttachment(ix *interact.Interaction, name string) *discordgo.MessageAttachment {
	if ix.I.Type != discordgo.InteractionApplicationCommand {
		return nil
	}
	data := ix.I.ApplicationCommandData()
	for _, o := range data.Options {
		if o.Name != name || o.Type != discordgo.ApplicationCommandOptionAttachment {
			continue
		}
		id, _ := o.Value.(string)
		if data.Resolved == nil {
			return nil
		}
		return data.Resolved.Attachments[id]
	}
	return nil
}

// firstImageAttachment is a message's first attachment that looks like an
// image (by content type, or by name when it has none), or nil.
func firstImageAttachment(m *discordgo.Message) *discordgo.MessageAttachment {
	if m == nil {
		return nil
	}
	for _, a := range m.Attachments {
		if a == nil {
			continue
		}
		if a.ContentType != "" && strings.HasPrefix(strings.ToLower(a.ContentType), "image/") {
			return a
		}
		name := strings.ToLower(a.Filename)
		if a.ContentType == "" && (strings.HasSuffix(name, ".png") || strings.HasSuffix(name, ".jpg") ||
			strings.HasSuffix(name, ".jpeg") || strings.HasSuffix(name, ".webp")) {
			return a
		}
	}
	return nil
}

// targetMessage is the message a message context-menu command names.
func targetMessage(ix *interact.Interaction) *discordgo.Message {
	if ix.I.Type != discordgo.InteractionApplicationCommand {
		return nil
	}
	data := ix.I.ApplicationCommandData()
	if data.Resolved == nil {
		return nil
	}
	return data.Resolved.Messages[data.TargetID]
}

// targetImage is the first image of the message a context menu names.
func targetImage(ix *interact.Interaction) (*discordgo.MessageAttachment, error) {
	a := firstImageAttachment(targetMessage(ix))
	if a == nil {
		return nil, horde.Errorf(horde.KindInvalid, "NoImage", "That message has no image attached.")
	}
	return a, nil
}
