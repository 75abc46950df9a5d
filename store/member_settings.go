package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hordebot/hordebot/bot/membersettings"
)

// storedSettings is the JSON of member_settings.doc; its names must not
// change (a field added later reads as unset in older rows).
type storedSettings struct {
	ImageModel string  `json:"image_model,omitempty"`
	Width      int     `json:"width,omitempty"`
	Height     int     `json:"height,omitempty"`
	Steps      int     `json:"steps,omitempty"`
	Sampler    string  `json:"sampler,omitempty"`
	CFGScale   float64 `json:"cfg_scale,omitempty"`
	StyleID    string  `json:"style_id,omitempty"`
	NSFW       bool    `json:"nsfw,omitempty"`
	Private    bool    `json:"private,omitempty"`
	TextModel  string  `json:"text_model,omitempty"`
	MaxLength  int     `json:"max_length,omitempty"`
}

// MemberSettings returns a user's /settings; a user who set none has the
// zero Settings (not an error).
func (s *Store) MemberSettings(ctx context.Context, userID int64) (membersettings.Settings, error) {
	return s.readSettings(ctx, `SELECT doc FROM member_settings WHERE user_id = ?`, userID)
}

// MemberSettingsOfDiscordUser returns the /settings of the horde user of a
// Discord account: the zero Settings when it has no horde user yet or set
// none. It spares a caller that only reads (the bot's choice of a public or
// a private answer) from creating the user first.
func (s *Store) MemberSettingsOfDiscordUser(ctx context.Context, discordID string) (membersettings.Settings, error) {
	return s.readSettings(ctx, `SELECT m.doc FROM member_settings m JOIN users u ON u.id = m.user_id WHERE u.discord_id = ?`, discordID)
}

func (s *Store) readSettings(ctx context.Context, query string, arg any) (membersettings.Settings, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, query, arg).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return membersettings.Settings{}, nil
	}
	if err != nil {
		return membersettings.Settings{}, unavailable(fmt.Errorf("read member settings of %v: %w", arg, err))
	}
	var d storedSettings
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return membersettings.Settings{}, fmt.Errorf("member settings of %v: decode: %w", arg, err)
	}
	return membersettings.Settings(d), nil
}

// SetMemberSettings replaces a user's /settings; the zero Settings deletes
// them.
func (s *Store) SetMemberSettings(ctx context.Context, userID int64, ms membersettings.Settings) error {
	doc, err := json.Marshal(storedSettings(ms))
	if err != nil {
		return fmt.Errorf("encode member settings of %d: %w", userID, err)
	}
	at := nanos(s.clock.Now())
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		if ms.IsZero() {
			_, err := tx.ExecContext(ctx, `DELETE FROM member_settings WHERE user_id = ?`, userID)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO member_settings (user_id, doc, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`, userID, string(doc), at)
		return err
	})
	if err != nil {
		return unavailable(fmt.Errorf("set member settings of %d: %w", userID, err))
	}
	return nil
}
