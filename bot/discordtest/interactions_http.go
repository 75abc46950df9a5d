package discordtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// DefaultInteractionTimeout is how long the fake waits for the bot's answer
// to an interaction POST: Discord's 3 seconds.
const DefaultInteractionTimeout = 3 * time.Second

// maxAnswerBytes bounds the bot's HTTP answer the fake reads.
const maxAnswerBytes = 4 << 20

// endpoint is the application's Interactions Endpoint URL and the log of
// what was POSTed there; guarded by Server.mu, except the keys (fixed at New).
type endpoint struct {
	url   string
	key   ed25519.PrivateKey
	pub   ed25519.PublicKey
	other ed25519.PrivateKey // signs SignInvalid posts
	log   []HTTPDelivery
	wg    sync.WaitGroup
}

func (e *endpoint) init() {
	e.pub, e.key, _ = ed25519.GenerateKey(rand.Reader)
	_, e.other, _ = ed25519.GenerateKey(rand.Reader)
}

// Signing says how a POST to the interactions endpoint is signed.
type Signing int

// The ways to sign.
const (
	SignValid   Signing = iota // with the application's key, as Discord does
	SignInvalid                // with another key: the signature does not verify
	SignNone                   // no X-Signature-Ed25519 and X-Signature-Timestamp headers
)

// PostOptions adjust one POST to the interactions endpoint, to play an
// attacker or a broken network.
type PostOptions struct {
	Signing Signing
	// Timestamp is the signed X-Signature-Timestamp; zero is now.
	Timestamp time.Time
	// Body, if set, is sent (and signed) instead of the interaction's JSON.
	Body []byte
}

// HTTPDelivery is one POST to the interactions endpoint and the bot's answer.
type HTTPDelivery struct {
	// Token and InteractionID name the interaction (empty for a raw Body).
	Token         string
	InteractionID string
	Type          discordgo.InteractionType
	// Replay is set for a POST of an interaction already delivered.
	Replay bool
	// Status, ContentType and Body are the bot's HTTP answer (Status 0 when
	// the POST failed).
	Status      int
	ContentType string
	Body        []byte
	// Err says why Discord would show "This interaction failed": the POST
	// failed or timed out, or the answer was not a valid initial response
	// (not 200, not JSON, multipart with files, a type the interaction does
	// not allow). A replay or a PING answered as asked has no Err.
	Err error
}

// Response decodes the answer as an interaction response.
func (d HTTPDelivery) Response() (discordgo.InteractionResponse, error) {
	var r discordgo.InteractionResponse
	err := json.Unmarshal(d.Body, &r)
	return r, err
}

// SetInteractionsEndpoint sets the application's Interactions Endpoint URL
// (as in the developer portal): from then on SendInteraction POSTs every
// interaction there, signed with the application's key, and no longer
// dispatches INTERACTION_CREATE on the gateway, as Discord does. "" goes
// back to the gateway.
func (s *Server) SetInteractionsEndpoint(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoint.url = url
}

// PublicKey is the application's Ed25519 public key, which verifies the
// interaction POSTs.
func (s *Server) PublicKey() ed25519.PublicKey { return s.endpoint.pub }

// PublicKeyHex is PublicKey in hex, as the developer portal shows it.
func (s *Server) PublicKeyHex() string { return hex.EncodeToString(s.endpoint.pub) }

// PostInteraction POSTs an interaction to the endpoint and waits for the
// bot's answer, which (when valid and signed as Discord signs) becomes the
// interaction's initial response. The delivery's Token is the key for
// Original, Callback and the waits.
func (s *Server) PostInteraction(ctx context.Context, in Interaction, o PostOptions) (HTTPDelivery, error) {
	s.mu.Lock()
	st, err := s.newInteractionLocked(in)
	if err == nil && s.endpoint.url == "" {
		err = errors.New("discordtest: post interaction: no interactions endpoint set")
	}
	if err != nil {
		s.mu.Unlock()
		return HTTPDelivery{}, err
	}
	s.registerPendingLocked(st)
	s.mu.Unlock()
	return s.deliverHTTP(ctx, st, false, o), nil
}

// ReplayInteraction POSTs an interaction already delivered once again, as an
// attacker who captured it would: the same body, signed as o says (a
// valid signature stands for a captured request replayed within the
// timestamp window). Its answer changes nothing at the fake.
func (s *Server) ReplayInteraction(ctx context.Context, token string, o PostOptions) (HTTPDelivery, error) {
	s.mu.Lock()
	st, ok := s.interactions[token]
	s.mu.Unlock()
	if !ok {
		return HTTPDelivery{}, fmt.Errorf("discordtest: replay interaction: %w", ErrNotFound)
	}
	return s.deliverHTTP(ctx, st, true, o), nil
}

// PostPing POSTs a PING (type 1), as Discord does when the endpoint URL is
// saved in the developer portal; the bot must answer PONG.
func (s *Server) PostPing(ctx context.Context, o PostOptions) (HTTPDelivery, error) {
	s.mu.Lock()
	if s.endpoint.url == "" {
		s.mu.Unlock()
		return HTTPDelivery{}, errors.New("discordtest: post ping: no interactions endpoint set")
	}
	st := &interactionState{id: s.ids.next(s.now()), token: newToken(), typ: discordgo.InteractionPing}
	st.wire, _ = json.Marshal(map[string]any{
		"id": st.id, "application_id": s.cfg.appID, "type": discordgo.InteractionPing, "token": st.token, "version": 1,
		"user": map[string]any{"id": "1", "username": "discord", "discriminator": "0"},
	})
	s.registerPendingLocked(st)
	s.mu.Unlock()
	return s.deliverHTTP(ctx, st, false, o), nil
}

