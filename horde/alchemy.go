package horde

import (
	"context"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/kudos"
)

// Alchemy is the AI Horde's image interrogation and post-processing: a
// requester sends one source image and the forms they want of it (a
// caption, an interrogation, an nsfw verdict, an upscale, a face fix, the
// background stripped); each form is one queue item that an alchemist
// worker (worker kind KindAlchemy, the AI Horde's type "interrogation")
// pops if it offers that form, processes and submits. Text forms' results
// are JSON objects ({"caption": "..."}); image forms' results are images,
// uploaded by the worker to the form's r2_upload and kept in the blob
// store.
//
// Kudos are the AI Horde's (horde/classes/stable/interrogation.py): a form
// earns its alchemist 1 (caption, nsfw), 3 (interrogation) or 3 per 512x512
// tile of the source (post-processors), and costs its requester that plus
// the AI Horde's burn (1, 2 when the request allows slow workers, as its
// code charges). The cost is held against the requester from the request
// on, through the same holds and kudos.PaymentRules as image jobs, and
// charged when the form is done. A form popped and not submitted within
// AlchemyFormTTL is aborted and waits again; a form aborted (or faulted by
// its worker) more than MaxFormAborts times is faulted; an interrogation
// none of whose waiting forms is popped for ExpireAfter expires (its waiting
// forms are faulted).

// KindAlchemy is the worker kind of alchemists; its value is the AI Horde's
// worker type "interrogation" (GET /workers?type=interrogation).
const KindAlchemy RequestKind = aihorde.WorkerTypeAlchemy

// Alchemy limits, as the AI Horde has them.
const (
	// AlchemyFormTTL is how long an alchemist has for a popped form (the AI
	// Horde's get_interrogation_form_expiry_date: 3 minutes).
	AlchemyFormTTL = aihorde.FormTTL
	// MaxFormAborts: a form aborted or faulted more times than this is
	// faulted for good (the AI Horde's abort_count > 2 on the fourth).
	MaxFormAborts = 3
	// MaxAlchemyTiles bounds a source image's 512x512 tiles (the AI Horde
	// refuses more than 255: SourceImageResolutionExceeded).
	MaxAlchemyTiles = aihorde.MaxTiles
	// AlchemyConcurrencyFactor: a member may have this many times their
	// concurrency in open forms (the AI Horde's "more concurrency for
	// interrogations": get_concurrency() * 10).
	AlchemyConcurrencyFactor = 10
	// DefaultAlchemistMaxTiles is an alchemist's max_tiles when its pop
	// names none (the AI Horde's pop model default).
	DefaultAlchemistMaxTiles = aihorde.DefaultMaxTiles
	// MaxAlchemistMaxTiles bounds max_tiles (the AI Horde's pop model).
	MaxAlchemistMaxTiles = aihorde.MaxWorkerTiles
	// SlowAlchemistSeconds: an alchemist taking this long per form or more
	// is slow, and skips requests with slow_workers false (the AI Horde's
	// worker.speed < 10).
	SlowAlchemistSeconds = 10.0
	// MaxFormPayloadKeys bounds a form's payload.
	MaxFormPayloadKeys = 20
)

// The alchemy forms hordebot's alchemists serve.
const (
	FormCaption         = aihorde.FormCaption
	FormInterrogation   = aihorde.FormInterrogation
	FormNSFW            = aihorde.FormNSFW
	FormStripBackground = aihorde.FormStripBackground
)

// AlchemyForms lists the forms hordebot serves, text forms first: the AI
// Horde's caption, interrogation and nsfw, and the post-processors of
// AI-Horde-Worker's alchemist (aihorde.TextForms, aihorde.PostProcessorForms).
func AlchemyForms() []string {
	return append(append([]string{}, aihorde.TextForms...), aihorde.PostProcessorForms...)
}

// KnownForm reports whether hordebot serves the form name.
func KnownForm(name string) bool { return aihorde.IsAlchemyForm(name) }

// ImageForm reports whether the form's result is an image (a post-processor).
func ImageForm(name string) bool { return aihorde.IsPostProcessor(name) }

// FormScale is how many times the source's width and height an image
// form's result is (1 for face fixers and strip_background, 0 for text forms).
func FormScale(name string) int {
	if !ImageForm(name) {
		return 0
	}
	if f, ok := aihorde.Upscalers[name]; ok {
		return f
	}
	return 1
}

