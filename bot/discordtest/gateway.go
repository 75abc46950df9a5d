package discordtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opPresenceUpdate = 3
	opVoiceState     = 4
	opResume         = 6
	opReconnect      = 7
	opRequestMembers = 8
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatACK   = 11
)

// Gateway close codes the fake uses.
const (
	closeUnknownError     = 4000
	closeUnknownOpcode    = 4001
	closeDecodeError      = 4002
	closeNotAuthenticated = 4003
	closeAuthFailed       = 4004
	closeAlreadyAuthed    = 4005
	closeInvalidShard     = 4010
)

// maxReplay is how many dispatches a session keeps for RESUME.
const maxReplay = 10000

// writeTimeout bounds a websocket write so a stuck client cannot stall the fake.
const writeTimeout = 5 * time.Second

// ErrNoSession is returned by dispatch helpers when no gateway session has
// identified yet, so the event would reach nobody.
var ErrNoSession = errors.New("discordtest: no gateway session has identified")

// GatewayEventKind names something that happened on the gateway.
type GatewayEventKind string

// Gateway event kinds recorded by the fake.
const (
	GatewayConnected      GatewayEventKind = "connected"       // a websocket was accepted (HELLO sent)
	GatewayIdentified     GatewayEventKind = "identified"      // IDENTIFY accepted, READY sent
	GatewayResumed        GatewayEventKind = "resumed"         // RESUME accepted, missed dispatches replayed
	GatewayInvalidSession GatewayEventKind = "invalid_session" // RESUME refused with op 9
	GatewayDisconnected   GatewayEventKind = "disconnected"    // the websocket ended
	GatewayRejected       GatewayEventKind = "rejected"        // closed with a 4xxx code (bad token, bad payload)
	GatewayHeartbeat      GatewayEventKind = "heartbeat"       // op 1 received and acknowledged; Seq is the client's
)

// GatewayEvent is one entry of the gateway log.
type GatewayEvent struct {
	Kind      GatewayEventKind
	SessionID string
	// Seq is the sequence number involved: the last one sent for identified
	// and disconnected, the client's for resumed.
	Seq int64
	// Replayed is how many dispatches a RESUME re-sent.
	Replayed int
	// CloseCode is the websocket close code for rejected and disconnected, if any.
	CloseCode int
	// Identify is the IDENTIFY payload, for identified.
	Identify *discordgo.Identify
}

// gateway is the gateway state; every field is guarded by Server.mu.
type gateway struct {
	sessions map[string]*gwSession
	conns    map[*gwConn]bool
	log      []GatewayEvent
	wg       sync.WaitGroup
}

func (g *gateway) init() {
	g.sessions = map[string]*gwSession{}
	g.conns = map[*gwConn]bool{}
}

// gwSession is a gateway session: it outlives connections so it can be resumed.
type gwSession struct {
	id       string
	token    string
	intents  discordgo.Intent
	seq      int64
	replay   []frame
	conn     *gwConn // nil while disconnected
	identify discordgo.Identify
	// shard is the [shard_id, num_shards] pair of the IDENTIFY ([0, 1] without one).
	shard [2]int
}

// gwConn is one websocket; writes are serialised by wmu.
type gwConn struct {
	ws      *websocket.Conn
	wmu     sync.Mutex
	session *gwSession // guarded by Server.mu
}

// frame is a gateway payload.
type frame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s"`
	T  *string         `json:"t"`
}

func (c *gwConn) write(f frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("marshal op %d: %w", f.Op, err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("write op %d: %w", f.Op, err)
	}
	return nil
}

