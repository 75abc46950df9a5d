package bot

import (
	"context"
	"time"
)

// startPartyEnds runs the commands' party pass (commands.Set.EndParties) at
// Start and every PartyCheckEvery until ctx ends: parties whose end time
// passed are ended and refunded, and every ended party's summary not yet
// posted is posted. Parties live in the database, so a party whose end
// time passed while no process ran ends at the next start. Like the role
// rewards, it runs only in a process with gateway shards and only for the
// guilds those shards own; with several processes each party is ended and
// announced once (both are claimed in the store).
func (b *Bot) startPartyEnds(ctx context.Context) {
	every := b.cfg.PartyCheckEvery
	b.background.Add(1)
	go func() {
		defer b.background.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if err := b.set.EndParties(ctx, b.ownsGuild); err != nil && ctx.Err() == nil {
				b.log.Error("end due parties", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}
