package aihorde

// The bodies of the moderation routes: /kudos/award, /operations/ipaddr
// and /filters.

// DefaultAwardAmount is the AI Horde's default amount of POST /kudos/award.
const DefaultAwardAmount int64 = 100

// KudosAward is the body of POST /kudos/award.
type KudosAward struct {
	Username *string `json:"username"`
	Amount   *int64  `json:"amount"`
}

// KudosAwardResponse is the answer to an award.
type KudosAwardResponse struct {
	Awarded int64 `json:"awarded"`
}

// IPTimeoutAdd is the body of POST /operations/ipaddr.
type IPTimeoutAdd struct {
	IPAddr *string `json:"ipaddr"`
	Hours  *int    `json:"hours"`
}

// IPTimeoutDelete is the body of DELETE /operations/ipaddr.
type IPTimeoutDelete struct {
	IPAddr *string `json:"ipaddr"`
}

// IPTimeout is one address or CIDR block in timeout.
type IPTimeout struct {
	IPAddr  string `json:"ipaddr"`
	Seconds int64  `json:"seconds"`
}

// The AI Horde's filter types: 10-19 are the CSAM lists, 20-29 the others.
const (
	FilterTypeMinors = 10 // terms that refer to minors
	FilterTypeSexual = 11 // sexual terms (refused together with minors)
	FilterTypeNSFW   = 20 // other NSFW terms
)

// FilterDetails is one filter entry of GET /filters.
type FilterDetails struct {
	ID          string  `json:"id"`
	Regex       string  `json:"regex"`
	FilterType  int     `json:"filter_type"`
	Description *string `json:"description"`
	Replacement string  `json:"replacement"`
	User        string  `json:"user"`
}

// FilterRegex is one entry of GET /filters/regex: a filter type's terms as
// one regular expression.
type FilterRegex struct {
	FilterType int    `json:"filter_type"`
	Regex      string `json:"regex"`
}

// FilterCheck is the body of POST /filters.
type FilterCheck struct {
	Prompt     *string `json:"prompt"`
	FilterType *int    `json:"filter_type"`
}

// FilterSuspicion is the answer to POST /filters: a suspicion of 2 or more
// means the prompt would be refused.
type FilterSuspicion struct {
	Suspicion string   `json:"suspicion"`
	Matches   []string `json:"matches"`
}