// closeWith sends a close frame with code and drops the connection.
func (c *gwConn) closeWith(code int, reason string) {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveGateway runs one gateway websocket connection.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	s.gw.wg.Add(1)
	s.mu.Unlock()
	defer s.gw.wg.Done()

	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.cfg.log.Warn("discordtest: gateway upgrade", "err", err)
		return
	}
	c := &gwConn{ws: ws}
	s.mu.Lock()
	if s.closed {
		// Close already swept the connections; do not leave this one behind.
		s.mu.Unlock()
		c.closeWith(websocket.CloseGoingAway, "server closing")
		return
	}
	s.gw.conns[c] = true
	s.gatewayEventLocked(GatewayEvent{Kind: GatewayConnected})
	s.mu.Unlock()
	defer func() {
		_ = ws.Close()
		s.mu.Lock()
		delete(s.gw.conns, c)
		s.mu.Unlock()
	}()

	hello, _ := json.Marshal(map[string]int64{"heartbeat_interval": s.cfg.heartbeat.Milliseconds()})
	if err := c.write(frame{Op: opHello, D: hello}); err != nil {
		s.cfg.log.Warn("discordtest: gateway hello", "err", err)
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			s.connEnded(c, err)
			return
		}
		var in struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := json.Unmarshal(data, &in); err != nil {
			s.reject(c, closeDecodeError, "Decode error")
			return
		}
		if !s.handleOp(c, in.Op, in.D) {
			return
		}
	}
}

// handleOp handles one client payload; false means the connection is done.
func (s *Server) handleOp(c *gwConn, op int, d json.RawMessage) bool {
	switch op {
	case opHeartbeat:
		if err := c.write(frame{Op: opHeartbeatACK, D: json.RawMessage("null")}); err != nil {
			return false
		}
		var seq int64
		_ = json.Unmarshal(d, &seq)
		s.mu.Lock()
		ev := GatewayEvent{Kind: GatewayHeartbeat, Seq: seq}
		if c.session != nil {
			ev.SessionID = c.session.id
		}
		s.gatewayEventLocked(ev)
		s.mu.Unlock()
		return true
	case opIdentify:
		return s.identify(c, d)
	case opResume:
		return s.resume(c, d)
	case opPresenceUpdate, opVoiceState, opRequestMembers:
		s.mu.Lock()
		sess := c.session
		if sess != nil && op == opRequestMembers {
			s.memberChunksLocked(sess, d)
		}
		s.mu.Unlock()
		if sess == nil {
			s.reject(c, closeNotAuthenticated, "Not authenticated.")
			return false
		}
		return true
	default:
		s.reject(c, closeUnknownOpcode, "Unknown opcode.")
		return false
	}
}

// memberChunksLocked answers op 8 (Request Guild Members) with one
// GUILD_MEMBERS_CHUNK per guild, filtered by query prefix or user ids.
func (s *Server) memberChunksLocked(sess *gwSession, d json.RawMessage) {
	var p struct {
		GuildID json.RawMessage `json:"guild_id"` // a string or, from discordgo, a list
		Query   string          `json:"query"`
		Limit   int             `json:"limit"`
		UserIDs []string        `json:"user_ids"`
		Nonce   string          `json:"nonce"`
	}
	if err := json.Unmarshal(d, &p); err != nil {
		s.cfg.log.Warn("discordtest: bad request guild members", "err", err)
		return
	}
	var guildIDs []string
	if err := json.Unmarshal(p.GuildID, &guildIDs); err != nil {
		var one string
		if json.Unmarshal(p.GuildID, &one) == nil {
			guildIDs = []string{one}
		}
	}
	for _, gid := range guildIDs {
		gs, ok := s.guilds[gid]
		if !ok {
			continue
		}
		members := []*discordgo.Member{}
		var notFound []string
		if len(p.UserIDs) > 0 {
			for _, id := range p.UserIDs {
				if m := s.memberJSONLocked(gs, id); m != nil {
					members = append(members, m)
				} else {
					notFound = append(notFound, id)
				}
			}
		} else {
			for _, id := range gs.memberOrder {
				m := s.memberJSONLocked(gs, id)
				if strings.HasPrefix(strings.ToLower(m.User.Username), strings.ToLower(p.Query)) &&
					(p.Limit == 0 || len(members) < p.Limit) {
					members = append(members, m)
				}
			}
		}
		s.sendLocked(sess, "GUILD_MEMBERS_CHUNK", map[string]any{
			"guild_id": gid, "members": members, "chunk_index": 0, "chunk_count": 1,
			"not_found": notFound, "nonce": p.Nonce,
		})
	}
}

func (s *Server) tokenOK(token string) bool {
	return strings.TrimPrefix(token, "Bot ") == s.cfg.token
}

