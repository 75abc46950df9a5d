package discordtest

import (
	"bytes"
	"fmt"
	"image"
	"net/url"
	"slices"

	"github.com/bwmarrin/discordgo"

	_ "golang.org/x/image/webp" // attachment dimensions of WebP uploads
)

// Upload is a file a user attaches to a slash command's attachment option
// (see UploadAttachment).
type Upload struct {
	Name string
	// ContentType is what the upload claims to be; Discord takes it from
	// the file name, not from the bytes, so it may lie.
	ContentType string
	Data        []byte
	// URL, when set, is the url (and proxy_url) the interaction reports
	// instead of the fake's CDN address: a forged or tampered interaction
	// pointing the bot somewhere else.
	URL string
	// Size, when set, is the size the interaction reports instead of
	// len(Data) (a tampered one).
	Size int
	// Chunked serves the bytes without a Content-Length, as a streaming
	// proxy might: a reader learns their size only by reading them.
	Chunked bool
}

// uploadState is an uploaded attachment and how the CDN serves it.
type uploadState struct {
	att     *discordgo.MessageAttachment
	chunked bool
}

// UploadAttachment stores a file as a user's client does before it sends a
// command with an attachment option, and returns the attachment Discord
// resolves: an id for AttachmentOpt, the file's name, size, content type,
// width and height (for an image) and an ephemeral CDN url that serves the
// bytes (GET /ephemeral-attachments/{app}/{id}/{name} on the fake).
func (s *Server) UploadAttachment(u Upload) *discordgo.MessageAttachment {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.ids.next(s.now())
	name := u.Name
	if name == "" {
		name = "file"
	}
	a := &discordgo.MessageAttachment{
		ID: id, Filename: name, ContentType: u.ContentType, Size: len(u.Data), Ephemeral: true,
		URL: s.url + "/ephemeral-attachments/" + s.cfg.appID + "/" + id + "/" + url.PathEscape(name),
	}
	a.ProxyURL = a.URL
	if u.URL != "" {
		a.URL, a.ProxyURL = u.URL, u.URL
	}
	if u.Size != 0 {
		a.Size = u.Size
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(u.Data)); err == nil {
		a.Width, a.Height = cfg.Width, cfg.Height
	}
	s.attachments[id] = File{Name: name, ContentType: u.ContentType, Data: slices.Clone(u.Data)}
	s.uploads[id] = &uploadState{att: a, chunked: u.Chunked}
	out := *a
	return &out
}

// AttachmentOpt is an attachment option naming an uploaded attachment's id
// (UploadAttachment); the attachment is added to the resolved data.
func AttachmentOpt(name, attachmentID string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionAttachment, Value: attachmentID}
}

// resolvedAttachmentLocked is an uploaded attachment for resolved data.
func (s *Server) resolvedAttachmentLocked(id string) (*discordgo.MessageAttachment, error) {
	u, ok := s.uploads[id]
	if !ok {
		return nil, fmt.Errorf("send interaction: resolved attachment %s: %w", id, ErrNotFound)
	}
	out := *u.att
	return &out, nil
}
