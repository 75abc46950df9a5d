package kudos

import "sync/atomic"

// Stats counts what the engine has done since the process started. The
// counters only grow (they are not persisted), which is what a metrics
// scraper wants. Worker rewards and request costs are the horde's (see
// horde.Stats); these are the community side of the economy.
type Stats struct {
	AwardsRecorded   int64 // pending reaction or thanks awards recorded
	AwardsRefused    int64 // reaction or thanks awards a rule refused (see Refuse)
	AwardsSettled    int64 // pending awards paid after the settle delay
	AwardsRevoked    int64 // pending awards revoked by a reaction's removal
	ModeratorAwards  int64 // moderator awards paid (replays not counted)
	ModeratorKudos   int64 // kudos those moderator awards paid
	Transfers        int64 // member-to-member transfers done (replays not counted)
	KudosTransferred int64 // kudos those transfers moved
}

// Stats returns a snapshot of the counters. It takes no lock and is cheap
// enough to call on every metrics scrape.
func (e *Engine) Stats() Stats {
	c := &e.stats
	return Stats{
		AwardsRecorded:   c.awardsRecorded.Load(),
		AwardsRefused:    c.awardsRefused.Load(),
		AwardsSettled:    c.awardsSettled.Load(),
		AwardsRevoked:    c.awardsRevoked.Load(),
		ModeratorAwards:  c.moderatorAwards.Load(),
		ModeratorKudos:   c.moderatorKudos.Load(),
		Transfers:        c.transfers.Load(),
		KudosTransferred: c.kudosTransferred.Load(),
	}
}

// counters are the live Stats, updated atomically.
type counters struct {
	awardsRecorded, awardsRefused, awardsSettled, awardsRevoked atomic.Int64
	moderatorAwards, moderatorKudos                             atomic.Int64
	transfers, kudosTransferred                                 atomic.Int64
}

// countAwards counts the outcomes of one award call.
func (c *counters) countAwards(outs []Outcome, refusals []error) {
	var recorded, refused int64
	for i := range outs {
		if outs[i].Awarded {
			recorded++
		}
		if refusals[i] != nil {
			refused++
		}
	}
	c.awardsRecorded.Add(recorded)
	c.awardsRefused.Add(refused)
}