// identify starts a new session: READY, then GUILD_CREATE for every guild.
func (s *Server) identify(c *gwConn, d json.RawMessage) bool {
	// Not discordgo.Identify: its presence activity marshals created_at as a
	// time but unmarshals it as an integer.
	var p struct {
		Token          string                       `json:"token"`
		Properties     discordgo.IdentifyProperties `json:"properties"`
		Compress       bool                         `json:"compress"`
		LargeThreshold int                          `json:"large_threshold"`
		Shard          *[2]int                      `json:"shard"`
		Intents        discordgo.Intent             `json:"intents"`
	}
	if err := json.Unmarshal(d, &p); err != nil {
		s.reject(c, closeDecodeError, "Decode error")
		return false
	}
	id := discordgo.Identify{
		Token:          p.Token,
		Properties:     p.Properties,
		Compress:       p.Compress,
		LargeThreshold: p.LargeThreshold,
		Shard:          p.Shard,
		Intents:        p.Intents,
	}
	s.mu.Lock()
	if c.session != nil {
		s.mu.Unlock()
		s.reject(c, closeAlreadyAuthed, "Already authenticated.")
		return false
	}
	if !s.tokenOK(id.Token) {
		s.mu.Unlock()
		s.reject(c, closeAuthFailed, "Authentication failed.")
		return false
	}
	shard := [2]int{0, 1}
	if id.Shard != nil {
		shard = *id.Shard
	}
	if shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1] {
		s.mu.Unlock()
		s.reject(c, closeInvalidShard, "Invalid shard.")
		return false
	}
	sess := &gwSession{id: newSessionID(), token: id.Token, intents: id.Intents, conn: c, identify: id, shard: shard}
	sess.identify.Token = "" // keep secrets out of the log
	s.gw.sessions[sess.id] = sess
	c.session = sess

	guilds := make([]map[string]any, 0, len(s.guildOrder))
	for _, gid := range s.guildOrder {
		if sess.receives(gid) {
			guilds = append(guilds, map[string]any{"id": gid, "unavailable": true})
		}
	}
	ready := map[string]any{
		"v":                  9,
		"user":               s.bot,
		"guilds":             guilds,
		"session_id":         sess.id,
		"resume_gateway_url": s.GatewayURL(),
		"application":        map[string]any{"id": s.cfg.appID, "flags": 0},
		"private_channels":   []any{},
	}
	if id.Shard != nil {
		ready["shard"] = id.Shard
	}
	s.sendLocked(sess, "READY", ready)
	for _, gid := range s.guildOrder {
		if sess.intents&discordgo.IntentGuilds != 0 && sess.receives(gid) {
			s.sendLocked(sess, "GUILD_CREATE", s.guildJSONLocked(s.guilds[gid], true))
		}
	}
	ident := sess.identify
	s.gatewayEventLocked(GatewayEvent{Kind: GatewayIdentified, SessionID: sess.id, Seq: sess.seq, Identify: &ident})
	s.cfg.log.Info("discordtest: session identified", "session", sess.id, "intents", int64(sess.intents))
	s.mu.Unlock()
	return true
}

