// Package discordtest is a fake Discord: a REST API under /api/v9/ and a gateway
// websocket, both served by one net/http server on 127.0.0.1, that real
// github.com/bwmarrin/discordgo Sessions connect to.
//
// A test sets up state (users, guilds, channels, roles, members), opens a
// discordgo session through the fake, dispatches events as if users acted
// (slash commands, button clicks, messages, reactions) and then inspects
// everything the bot sent back:
//
//	srv := discordtest.New()
//	defer srv.Close()
//	alice := srv.AddUser(discordgo.User{Username: "alice"})
//	g := srv.AddGuild(discordgo.Guild{Name: "gpus", OwnerID: alice.ID})
//	ch, _ := srv.AddChannel(discordgo.Channel{GuildID: g.ID, Name: "art"})
//	_, _ = srv.AddMember(g.ID, discordgo.Member{User: alice})
//
//	s := discordtesting.Session(t, srv) // unopened; Client and Dialer point at the fake; closed by t.Cleanup
//	s.AddHandler(bot.OnInteraction)
//	_ = s.Open()
//	_ = srv.WaitHeartbeat(ctx) // see below
//
//	tok, _ := srv.SendInteraction(discordtest.Interaction{
//		GuildID: g.ID, ChannelID: ch.ID, UserID: alice.ID,
//		Command: "imagine", Options: discordtest.Opts(discordtest.Opt("prompt", "a cat")),
//	})
//	msg, _ := srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool { return len(m.Files) > 0 })
//
// Wiring a session by hand takes two lines: discordgo's endpoints are package
// variables pointing at https://discord.com, so the session's HTTP client gets a
// transport that rewrites those requests to the fake, and GET /api/v9/gateway
// answers with the fake's ws:// URL, which the default websocket dialer reaches:
//
//	s, _ := discordgo.New("Bot " + srv.Token())
//	s.Client = srv.Client()
//
// A member's own files reach the bot as Discord sends them: UploadAttachment
// stores a file on the fake's CDN (ephemeral-attachments) and AttachmentOpt
// names it in a command's attachment option, resolved in
// data.resolved.attachments (url, proxy_url, content_type, size, filename,
// width and height); an Upload may also forge the url or size, or be served
// chunked. Message and user context-menu commands (CommandType, TargetID)
// carry their target in data.resolved. A modal the bot answers with is read
// back with WaitForModal and filled in with SubmitModal, which refuses what
// Discord's client would (a required input left empty, a text too long).
//
// Every REST call is recorded (method, route, JSON payload, uploaded file
// bytes, status, response) and can be awaited with WaitFor; stored messages keep
// their attachment bytes so tests can decode images. RateLimitNext makes the
// next matching call answer 429, and DropConnection cuts the gateway so the
// session reconnects and RESUMEs, receiving the dispatches it missed exactly
// once.
//
// Two discordgo v0.29 races shape how to use the gateway: its heartbeat
// goroutine writes its first heartbeat only after Open returns, and if the
// connection is closed before that write (Session.Close, DropConnection), the
// failed write makes discordgo close whatever connection is current and
// reconnect. WaitHeartbeat waits out that window (discordtesting.Session's
// cleanup calls it).
// Likewise a heartbeat tick during Close's one-second sleep does the same,
// which is why the default heartbeat interval is Discord's 41.25 s rather
// than something short.
//
// Like Discord, the fake holds dispatches for a disconnected session and
// replays them on RESUME; a session closed with code 1000/1001 (what
// Session.Close sends) cannot be resumed. Dispatches respect the IDENTIFY
// intents, and sessions without MESSAGE_CONTENT get guild messages from
// others without content unless the bot is mentioned.
//
// Sharding works as on Discord: GET /gateway/bot recommends a shard count
// and max_concurrency (WithRecommendedShards, WithMaxConcurrency), a session
// identifies with its [shard_id, num_shards] pair, and then gets READY,
// GUILD_CREATE and the events of only the guilds on its shard ((guild_id >>
// 22) % num_shards, see ShardOf); DMs go to shard 0.
//
// Interactions can also arrive the way Discord sends them to an application
// with an Interactions Endpoint URL: SetInteractionsEndpoint makes
// SendInteraction POST them there, signed with Ed25519 over
// X-Signature-Timestamp + body (PublicKey verifies), and read the HTTP
// answer as the initial response, so Callback, Original and the waits see it
// as they see a REST callback; REST calls on the token wait for that answer.
// PostInteraction, PostPing and ReplayInteraction play an attacker too: a
// bad or missing signature, a stale timestamp, a replay, any body.
//
// The fake holds no package state: every Server is independent, so tests using
// it can run in parallel. It imports neither testing nor net/http/httptest, so
// that the demo can run it inside the production binary; the helpers that take
// a testing.TB are in the discordtesting subpackage.
package discordtest
