package interact

import (
	"context"

	"github.com/bwmarrin/discordgo"
)

// Member returns a guild member from the session's state cache, else over
// REST (retried as r says); nil and no error when the guild has no such
// member.
func (r Retrier) Member(ctx context.Context, s *discordgo.Session, guildID, userID string) (*discordgo.Member, error) {
	if s.State != nil {
		if m, err := s.State.Member(guildID, userID); err == nil && m.User != nil {
			return m, nil
		}
	}
	var m *discordgo.Member
	err := r.Do(ctx, "get member", func(opts ...discordgo.RequestOption) error {
		var err error
		m, err = s.GuildMember(guildID, userID, opts...)
		return err
	})
	if IsNotFound(err) {
		return nil, nil
	}
	return m, err
}