// resume reattaches a session, replays what it missed, then sends RESUMED.
func (s *Server) resume(c *gwConn, d json.RawMessage) bool {
	var p struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(d, &p); err != nil {
		s.reject(c, closeDecodeError, "Decode error")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.gw.sessions[p.SessionID]
	if !ok || !s.tokenOK(p.Token) || c.session != nil || !canReplay(sess, p.Seq) {
		s.gatewayEventLocked(GatewayEvent{Kind: GatewayInvalidSession, SessionID: p.SessionID, Seq: p.Seq})
		if ok && !canReplay(sess, p.Seq) {
			delete(s.gw.sessions, sess.id)
		}
		// d=false: the session cannot be resumed; the client identifies anew.
		return c.write(frame{Op: opInvalidSession, D: json.RawMessage("false")}) == nil
	}
	if old := sess.conn; old != nil {
		old.session = nil
		// This goroutine's own wg count keeps the counter above zero here.
		s.gw.wg.Add(1)
		go func() {
			defer s.gw.wg.Done()
			old.closeWith(closeUnknownError, "Session resumed elsewhere")
		}()
	}
	sess.conn = c
	c.session = sess
	replayed := 0
	for _, f := range sess.replay {
		if *f.S <= p.Seq {
			continue
		}
		if err := c.write(f); err != nil {
			s.detachLocked(sess)
			return false
		}
		replayed++
	}
	t := "RESUMED"
	seq := sess.seq
	if err := c.write(frame{Op: opDispatch, D: json.RawMessage("{}"), S: &seq, T: &t}); err != nil {
		s.detachLocked(sess)
		return false
	}
	s.gatewayEventLocked(GatewayEvent{Kind: GatewayResumed, SessionID: sess.id, Seq: p.Seq, Replayed: replayed})
	s.cfg.log.Info("discordtest: session resumed", "session", sess.id, "seq", p.Seq, "replayed", replayed)
	return true
}

// canReplay reports whether the session still holds every dispatch after seq.
func canReplay(sess *gwSession, seq int64) bool {
	if sess == nil {
		return false
	}
	if len(sess.replay) == 0 {
		return true
	}
	return seq >= *sess.replay[0].S-1
}

// connEnded handles a read error: a normal close (1000/1001) ends the
// session as Discord does; anything else leaves it resumable.
func (s *Server) connEnded(c *gwConn, err error) {
	code := 0
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		code = ce.Code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := GatewayEvent{Kind: GatewayDisconnected, CloseCode: code}
	if sess := c.session; sess != nil {
		ev.SessionID, ev.Seq = sess.id, sess.seq
		if sess.conn == c {
			sess.conn = nil
		}
		if code == websocket.CloseNormalClosure || code == websocket.CloseGoingAway {
			delete(s.gw.sessions, sess.id)
		}
		c.session = nil
	}
	s.gatewayEventLocked(ev)
}

// reject closes a connection with a gateway close code.
func (s *Server) reject(c *gwConn, code int, reason string) {
	s.mu.Lock()
	s.gatewayEventLocked(GatewayEvent{Kind: GatewayRejected, CloseCode: code})
	s.mu.Unlock()
	c.closeWith(code, reason)
}

// sendLocked assigns the next sequence number to a dispatch, keeps it for
// RESUME and writes it if the session is connected.
func (s *Server) sendLocked(sess *gwSession, typ string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		s.cfg.log.Error("discordtest: marshal dispatch", "type", typ, "err", err)
		return
	}
	sess.seq++
	seq, t := sess.seq, typ
	f := frame{Op: opDispatch, D: raw, S: &seq, T: &t}
	sess.replay = append(sess.replay, f)
	if len(sess.replay) > maxReplay {
		sess.replay = sess.replay[len(sess.replay)-maxReplay:]
	}
	if sess.conn != nil {
		if err := sess.conn.write(f); err != nil {
			s.cfg.log.Warn("discordtest: dispatch write failed; session left resumable", "type", typ, "err", err)
			s.detachLocked(sess)
		}
	}
}

// detachLocked disconnects a session's websocket, keeping the session.
func (s *Server) detachLocked(sess *gwSession) {
	c := sess.conn
	if c == nil {
		return
	}
	sess.conn = nil
	c.session = nil
	_ = c.ws.Close()
}

// dispatch is an event to send to every session whose intents allow it.
type dispatch struct {
	typ     string
	data    any
	intents discordgo.Intent // the session needs one of these; 0 = always sent
	// redacted replaces data for sessions without the MESSAGE_CONTENT intent.
	redacted any
	// guild is the guild the event happened in ("" for DMs): like Discord,
	// the fake sends a guild's events only to the sessions of its shard
	// (ShardOf) and DMs only to shard 0.
	guild string
}

// ShardOf is the shard that receives a guild's events among count shards:
// (guild_id >> 22) % count, Discord's rule. An id that is not a snowflake
// goes to shard 0, as DMs do.
func ShardOf(guildID string, count int) int {
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil || count <= 1 {
		return 0
	}
	return int((id >> 22) % uint64(count))
}

// receives reports whether the session gets the events of a guild ("": DMs).
func (sess *gwSession) receives(guildID string) bool {
	return ShardOf(guildID, sess.shard[1]) == sess.shard[0]
}

// dispatchLocked sends an event to every session. It returns ErrNoSession if
// no session exists.
func (s *Server) dispatchLocked(d dispatch) error {
	if len(s.gw.sessions) == 0 {
		return ErrNoSession
	}
	for _, sess := range s.gw.sessions {
		if d.intents != 0 && sess.intents&d.intents == 0 || !sess.receives(d.guild) {
			continue
		}
		data := d.data
		if d.redacted != nil && sess.intents&discordgo.IntentMessageContent == 0 {
			data = d.redacted
		}
		s.sendLocked(sess, d.typ, data)
	}
	return nil
}

