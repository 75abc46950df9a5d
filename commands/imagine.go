package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decode JPEG results
	_ "image/png"  // decode PNG results
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"
	_ "github.com/gen2brain/webp" // decode WebP results (what AI Horde workers upload)

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// imageSize is a /imagine size preset.
type imageSize struct {
	Name          string
	Width, Height int
}

var imageSizes = []imageSize{
	{"square", aihorde.DefaultWidth, aihorde.DefaultHeight},
	{"portrait", 512, 768},
	{"landscape", 768, 512},
	{"large", 1024, 1024},
}

const (
	maxSteps  = 100 // fewer than the horde allows (aihorde.MaxSteps): a chat command stays quick
	maxImages = 4
	// clientAgent is how requests from Discord name themselves.
	clientAgent = "hordebot:1:discord"
)

func (s *Set) imagineCommand() *Command {
	minLen := 1
	one, four, stepsMin, stepsMax := 1.0, float64(maxImages), 1.0, float64(maxSteps)
	sizes := make([]*discordgo.ApplicationCommandOptionChoice, len(imageSizes))
	for i, z := range imageSizes {
		sizes[i] = &discordgo.ApplicationCommandOptionChoice{Name: fmt.Sprintf("%s %dx%d", z.Name, z.Width, z.Height), Value: z.Name}
	}
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "imagine",
			Description: "Generate images on the community's GPUs",
			Options: append([]*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "What to draw", Required: true, MinLength: &minLen, MaxLength: 1000},
				{Type: discordgo.ApplicationCommandOptionString, Name: "negative", Description: "What to avoid", MaxLength: 500},
				{Type: discordgo.ApplicationCommandOptionString, Name: "model", Description: "Model (from online workers)", Autocomplete: true},
				{Type: discordgo.ApplicationCommandOptionString, Name: "size", Description: "Image size", Choices: sizes},
				{Type: discordgo.ApplicationCommandOptionInteger, Name: "steps", Description: "Sampling steps", MinValue: &stepsMin, MaxValue: stepsMax},
				{Type: discordgo.ApplicationCommandOptionInteger, Name: "seed", Description: "Seed, for reproducible images", MinValue: ptr(0.0)},
				{Type: discordgo.ApplicationCommandOptionInteger, Name: "count", Description: "How many images (1-4)", MinValue: &one, MaxValue: four},
				{Type: discordgo.ApplicationCommandOptionString, Name: "style", Description: "One of the horde's styles (/style list); \"none\" for none", Autocomplete: true, MaxLength: maxStyleRef},
				{Type: discordgo.ApplicationCommandOptionBoolean, Name: "nsfw", Description: "Allow NSFW output (age-restricted channels only)"},
			}, img2imgOptions()...),
		},
		Defer:        s.deferGenerate,
		Handle:       s.handleImagine,
		Resumable:    true,
		Autocomplete: autocompleteBy(map[string]choicesFunc{"model": s.modelChoices(horde.KindImage), "style": s.styleChoices(false)}),
	}
}

// imagineRequest turns /imagine options into a horde request and the prompt shown to members.
func imagineRequest(o interact.Options) (horde.NewRequest, string, error) {
	prompt := o.String("prompt", "")
	if prompt == "" {
		return horde.NewRequest{}, "", horde.Invalidf("prompt", "the prompt is empty").InCase("prompt_empty")
	}
	shown := prompt
	prompt = aihorde.JoinPrompt(prompt, o.String("negative", ""))
	size := imageSizes[0]
	if name := o.String("size", ""); name != "" {
		z, ok := findSize(name)
		if !ok {
			return horde.NewRequest{}, "", horde.Invalidf("size", "unknown size %q", name).InCase("size").With("Size", name)
		}
		size = z
	}
	params := &horde.ImageParams{
		Width: size.Width, Height: size.Height, Steps: int(o.Int("steps", aihorde.DefaultSteps)),
		SamplerName: aihorde.DefaultSampler, CFGScale: aihorde.DefaultCFGScale,
	}
	if o.Has("seed") {
		params.Seed = strconv.FormatInt(o.Int("seed", 0), 10)
	}
	nr := horde.NewRequest{
		Kind: horde.KindImage, Prompt: prompt, Image: params, N: int(min(max(o.Int("count", 1), 1), maxImages)),
		NSFW: o.Bool("nsfw", false), R2: true, ClientAgent: clientAgent, Source: "discord",
	}
	if m := o.String("model", ""); m != "" {
		nr.Models = []string{m}
	}
	return nr, shown, nil
}

