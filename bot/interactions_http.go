package bot

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
)

// MaxInteractionBody bounds an interaction POST's body: Discord's are a few
// KiB, a command with many resolved members some tens.
const MaxInteractionBody = 1 << 20

// errAnswerWindowPassed is a late initial response of an HTTP interaction:
// the endpoint already answered Discord (with an error) and cannot any more.
var errAnswerWindowPassed = errors.New("the interactions endpoint's answer window has passed")

// ParsePublicKey decodes the application's public key as the developer
// portal shows it (64 hex digits).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("discord.public_key: want %d hex digits (the application's public key in the developer portal)", 2*ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// InteractionsServer is an HTTP server for the interactions endpoint with
// bounded reads, writes and headers; serve it on discord.interactions_listen.
func (b *Bot) InteractionsServer(key ed25519.PublicKey) *http.Server {
	return &http.Server{
		Handler:           b.InteractionsHandler(key),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      b.cfg.InteractionAnswerWithin + 10*time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// InteractionsHandler is the HTTP interactions endpoint: Discord POSTs every
// interaction to it, signed with Ed25519 over X-Signature-Timestamp + body,
// when the application's Interactions Endpoint URL names it. It answers 401
// to a missing or bad signature and to a timestamp more than
// InteractionMaxAge from now, 409 to an interaction id it has already seen,
// 413 to a body over MaxInteractionBody, PONG to a PING, and hands
// commands, components, autocomplete and modals to the router the gateway
// uses; the handler's initial response is the HTTP answer (waited for at
// most InteractionAnswerWithin), and everything after it goes over REST.
func (b *Bot) InteractionsHandler(key ed25519.PublicKey) http.Handler {
	b.mu.Lock()
	b.servesHTTP = true // it may take up any guild's deferred interactions (deferred.go)
	b.mu.Unlock()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			httpError(w, http.StatusMethodNotAllowed, "POST interactions here")
			return
		}
		sigHex, stamp := r.Header.Get("X-Signature-Ed25519"), r.Header.Get("X-Signature-Timestamp")
		sig, err := hex.DecodeString(sigHex)
		if sigHex == "" || stamp == "" || err != nil || len(sig) != ed25519.SignatureSize {
			httpError(w, http.StatusUnauthorized, "missing or malformed request signature")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInteractionBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				httpError(w, http.StatusRequestEntityTooLarge, "interaction body too large")
				return
			}
			httpError(w, http.StatusBadRequest, "could not read the body")
			return
		}
		if !ed25519.Verify(key, append([]byte(stamp), body...), sig) {
			httpError(w, http.StatusUnauthorized, "invalid request signature")
			return
		}
		// Wall time, not the injected clock: Discord signs with the real time,
		// whatever a test's clock says about TTLs and tallies.
		now := time.Now()
		secs, err := strconv.ParseInt(stamp, 10, 64)
		signedAt := time.Unix(secs, 0)
		if err != nil || now.Sub(signedAt).Abs() > b.cfg.InteractionMaxAge {
			b.log.Warn("interaction refused: stale signature timestamp", "timestamp", stamp)
			httpError(w, http.StatusUnauthorized, "stale request timestamp")
			return
		}
		var i discordgo.Interaction
		if err := json.Unmarshal(body, &i); err != nil {
			httpError(w, http.StatusBadRequest, "not an interaction")
			return
		}
		switch i.Type {
		case discordgo.InteractionPing:
			writeInteractionResponse(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
			return
		case discordgo.InteractionApplicationCommand, discordgo.InteractionMessageComponent,
			discordgo.InteractionApplicationCommandAutocomplete, discordgo.InteractionModalSubmit:
		default:
			httpError(w, http.StatusBadRequest, "unknown interaction type")
			return
		}
		switch b.replays.first(i.ID, signedAt.Add(b.cfg.InteractionMaxAge), now) {
		case replaySeen:
			b.log.Warn("interaction refused: replayed", "interaction", i.ID)
			httpError(w, http.StatusConflict, "interaction already received")
			return
		case replayFull:
			httpError(w, http.StatusServiceUnavailable, "too many interactions at once")
			return
		}
		b.serveHTTPInteraction(w, r, &i)
	})
}

