package aihorde

// The bodies of the user and kudos routes.

// User is the AI Horde's user details (find_user and users/{id}).
type User struct {
	Username      string            `json:"username"`
	ID            int64             `json:"id"`
	Kudos         int64             `json:"kudos"`
	WorkerIDs     []string          `json:"worker_ids"`
	WorkerCount   int               `json:"worker_count"`
	Concurrency   int               `json:"concurrency"`
	Trusted       bool              `json:"trusted"`
	Flagged       bool              `json:"flagged"`
	Moderator     bool              `json:"moderator"`
	Pseudonymous  bool              `json:"pseudonymous"`
	AccountAge    int64             `json:"account_age"`
	Usage         UserUsage         `json:"usage"`
	Contributions UserContributions `json:"contributions"`
	Records       UserRecords       `json:"records"`
}

// UserUsage is what a user requested.
type UserUsage struct {
	Requests int64 `json:"requests"`
}

// UserContributions is what a user's workers did.
type UserContributions struct {
	Fulfillments int64 `json:"fulfillments"`
}

// UserRecords counts a user's requests and fulfillments by kind.
type UserRecords struct {
	Request     UserCounts `json:"request"`
	Fulfillment UserCounts `json:"fulfillment"`
}

// UserCounts is a count by kind.
type UserCounts struct {
	Image int64 `json:"image"`
	Text  int64 `json:"text"`
}

// KudosTransfer is the body of POST /kudos/transfer.
type KudosTransfer struct {
	Username *string `json:"username"`
	Amount   *int64  `json:"amount"`
}

// KudosTransferResponse is the answer to a transfer.
type KudosTransferResponse struct {
	Transferred int64 `json:"transferred"`
}
