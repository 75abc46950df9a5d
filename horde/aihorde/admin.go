package aihorde

// The bodies of the administration routes: PUT /users/{id},
// /workers/messages, /status/modes and /status/news.

// UserModify is the body of PUT /users/{id} (the AI Horde's
// ModifyUserInput). hordebot acts on kudos, concurrency, moderator,
// trusted, flagged, username and reset_suspicion; the others are read so
// that a request naming them is refused clearly rather than half done.
type UserModify struct {
	Kudos           *float64 `json:"kudos"`
	Concurrency     *int     `json:"concurrency"`
	UsageMultiplier *float64 `json:"usage_multiplier"`
	WorkerInvited   *int     `json:"worker_invited"`
	Moderator       *bool    `json:"moderator"`
	PublicWorkers   *bool    `json:"public_workers"`
	MonthlyKudos    *int     `json:"monthly_kudos"`
	Username        *string  `json:"username"`
	Trusted         *bool    `json:"trusted"`
	Flagged         *bool    `json:"flagged"`
	Customizer      *bool    `json:"customizer"`
	VPN             *bool    `json:"vpn"`
	Service         *bool    `json:"service"`
	Education       *bool    `json:"education"`
	Special         *bool    `json:"special"`
	Undelete        *bool    `json:"undelete"`
	Filtered        *bool    `json:"filtered"`
	ResetSuspicion  *bool    `json:"reset_suspicion"`
	GenerateProxy   *bool    `json:"generate_proxy_passkey"`
	Contact         *string  `json:"contact"`
	AdminComment    *string  `json:"admin_comment"`
}

// UserModified is the answer to PUT /users/{id} (the AI Horde's
// ModifyUser): the fields the request changed, with their new values.
type UserModified struct {
	NewKudos     *float64 `json:"new_kudos,omitempty"`
	Concurrency  *int     `json:"concurrency,omitempty"`
	Moderator    *bool    `json:"moderator,omitempty"`
	Username     *string  `json:"username,omitempty"`
	Trusted      *bool    `json:"trusted,omitempty"`
	Flagged      *bool    `json:"flagged,omitempty"`
	NewSuspicion *int64   `json:"new_suspicion,omitempty"`
}

// WorkerMessageInput is the body of POST /workers/messages (the AI Horde's
// input_model_message). Expiry is in hours.
type WorkerMessageInput struct {
	WorkerID *string `json:"worker_id"`
	Message  *string `json:"message"`
	Origin   *string `json:"origin"`
	Expiry   *int    `json:"expiry"`
}

// WorkerMessage is a message to a worker's owner (the AI Horde's
// ResponseModelMessage). Times are RFC 822, as flask-restx writes them.
type WorkerMessage struct {
	ID       string `json:"id"`
	Message  string `json:"message"`
	Origin   string `json:"origin,omitempty"`
	Expiry   string `json:"expiry"`
	WorkerID string `json:"worker_id,omitempty"`
	UserID   string `json:"user_id"`
	Created  string `json:"created"`
}

// PopMessage is a message in a pop answer (the AI Horde's
// ResponseModelMessagePop). Expiry is RFC 822.
type PopMessage struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Origin  string `json:"origin,omitempty"`
	Expiry  string `json:"expiry"`
}

// Limits of a worker message, as the AI Horde's input_model_message has them.
const (
	MinMessageExpiryHours = 1
	MaxMessageExpiryHours = 30 * 24
)

// SimpleResponse is the AI Horde's {"message": "OK"}.
type SimpleResponse struct {
	Message string `json:"message"`
}

// HordeModes is /status/modes. RaidMode is shown to moderators only.
type HordeModes struct {
	MaintenanceMode bool  `json:"maintenance_mode"`
	InviteOnlyMode  bool  `json:"invite_only_mode"`
	RaidMode        *bool `json:"raid_mode,omitempty"`
}

// Newspiece is one entry of /status/news.
type Newspiece struct {
	DatePublished string   `json:"date_published"`
	Newspiece     string   `json:"newspiece"`
	Importance    string   `json:"importance"`
	Tags          []string `json:"tags"`
	Title         string   `json:"title"`
	MoreInfoURLs  []string `json:"more_info_urls"`
}