// FormReward is what an alchemist earns for a form of a source of tiles
// 512x512 tiles, as the AI Horde pays: 3 for an interrogation, 3 per tile
// for a post-processor, 1 for the others.
func FormReward(name string, tiles int) int64 {
	switch {
	case name == FormInterrogation:
		return 3
	case ImageForm(name):
		return 3 * int64(max(tiles, 1))
	}
	return 1
}

// AlchemyBurn is what a form costs its requester beyond its reward: the AI
// Horde's kudos_burn, 1, plus 1 when the request allows slow workers (its
// code adds it for slow_workers true, though its documentation says the
// extra cost is for refusing them).
func AlchemyBurn(slowWorkers bool) int64 {
	if slowWorkers {
		return 2
	}
	return 1
}

// Tiles is how many 512x512 tiles cover a w x h image (the AI Horde's
// calculate_image_tiles).
func Tiles(w, h int) int { return aihorde.Tiles(w, h) }

// FormState is the state of one form.
type FormState string

// Form states. The AI Horde reports them by these names.
const (
	FormWaiting    FormState = "waiting"
	FormProcessing FormState = "processing"
	FormDone       FormState = "done"
	FormFaulted    FormState = "faulted"
	FormCancelled  FormState = "cancelled"
)

// Finished reports whether no more work will happen on a form in state s.
func (s FormState) Finished() bool {
	return s == FormDone || s == FormFaulted || s == FormCancelled
}

// Interrogation states, as the AI Horde's get_status reports the whole: done
// when every form is done, faulted when every form faulted, processing while
// one is, waiting while one waits, else partial (some done, some faulted or
// cancelled).
const (
	InterrogationWaiting    = "waiting"
	InterrogationProcessing = "processing"
	InterrogationDone       = "done"
	InterrogationFaulted    = "faulted"
	InterrogationPartial    = "partial"
)

// Interrogation is an alchemy request: one source image and its forms.
type Interrogation struct {
	ID        string // uuid; the secret status and cancel need
	UserID    int64
	SourceRef string // the source image in the blob store
	Width     int
	Height    int
	Tiles     int // 512x512 tiles of the source (Tiles)
	// TrustedWorkers: only trusted alchemists serve it. SlowWorkers (the AI
	// Horde's default true) lets slow alchemists serve it.
	TrustedWorkers bool
	SlowWorkers    bool
	ClientAgent    string
	Source         string // "api" or "discord"
	Priority       int64  // the requester's kudos at request time
	CreatedAt      time.Time
	FinishedAt     time.Time // zero while a form is open
	Forms          []AlchemyForm
	// Interaction is the Discord interaction the interrogation answers, as
	// RequestExtras.Interaction: the write that stores it links the bot's
	// record of the interaction, once. Only its creation uses it; it is
	// not kept.
	Interaction string
}

// State is the interrogation's state as the AI Horde reports it.
func (in Interrogation) State() string {
	allFaulted, allDone, processing, waiting := true, true, false, false
	for _, f := range in.Forms {
		allFaulted = allFaulted && f.State == FormFaulted
		allDone = allDone && f.State == FormDone
		processing = processing || f.State == FormProcessing
		waiting = waiting || f.State == FormWaiting
	}
	switch {
	case allFaulted && len(in.Forms) > 0:
		return InterrogationFaulted
	case allDone:
		return InterrogationDone
	case processing:
		return InterrogationProcessing
	case waiting:
		return InterrogationWaiting
	}
	return InterrogationPartial
}

// AlchemyForm is one form of an interrogation: one queue item.
type AlchemyForm struct {
	ID              string // uuid; the id the alchemist submits
	InterrogationID string
	Index           int
	Name            string
	// Payload is the form's settings as the requester sent them (the AI
	// Horde's wildcard payload: facefixer_strength, num_beams...), passed to
	// the alchemist; nil: none.
	Payload    map[string]string
	State      FormState
	Kudos      int64 // the alchemist's reward (FormReward)
	Cost       int64 // what the requester pays: Kudos plus AlchemyBurn
	WorkerID   string
	WorkerName string
	Aborts     int
	StartedAt  time.Time
	Deadline   time.Time
	FinishedAt time.Time
	// Result is a text form's result, a JSON object as the worker sent it
	// ({"caption": "..."}); BlobRef an image form's image.
	Result  string
	BlobRef string
}

