package aihorde

// The bodies of /teams (the AI Horde's TeamDetails, CreateTeamInput,
// ModifyTeamInput, ModifyTeam and DeletedTeam) and of PUT /status/modes.

// TeamInput creates (POST /teams: name required) or changes (PATCH
// /teams/{id}: the fields sent) a team.
type TeamInput struct {
	Name *string `json:"name"`
	Info *string `json:"info"`
}

// TeamModified is the answer to POST and PATCH /teams: the team's id and
// the fields set.
type TeamModified struct {
	ID   string  `json:"id,omitempty"`
	Name *string `json:"name,omitempty"`
	Info *string `json:"info,omitempty"`
}

// TeamDeleted is the answer to DELETE /teams/{id}.
type TeamDeleted struct {
	DeletedID   string `json:"deleted_id"`
	DeletedName string `json:"deleted_name"`
}

// TeamWorker is a worker as a team lists it (the AI Horde's WorkerDetailsLite).
type TeamWorker struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	ID     string `json:"id"`
	Online bool   `json:"online"`
}

// TeamDetails is a team as GET /teams and /teams/{id} show it. Its counters
// are the sums of its workers' (Kudos, RequestsFulfilled, Uptime seconds);
// Performance is their average speed, Speed their sum.
type TeamDetails struct {
	Name              string            `json:"name"`
	ID                string            `json:"id"`
	Info              *string           `json:"info"`
	RequestsFulfilled int64             `json:"requests_fulfilled"`
	Kudos             float64           `json:"kudos"`
	Uptime            int64             `json:"uptime"`
	Creator           string            `json:"creator"`
	WorkerCount       int               `json:"worker_count"`
	Workers           []TeamWorker      `json:"workers"`
	Models            []ActiveModelLite `json:"models"`
	Performance       float64           `json:"performance"`
	Speed             float64           `json:"speed"`
}

// ActiveModelLite is a model a team's workers serve, with how many do.
type ActiveModelLite struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// HordeModesInput is the body of PUT /status/modes: the modes sent are set.
type HordeModesInput struct {
	Maintenance *bool `json:"maintenance"`
	InviteOnly  *bool `json:"invite_only"`
	Raid        *bool `json:"raid"`
}
