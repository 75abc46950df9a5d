package bot

import "github.com/bwmarrin/discordgo"

// onMessageDelete forgets a shared post whose message was deleted (by its
// member's Delete button, a moderator or Discord): a deleted share leaves
// the web gallery and earns nothing more.
func (b *Bot) onMessageDelete(_ *discordgo.Session, m *discordgo.MessageDelete) {
	if !b.enter() {
		return
	}
	defer b.inflight.Done()
	var err error
	defer func() { b.eventDone("message_delete", err) }()
	if m.Message == nil || m.ID == "" || b.cfg.ArtChannelID == "" || m.ChannelID != b.cfg.ArtChannelID {
		return
	}
	ctx, cancel := b.handlerContext()
	defer cancel()
	if err = b.deps.Store.ForgetSharedPost(ctx, m.ID); err != nil {
		b.log.Error("forget deleted shared post", "message", m.ID, "err", err)
	}
}