// NewInterrogation is what a requester asks for.
type NewInterrogation struct {
	// Source is the image, already read and checked by the transport
	// (its decoded size in Width and Height).
	Source         []byte
	Width, Height  int
	Forms          []NewForm
	TrustedWorkers bool
	SlowWorkers    bool
	ClientAgent    string
	// Origin is "api" (default) or "discord", as Request.Source.
	Origin string
	// Interaction, when set, is the id of the Discord interaction the
	// interrogation answers (Interrogation.Interaction): a second
	// interrogation for it is KindConflict with code CodeInteractionQueued.
	Interaction string
}

// NewForm is one requested form.
type NewForm struct {
	Name    string
	Payload map[string]string
}

// AlchemyPop is an alchemist's pop (the AI Horde's InterrogationPopInput).
type AlchemyPop struct {
	Name              string
	Forms             []string
	Amount            int
	Threads           int
	MaxTiles          int
	BridgeAgent       string
	PriorityUsernames []string
}

// AlchemyAssignment is one form handed to an alchemist.
type AlchemyAssignment struct {
	Form      AlchemyForm
	SourceRef string // the source image in the blob store
	Width     int
	Height    int
}

// AlchemySubmission is an alchemist's submit of one form.
type AlchemySubmission struct {
	FormID string
	State  string // ResultOK (default), ResultFaulted, ResultCensored, ResultCSAM
	// Result is a text form's result object as JSON; Image an image form's
	// inline image; UseUpload says the image was PUT to the form's
	// r2_upload (the result said "R2").
	Result    string
	Image     []byte
	UseUpload bool
}

// AlchemyFinish is what a done form changes, written in one transaction:
// the form, its result and the ledger entries.
type AlchemyFinish struct {
	Form    AlchemyForm // with State done, FinishedAt, Kudos (the reward), WorkerName, Result or BlobRef
	Entries []kudos.Entry
	Holds   []kudos.Hold
}

// AlchemyStore keeps interrogations and their forms durably. Every method
// returns only after its change is committed.
type AlchemyStore interface {
	// CreateInterrogation stores a new interrogation with its forms, all
	// waiting.
	CreateInterrogation(ctx context.Context, in Interrogation) error
	// Interrogation returns one interrogation with its forms in index
	// order; ErrNotFound if none.
	Interrogation(ctx context.Context, id string) (Interrogation, error)
	// OpenInterrogations returns every interrogation with a waiting or
	// processing form, with all its forms.
	OpenInterrogations(ctx context.Context) ([]Interrogation, error)
	// StartAlchemyForm records a popped form: processing, by workerID,
	// with its start and deadline. ErrNotFound for an unknown form;
	// ErrDuplicate when it is not waiting.
	StartAlchemyForm(ctx context.Context, formID, workerID string, started, deadline time.Time) error
	// FinishAlchemyForm records a done form with its ledger entries and
	// escrow holds; the form's upload, if any, becomes its result or is
	// dropped. ErrDuplicate when the form is not processing, or (Form's
	// StartedAt not zero) is processing another attempt; an entry
	// breaking its floor fails with kudos.ErrInsufficient and writes
	// nothing.
	FinishAlchemyForm(ctx context.Context, f AlchemyFinish) error
	// FailAlchemyForm ends a processing form's attempt: it waits again with
	// one more abort, or is faulted when faulted is set; its upload is
	// dropped. startedAt, if not zero, names the attempt (the form's
	// StartedAt when it was popped). ErrDuplicate when the form is not
	// processing, or is processing another attempt (popped again since).
	FailAlchemyForm(ctx context.Context, formID string, startedAt time.Time, faulted bool, at time.Time) error
	// EndInterrogation gives every waiting or processing form of an
	// interrogation the final state (cancelled or faulted).
	EndInterrogation(ctx context.Context, id string, state FormState, at time.Time) error
	// SetAlchemyUpload records the image uploaded for a processing form (a
	// second replaces the first). ErrNotFound for an unknown form;
	// ErrDuplicate when it is not processing.
	SetAlchemyUpload(ctx context.Context, formID, blobRef string) error
	// AlchemyUpload returns the image uploaded for a form; ErrNotFound if none.
	AlchemyUpload(ctx context.Context, formID string) (string, error)
	// AlchemyForm returns one form; ErrNotFound if none.
	AlchemyForm(ctx context.Context, formID string) (AlchemyForm, error)
}