// HTTPDeliveries returns the POSTs to the interactions endpoint so far, in
// the order they were answered.
func (s *Server) HTTPDeliveries() []HTTPDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]HTTPDelivery(nil), s.endpoint.log...)
}

// WaitHTTPDelivery waits until the first POST of an interaction (not a
// replay) has been answered, and returns it.
func (s *Server) WaitHTTPDelivery(ctx context.Context, token string) (HTTPDelivery, error) {
	var got HTTPDelivery
	err := s.waitState(ctx, "interaction POST answered", func() bool {
		for _, d := range s.endpoint.log {
			if d.Token == token && !d.Replay {
				got = d
				return true
			}
		}
		return false
	})
	return got, err
}

// registerPendingLocked records an interaction whose HTTP answer is awaited:
// REST calls on its token wait for that answer (awaitHTTPAnswer), as the
// bot cannot edit a response Discord has not received yet.
func (s *Server) registerPendingLocked(st *interactionState) {
	st.httpPending = make(chan struct{})
	s.interactions[st.token] = st
	s.bumpLocked()
}

// postInBackgroundLocked delivers an interaction by HTTP without waiting.
func (s *Server) postInBackgroundLocked(st *interactionState) {
	s.registerPendingLocked(st)
	s.endpoint.wg.Add(1)
	go func() {
		defer s.endpoint.wg.Done()
		s.deliverHTTP(context.Background(), st, false, PostOptions{})
	}()
}

// deliverHTTP signs and POSTs an interaction (or o.Body), reads the answer
// and, for a first delivery, applies it as the initial response.
func (s *Server) deliverHTTP(ctx context.Context, st *interactionState, replay bool, o PostOptions) HTTPDelivery {
	body := st.wire
	d := HTTPDelivery{Token: st.token, InteractionID: st.id, Type: st.typ, Replay: replay}
	if o.Body != nil {
		body = o.Body
	}
	d.Status, d.ContentType, d.Body, d.Err = s.post(ctx, body, o)

	s.mu.Lock()
	defer s.mu.Unlock()
	if !replay && st.httpPending != nil {
		if d.Err == nil {
			d.Err = s.applyAnswerLocked(st, d)
		}
		close(st.httpPending)
		st.httpPending = nil
	}
	s.endpoint.log = append(s.endpoint.log, d)
	s.bumpLocked()
	return d
}

// post sends one signed POST and reads the answer.
func (s *Server) post(ctx context.Context, body []byte, o PostOptions) (status int, contentType string, answer []byte, err error) {
	s.mu.Lock()
	url := s.endpoint.url
	s.mu.Unlock()
	ts := o.Timestamp
	if ts.IsZero() {
		ts = s.now()
	}
	stamp := strconv.FormatInt(ts.Unix(), 10)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.interactionTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", nil, fmt.Errorf("discordtest: interaction POST: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	if o.Signing != SignNone {
		key := s.endpoint.key
		if o.Signing == SignInvalid {
			key = s.endpoint.other
		}
		sig := ed25519.Sign(key, append([]byte(stamp), body...))
		req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
		req.Header.Set("X-Signature-Timestamp", stamp)
	}
	resp, err := (&http.Client{Transport: s.transport}).Do(req)
	if err != nil {
		return 0, "", nil, fmt.Errorf("discordtest: interaction POST: %w", err)
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return resp.StatusCode, resp.Header.Get("Content-Type"), answer, fmt.Errorf("discordtest: read interaction answer: %w", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), answer, nil
}

// applyAnswerLocked checks the bot's answer as Discord does and applies it as
// the interaction's initial response.
func (s *Server) applyAnswerLocked(st *interactionState, d HTTPDelivery) error {
	if d.Status != http.StatusOK {
		return fmt.Errorf("discordtest: interaction answered %d: %s", d.Status, strings.TrimSpace(string(d.Body)))
	}
	if mt, _, _ := mime.ParseMediaType(d.ContentType); mt != "application/json" {
		// Discord takes no files in the HTTP answer: they go in an edit.
		return fmt.Errorf("discordtest: interaction answer is %q, not application/json", d.ContentType)
	}
	var p struct {
		Type discordgo.InteractionResponseType `json:"type"`
		Data json.RawMessage                   `json:"data"`
	}
	if err := json.Unmarshal(d.Body, &p); err != nil {
		return fmt.Errorf("discordtest: interaction answer: %w", err)
	}
	if st.typ == discordgo.InteractionPing {
		if p.Type != discordgo.InteractionResponsePong {
			return fmt.Errorf("discordtest: PING answered with type %d, not PONG", p.Type)
		}
		st.acked, st.callbackType = true, p.Type
		return nil
	}
	if st.acked {
		return fmt.Errorf("discordtest: interaction answered by HTTP after a callback: %w", errAlreadyAcked)
	}
	if aerr := s.applyCallbackLocked(st, p.Type, p.Data, nil); aerr != nil {
		return fmt.Errorf("discordtest: interaction answer refused: %w", aerr)
	}
	return nil
}

// awaitHTTPAnswer waits, for a REST call on an interaction's token (a
// callback, an edit, a follow-up), until the interaction's HTTP answer has
// been read: the bot sends such calls right after answering, possibly
// before the fake has read the answer.
func (s *Server) awaitHTTPAnswer(ctx context.Context, path string) {
	token := ""
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "webhooks":
		token = parts[2]
	case len(parts) >= 4 && parts[0] == "interactions":
		token = parts[2]
	default:
		return
	}
	s.mu.Lock()
	var pending chan struct{}
	if st, ok := s.interactions[token]; ok {
		pending = st.httpPending
	}
	s.mu.Unlock()
	if pending == nil {
		return
	}
	select {
	case <-pending:
	case <-ctx.Done():
	}
}