// serveHTTPInteraction routes a verified interaction and writes its initial
// response as the HTTP answer.
func (b *Bot) serveHTTPInteraction(w http.ResponseWriter, r *http.Request, i *discordgo.Interaction) {
	if !b.enter() {
		httpError(w, http.StatusServiceUnavailable, "the bot is not running")
		return
	}
	s := b.sess()
	ans := &httpAnswer{offer: make(chan answerOffer, 1), done: make(chan struct{})}
	go func() {
		defer b.inflight.Done()
		defer close(ans.done)
		// The handler outlives the HTTP request: results come over REST later.
		ctx, cancel := b.handlerContext()
		defer cancel()
		ans.err = b.route(ctx, s, i, b.httpResponder(s, i, ans))
	}()
	timer := time.NewTimer(b.cfg.InteractionAnswerWithin)
	defer timer.Stop()
	var failed string
	select {
	case o := <-ans.offer:
		o.written <- writeInteractionResponse(w, o.resp)
		return
	case <-ans.done:
		if errors.Is(ans.err, errInteractionTaken) {
			// Recorded by another process (a replay behind the balancer): it answers.
			b.log.Warn("interaction refused: replayed", "interaction", i.ID)
			httpError(w, http.StatusConflict, "interaction already received")
			return
		}
		failed = "the interaction was not answered"
	case <-timer.C:
		failed = "the interaction was not answered in time"
	case <-r.Context().Done():
		failed = "Discord hung up"
	}
	if !ans.giveUp() {
		// A response came in meanwhile: send it after all.
		o := <-ans.offer
		o.written <- writeInteractionResponse(w, o.resp)
		return
	}
	b.log.Error("interactions endpoint: "+failed, "interaction", i.ID, "type", i.Type.String())
	httpError(w, http.StatusInternalServerError, failed)
}

// httpResponder sends an initial response in the HTTP answer. Discord takes
// no files there: a message with files is answered as a deferral, then
// the files are sent in an edit of the original response over REST.
func (b *Bot) httpResponder(s *discordgo.Session, i *discordgo.Interaction, ans *httpAnswer) interact.Responder {
	return func(ctx context.Context, resp *discordgo.InteractionResponse) error {
		if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data == nil || len(resp.Data.Files) == 0 {
			return ans.respond(ctx, resp)
		}
		d := resp.Data
		deferral := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
		if d.Flags&discordgo.MessageFlagsEphemeral != 0 {
			deferral.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
		}
		if err := ans.respond(ctx, deferral); err != nil {
			return err
		}
		content := d.Content
		edit := &discordgo.WebhookEdit{Content: &content, Embeds: &d.Embeds, Components: &d.Components, Files: d.Files, AllowedMentions: d.AllowedMentions}
		return b.cfg.Retry.Do(ctx, "send the files of an HTTP interaction's response", func(opts ...discordgo.RequestOption) error {
			interact.RewindFiles(d.Files)
			_, err := s.InteractionResponseEdit(i, edit, opts...)
			return err
		})
	}
}

// httpAnswer hands one initial response from the handler's goroutine to
// the HTTP handler, which writes it, or gives up after its window.
type httpAnswer struct {
	mu     sync.Mutex
	closed bool // a response was offered, or the endpoint gave up
	offer  chan answerOffer
	done   chan struct{} // closed when the router returned
	err    error         // what the router returned; read after done
}

type answerOffer struct {
	resp    *discordgo.InteractionResponse
	written chan error
}

// respond offers resp as the HTTP answer and waits until it is written.
func (a *httpAnswer) respond(ctx context.Context, resp *discordgo.InteractionResponse) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return errAnswerWindowPassed
	}
	a.closed = true
	o := answerOffer{resp: resp, written: make(chan error, 1)}
	a.offer <- o // buffered: never blocks
	a.mu.Unlock()
	select {
	case err := <-o.written:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// giveUp closes the answer; false if a response was offered first.
func (a *httpAnswer) giveUp() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	a.closed = true
	return true
}

// writeInteractionResponse writes an interaction response as the HTTP answer
// and flushes it, so that Discord has it before the handler's edits.
func writeInteractionResponse(w http.ResponseWriter, resp *discordgo.InteractionResponse) error {
	raw, err := json.Marshal(resp)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "could not encode the response")
		return fmt.Errorf("encode interaction response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	// A length lets Discord read the whole answer before the handler returns.
	w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("write interaction response: %w", err)
	}
	if err := http.NewResponseController(w).Flush(); err != nil {
		return fmt.Errorf("flush interaction response: %w", err)
	}
	return nil
}

// httpError answers a refused POST with a JSON message.
func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