func (s *Set) handleImagine(ctx context.Context, ix *interact.Interaction) error {
	o := interact.ParseOptions(ix.I)
	nr, shown, err := imagineRequest(o)
	if err != nil {
		return err
	}
	ms, err := s.settingsOf(ctx, ix)
	if err != nil {
		return err
	}
	from, err := s.imageSettings(ctx, ix, o, ms, &nr) // settings_apply.go
	if err != nil {
		return err
	}
	if nr.NSFW {
		if err := s.requireNSFWChannel(ctx, ix); err != nil {
			return err
		}
	}
	if wantsImg2Img(o) {
		return explainSettings(ix.Printer(), s.handleImagineFromImage(ctx, ix, o, from.given(o), nr, shown), from)
	}
	return explainSettings(ix.Printer(), s.submitLimited(ctx, ix, from.given(o), nr, shown), from)
}

// submitAndWatch queues nr for the caller, shows its place in the queue and
// starts the watcher that delivers the result to the interaction's message.
//
// The request is linked to the interaction (NewRequest.Interaction): when
// the bot recorded it (a Resumable command), it is queued once, whoever
// runs the command; the run that finds it already queued (another
// process, after this one was thought dead) leaves the answer to that one.
func (s *Set) submitAndWatch(ctx context.Context, ix *interact.Interaction, nr horde.NewRequest, shown string) error {
	nr.Interaction = ix.I.ID
	req, _, err := s.horde.Submit(ctx, ix.User, nr)
	if queuedElsewhere(err) {
		s.log.Info("interaction already answered elsewhere; not queued again", "interaction", ix.I.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("submit %s request: %w", nr.Kind, err)
	}
	d := deliveryFor(ix, req, shown)
	// Saved before the member is shown the request queued: a process that
	// dies after that message leaves the delivery to the next one.
	if err := s.persist(ctx, d); err != nil {
		return err
	}
	if p, err := s.horde.Check(ctx, req.ID); err == nil {
		if err := ix.Reply(ctx, interact.Reply{Content: s.progressText(d, p)}); err != nil {
			s.log.Warn("first progress edit failed", "request", req.ID, "err", err)
		}
	}
	s.startWatch(d)
	return nil
}

// queuedElsewhere reports whether err refuses a request or an
// interrogation because its interaction already queued one (another run
// of it, on this process or another, answers it) or was answered.
func queuedElsewhere(err error) bool {
	var he *horde.Error
	return errors.As(err, &he) && he.Code == horde.CodeInteractionQueued
}

// requireNSFWChannel refuses unless the interaction's channel is age-restricted.
func (s *Set) requireNSFWChannel(ctx context.Context, ix *interact.Interaction) error {
	if !ix.InGuild() {
		return horde.Errorf(horde.KindForbidden, "NSFWChannel", "NSFW images can only be requested in age-restricted channels, not in DMs.").InCase("dm")
	}
	ch, err := s.channel(ctx, ix.S, ix.I.ChannelID)
	if err != nil {
		return fmt.Errorf("look up channel %s: %w", ix.I.ChannelID, err)
	}
	if !ch.NSFW {
		return horde.Errorf(horde.KindForbidden, "NSFWChannel", "NSFW images can only be requested in age-restricted channels.").InCase("channel")
	}
	return nil
}

// channel returns a channel from the session's state cache, or from REST.
func (s *Set) channel(ctx context.Context, sess *discordgo.Session, id string) (*discordgo.Channel, error) {
	if sess.State != nil {
		if ch, err := sess.State.Channel(id); err == nil {
			return ch, nil
		}
	}
	var ch *discordgo.Channel
	err := s.retry().Do(ctx, "get channel", func(opts ...discordgo.RequestOption) error {
		var err error
		ch, err = sess.Channel(id, opts...)
		return err
	})
	return ch, err
}

// modelChoices autocompletes model names from the online workers of a kind.
func (s *Set) modelChoices(kind horde.RequestKind) func(context.Context, *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	return func(ctx context.Context, ix *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
		typed := strings.ToLower(focusedText(ix))
		models, err := s.horde.Models(ctx, kind)
		if err != nil {
			return nil, fmt.Errorf("list %s models: %w", kind, err)
		}
		sortModels(models)
		l, _ := s.limitsFor(ix)
		var out []*discordgo.ApplicationCommandOptionChoice
		for _, m := range models {
			if typed != "" && !strings.Contains(strings.ToLower(m.Name), typed) || !l.allowsModel(m.Name) {
				continue
			}
			label := clip(ix.T("model.choice", locale.Args{"Model": m.Name, "Workers": m.Workers, "Queued": m.Jobs}), 100)
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: label, Value: m.Name})
			if len(out) == 25 {
				break
			}
		}
		return out, nil
	}
}

// resultImage is one decoded generation.
type resultImage struct {
	gen  horde.Generation
	data []byte
	ext  string
	img  image.Image
}

// within is the image as stored, or re-encoded when that is larger than
// limit bytes; it returns the bytes and their file extension.
func (im resultImage) within(limit int) ([]byte, string, error) {
	if len(im.data) <= limit {
		return im.data, im.ext, nil
	}
	return EncodeWithin(im.img, limit)
}