// Dispatch sends any gateway event (op 0) with the given type and data to
// every session, for events the typed helpers do not cover. When the data
// has a "guild_id", only the sessions of that guild's shard get it.
func (s *Server) Dispatch(eventType string, data any) error {
	var g struct {
		GuildID string `json:"guild_id"`
	}
	if raw, err := json.Marshal(data); err == nil {
		_ = json.Unmarshal(raw, &g)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dispatchLocked(dispatch{typ: eventType, data: data, guild: g.GuildID})
}

// DropConnection cuts every gateway websocket (close code 4000) while keeping
// the sessions, so discordgo reconnects and RESUMEs; dispatches sent before
// it does are replayed then. It returns how many connections it dropped.
// Call WaitHeartbeat first if the session has just connected.
func (s *Server) DropConnection() int {
	s.mu.Lock()
	var dropped []*gwConn
	for _, sess := range s.gw.sessions {
		if c := sess.conn; c != nil {
			sess.conn = nil
			c.session = nil
			dropped = append(dropped, c)
		}
	}
	s.mu.Unlock()
	for _, c := range dropped {
		c.closeWith(closeUnknownError, "Unknown error")
	}
	s.cfg.log.Info("discordtest: dropped gateway connections", "count", len(dropped))
	return len(dropped)
}

// RequestReconnect sends op 7 (Reconnect) to every connected session; discordgo
// closes the websocket and RESUMEs. It returns how many sessions it asked.
// Call WaitHeartbeat first if the session has just connected.
func (s *Server) RequestReconnect() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.gw.sessions {
		if sess.conn != nil && sess.conn.write(frame{Op: opReconnect, D: json.RawMessage("null")}) == nil {
			n++
		}
	}
	return n
}

// WaitHeartbeat waits until the most recent gateway connection has sent a
// heartbeat (or ended). Call it before closing a discordgo session that may
// have just connected: discordgo v0.29 starts a heartbeat goroutine at the
// end of Open, and if Session.Close runs before that goroutine's first
// write, the write fails and discordgo reconnects a session it was told to
// close. Without a connection it returns at once.
func (s *Server) WaitHeartbeat(ctx context.Context) error {
	return s.waitState(ctx, "first heartbeat", func() bool {
		last := -1
		for i, ev := range s.gw.log {
			if ev.Kind == GatewayConnected {
				last = i
			}
		}
		if last < 0 {
			return true
		}
		for _, ev := range s.gw.log[last+1:] {
			if ev.Kind == GatewayHeartbeat || ev.Kind == GatewayDisconnected || ev.Kind == GatewayRejected {
				return true
			}
		}
		return false
	})
}

// GatewayEvents returns the gateway log so far.
func (s *Server) GatewayEvents() []GatewayEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]GatewayEvent(nil), s.gw.log...)
}

// WaitGateway waits for a gateway event, past or future, that satisfies match.
func (s *Server) WaitGateway(ctx context.Context, match func(GatewayEvent) bool) (GatewayEvent, error) {
	var got GatewayEvent
	next := 0
	err := s.waitState(ctx, "gateway event", func() bool {
		for ; next < len(s.gw.log); next++ {
			if match(s.gw.log[next]) {
				got = s.gw.log[next]
				return true
			}
		}
		return false
	})
	return got, err
}

// Identifies returns the IDENTIFY payloads received (tokens removed), so tests
// can check the intents the bot asked for.
func (s *Server) Identifies() []discordgo.Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []discordgo.Identify
	for _, ev := range s.gw.log {
		if ev.Kind == GatewayIdentified && ev.Identify != nil {
			out = append(out, *ev.Identify)
		}
	}
	return out
}

func (s *Server) gatewayEventLocked(ev GatewayEvent) {
	s.gw.log = append(s.gw.log, ev)
	s.bumpLocked()
}

// closeAll ends every websocket.
func (g *gateway) closeAll(s *Server) {
	s.mu.Lock()
	conns := make([]*gwConn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(websocket.CloseGoingAway, "server closing")
	}
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
