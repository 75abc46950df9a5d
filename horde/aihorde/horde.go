package aihorde

// The bodies of the status routes (/status/heartbeat, /status/models,
// /status/performance).

// Heartbeat is the answer of /status/heartbeat.
type Heartbeat struct {
	Message string `json:"message"`
	Version string `json:"version"`
}

// ActiveModel is one line of /status/models.
type ActiveModel struct {
	Name        string  `json:"name"`
	Count       int     `json:"count"`
	Performance float64 `json:"performance"`
	Queued      float64 `json:"queued"`
	Jobs        int     `json:"jobs"`
	ETA         int     `json:"eta"`
	Type        string  `json:"type"`
}

// Performance is /status/performance.
type Performance struct {
	QueuedRequests           int     `json:"queued_requests"`
	QueuedTextRequests       int     `json:"queued_text_requests"`
	WorkerCount              int     `json:"worker_count"`
	TextWorkerCount          int     `json:"text_worker_count"`
	ThreadCount              int     `json:"thread_count"`
	TextThreadCount          int     `json:"text_thread_count"`
	QueuedMegapixelsteps     float64 `json:"queued_megapixelsteps"`
	PastMinuteMegapixelsteps float64 `json:"past_minute_megapixelsteps"`
	QueuedForms              int     `json:"queued_forms"`
	InterrogatorCount        int     `json:"interrogator_count"`
	InterrogatorThreadCount  int     `json:"interrogator_thread_count"`
	QueuedTokens             float64 `json:"queued_tokens"`
	PastMinuteTokens         float64 `json:"past_minute_tokens"`
}