// gridOf lays out the decoded images of a result (see ComposeGrid).
func gridOf(imgs []resultImage) image.Image {
	return ComposeGrid(decodedImages(imgs))
}

// decodedImages are the decoded images of a result.
func decodedImages(imgs []resultImage) []image.Image {
	all := make([]image.Image, len(imgs))
	for i, im := range imgs {
		all[i] = im.img
	}
	return all
}

// loadImages fetches and decodes the images of gens (decoding them in
// parallel); censored or unreadable ones are skipped and counted.
func (s *Set) loadImages(ctx context.Context, gens []horde.Generation) ([]resultImage, int, error) {
	var read []resultImage
	var blobs [][]byte
	skipped := 0
	for _, g := range gens {
		if g.State != "" && g.State != horde.ResultOK || g.BlobRef == "" {
			skipped++
			continue
		}
		data, err := s.horde.Blob(ctx, g.BlobRef)
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			s.log.Error("read result image", "job", g.JobID, "err", err)
			skipped++
			continue
		}
		read = append(read, resultImage{gen: g, data: data})
		blobs = append(blobs, data)
	}
	var out []resultImage
	for i, d := range DecodeImages(blobs) {
		im := read[i]
		if d.Err != nil {
			s.log.Error("decode result image", "job", im.gen.JobID, "content_type", http.DetectContentType(im.data), "err", d.Err)
			skipped++
			continue
		}
		im.img, im.ext = d.Image, d.Format
		if im.ext == "jpeg" {
			im.ext = "jpg"
		}
		out = append(out, im)
	}
	return out, skipped, nil
}

// imageResult is the finished /imagine message: the grid, the full images
// and the buttons.
func (s *Set) imageResult(ctx context.Context, d delivery, p horde.Progress, gens []horde.Generation) (interact.Reply, error) {
	imgs, skipped, err := s.loadImages(ctx, gens)
	if err != nil {
		return interact.Reply{}, err
	}
	pr := d.printer()
	if len(imgs) == 0 {
		return interact.Reply{Content: pr.T("result.no_image", locale.Args{"User": d.UserID, "Prompt": clip(d.Prompt, 200), "Skipped": skipped})}, nil
	}
	short := shortID(d.RequestID)
	var files []*discordgo.File
	if len(imgs) > 1 {
		data, ext, err := EncodeGrid(decodedImages(imgs), s.cfg.MaxFileBytes)
		if err != nil {
			return interact.Reply{}, fmt.Errorf("encode grid: %w", err)
		}
		files = append(files, &discordgo.File{Name: "grid-" + short + "." + ext, ContentType: "image/" + mimeSub(ext), Reader: bytes.NewReader(data)})
	}
	tooBig := 0
	for i, im := range imgs {
		if len(files) >= s.cfg.MaxFiles {
			tooBig++
			continue
		}
		data, ext, err := im.within(s.cfg.MaxFileBytes)
		if err != nil {
			tooBig++
			continue
		}
		files = append(files, &discordgo.File{Name: fmt.Sprintf("%s-%d.%s", short, i+1, ext), ContentType: "image/" + mimeSub(ext), Reader: bytes.NewReader(data)})
	}
	models := map[string]bool{}
	var seeds []string
	for _, im := range imgs {
		models[im.gen.Model] = true
		seeds = append(seeds, strconv.FormatInt(im.gen.Seed, 10))
	}
	var modelNames []string
	for m := range models {
		if m != "" {
			modelNames = append(modelNames, m)
		}
	}
	sort.Strings(modelNames)
	var b strings.Builder
	b.WriteString(pr.T("result.head", locale.Args{"User": d.UserID, "Prompt": clip(d.Prompt, 300)}))
	if len(modelNames) > 0 {
		fmt.Fprintf(&b, " · %s", strings.Join(modelNames, ", "))
	}
	b.WriteString(" · " + pr.T("result.image.seed_kudos", locale.Args{"Seeds": strings.Join(seeds, ", "), "Kudos": p.Kudos}))
	if skipped > 0 {
		b.WriteString("\n" + pr.T("result.image.filtered", locale.Args{locale.CountArg: skipped}))
	}
	if tooBig > 0 {
		b.WriteString("\n" + pr.T("result.image.too_big", locale.Args{locale.CountArg: tooBig}))
	}
	if line := s.creditParty(ctx, d, p, imgs); line != "" {
		b.WriteString("\n" + line)
	}
	return interact.Reply{Content: b.String(), Files: files, Components: resultButtons(pr, d.RequestID, len(imgs))}, nil
}

func mimeSub(ext string) string {
	if ext == "jpg" {
		return "jpeg"
	}
	return ext
}

func findSize(name string) (imageSize, bool) {
	for _, z := range imageSizes {
		if z.Name == name {
			return z, true
		}
	}
	return imageSize{}, false
}

func ptr[T any](v T) *T { return &v }
