package aihorde

// The views of a request: check (RequestStatusCheck) and status, with its generations.

// RequestStatusCheck is the AI Horde's check view of a request.
type RequestStatusCheck struct {
	Finished      int   `json:"finished"`
	Processing    int   `json:"processing"`
	Restarted     int   `json:"restarted"`
	Waiting       int   `json:"waiting"`
	Done          bool  `json:"done"`
	Faulted       bool  `json:"faulted"`
	WaitTime      int   `json:"wait_time"`
	QueuePosition int   `json:"queue_position"`
	Kudos         int64 `json:"kudos"`
	IsPossible    bool  `json:"is_possible"`
}

// ImageStatus is the AI Horde's image status view.
type ImageStatus struct {
	RequestStatusCheck
	Generations []ImageGeneration `json:"generations"`
	Shared      bool              `json:"shared"`
}

// ImageGeneration is one finished image of an ImageStatus.
type ImageGeneration struct {
	Img         string        `json:"img"`
	Seed        string        `json:"seed"`
	ID          string        `json:"id"`
	Censored    bool          `json:"censored"`
	WorkerID    string        `json:"worker_id"`
	WorkerName  string        `json:"worker_name"`
	Model       string        `json:"model"`
	State       string        `json:"state"`
	GenMetadata []GenMetadata `json:"gen_metadata"`
}

// TextStatus is the AI Horde's text status view.
type TextStatus struct {
	RequestStatusCheck
	Generations []TextGeneration `json:"generations"`
}

// TextGeneration is one finished text of a TextStatus.
type TextGeneration struct {
	Text        string        `json:"text"`
	Seed        int64         `json:"seed"`
	ID          string        `json:"id"`
	WorkerID    string        `json:"worker_id"`
	WorkerName  string        `json:"worker_name"`
	Model       string        `json:"model"`
	State       string        `json:"state"`
	GenMetadata []GenMetadata `json:"gen_metadata"`
}
