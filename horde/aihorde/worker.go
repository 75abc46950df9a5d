package aihorde

// The bodies of the worker routes (/workers...).

// Worker is the AI Horde's worker details. It never carries keys, IP
// addresses, owners or prompts, and not the worker's blacklist.
type Worker struct {
	Type              string             `json:"type"`
	Name              string             `json:"name"`
	ID                string             `json:"id"`
	Online            bool               `json:"online"`
	RequestsFulfilled int64              `json:"requests_fulfilled"`
	KudosRewards      int64              `json:"kudos_rewards"`
	KudosDetails      WorkerKudosDetails `json:"kudos_details"`
	Performance       string             `json:"performance"`
	Threads           int                `json:"threads"`
	Uptime            int64              `json:"uptime"`
	UncompletedJobs   int64              `json:"uncompleted_jobs"`
	MaintenanceMode   bool               `json:"maintenance_mode"`
	Paused            bool               `json:"paused"`
	Info              *string            `json:"info"`
	NSFW              bool               `json:"nsfw"`
	Trusted           bool               `json:"trusted"`
	Flagged           bool               `json:"flagged"`
	Models            []string           `json:"models"`
	BridgeAgent       string             `json:"bridge_agent"`
	// Image workers.
	MaxPixels      int   `json:"max_pixels,omitempty"`
	Img2Img        *bool `json:"img2img,omitempty"`
	Painting       *bool `json:"painting,omitempty"`
	PostProcessing *bool `json:"post-processing,omitempty"`
	Lora           *bool `json:"lora,omitempty"`
	// Alchemists (type "interrogation"): the forms they offer.
	Forms []string `json:"forms,omitempty"`
	// Text workers.
	MaxLength        int `json:"max_length,omitempty"`
	MaxContextLength int `json:"max_context_length,omitempty"`
	// Messages are the worker's active messages, shown to its owner and
	// moderators only (nil leaves the field out).
	Messages []WorkerMessage `json:"messages,omitempty"`
}

// WorkerKudosDetails splits a worker's kudos by what earned them.
type WorkerKudosDetails struct {
	Generated int64 `json:"generated"`
	Uptime    int64 `json:"uptime"`
}

// WorkerUpdate is the body of PUT /workers/{id}.
type WorkerUpdate struct {
	Maintenance    *bool   `json:"maintenance"`
	MaintenanceMsg *string `json:"maintenance_msg"`
	Paused         *bool   `json:"paused"`
	Info           *string `json:"info"`
	Name           *string `json:"name"`
	Team           *string `json:"team"`
}

// WorkerUpdateResponse echoes the fields a PUT changed, as the AI Horde does.
type WorkerUpdateResponse struct {
	Maintenance *bool   `json:"maintenance,omitempty"`
	Paused      *bool   `json:"paused,omitempty"`
	Info        *string `json:"info,omitempty"`
	Name        *string `json:"name,omitempty"`
	Team        *string `json:"team,omitempty"`
}

// WorkerDeleted is the answer to DELETE /workers/{id}.
type WorkerDeleted struct {
	DeletedID   string `json:"deleted_id"`
	DeletedName string `json:"deleted_name"`
}
