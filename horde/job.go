package horde

import (
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// JobState is the state of one popped item.
type JobState string

// Job states.
const (
	JobProcessing JobState = "processing"
	JobDone       JobState = "done"
	JobFaulted    JobState = "faulted" // the worker said so; the item is re-queued
	JobAborted    JobState = "aborted" // past its TTL; the item is re-queued
	JobCancelled  JobState = "cancelled"
)

// Result states a worker may submit (the AI Horde's "state" field).
const (
	ResultOK       = aihorde.StateOK
	ResultCensored = aihorde.StateCensored
	ResultFaulted  = aihorde.StateFaulted
	ResultCSAM     = aihorde.StateCSAM
)

// Job is one item of a request popped by one worker.
type Job struct {
	ID        string // uuid
	RequestID string
	Item      int // 0..N-1
	WorkerID  string
	Model     string
	Seed      int64
	State     JobState
	StartedAt time.Time
	Deadline  time.Time // StartedAt + TTL
	// Set when finished.
	FinishedAt time.Time
	Kudos      int64 // the worker's reward
}

// Generation is a finished job's result.
type Generation struct {
	JobID      string
	RequestID  string
	Item       int
	WorkerID   string
	WorkerName string
	Model      string
	Seed       int64
	State      string // ResultOK, ResultCensored, ResultCSAM
	Text       string // text generations
	BlobRef    string // image generations: content address in the blob store
	Metadata   []GenMetadata
	CreatedAt  time.Time
}

// GenMetadata is the AI Horde's gen_metadata entry.
type GenMetadata struct {
	Type  string
	Value string
	Ref   string
}

// ImageJobTTL is the time a worker has for an image job (aihorde.ImageTTL):
// about 30 + steps*2*(w*h/512^2) seconds, at least 150 s.
func ImageJobTTL(p ImageParams) time.Duration { return aihorde.ImageTTL(p.Width, p.Height, p.Steps) }

// TextJobTTL is the time a worker has for a text job.
const TextJobTTL = aihorde.TextTTL
