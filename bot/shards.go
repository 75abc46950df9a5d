package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// ShardConfig is the discord.shards section: how many gateway shards the
// bot has and which of them this process runs. Discord sends a guild's
// events to shard (guild_id >> 22) % count and every DM to shard 0.
type ShardConfig struct {
	// Count is the total number of shards over all processes; 0 takes the
	// number Discord recommends (GET /gateway/bot).
	Count int `json:"count"`
	// IDs are the shards this process runs; empty runs them all.
	IDs []int `json:"ids"`
}

// ShardPlan is a ShardConfig resolved against Discord.
type ShardPlan struct {
	Count int   // total shards
	IDs   []int // the shards this process runs, ascending
	// MaxConcurrency is how many shards may identify at once
	// (session_start_limit.max_concurrency; at least 1).
	MaxConcurrency int
}

// identifyInterval is Discord's pacing of IDENTIFYs within one
// max_concurrency bucket.
const identifyInterval = 5 * time.Second

// PlanShards resolves cfg with GET /gateway/bot on rest: the recommended
// shard count when Count is 0, max_concurrency, and the daily session start
// allowance, which must cover the shards to start (Discord resets a token
// that exceeds it). Unknown or duplicate shard ids are an error.
func PlanShards(ctx context.Context, rest *discordgo.Session, cfg ShardConfig) (ShardPlan, error) {
	gb, err := rest.GatewayBot(discordgo.WithContext(ctx))
	if err != nil {
		return ShardPlan{}, fmt.Errorf("get /gateway/bot: %w", err)
	}
	p := ShardPlan{Count: cfg.Count, MaxConcurrency: max(gb.SessionStartLimit.MaxConcurrency, 1)}
	if p.Count <= 0 {
		p.Count = max(gb.Shards, 1)
	}
	if len(cfg.IDs) == 0 {
		for i := range p.Count {
			p.IDs = append(p.IDs, i)
		}
	} else {
		p.IDs = slices.Clone(cfg.IDs)
		slices.Sort(p.IDs)
		for i, id := range p.IDs {
			if id < 0 || id >= p.Count {
				return ShardPlan{}, fmt.Errorf("discord.shards.ids: shard %d is not in 0..%d (count %d)", id, p.Count-1, p.Count)
			}
			if i > 0 && p.IDs[i-1] == id {
				return ShardPlan{}, fmt.Errorf("discord.shards.ids: shard %d is listed twice", id)
			}
		}
	}
	if lim := gb.SessionStartLimit; lim.Total > 0 && lim.Remaining < len(p.IDs) {
		return ShardPlan{}, fmt.Errorf("discord allows %d more gateway sessions today, %d shards need one each: wait %s",
			lim.Remaining, len(p.IDs), time.Duration(lim.ResetAfter)*time.Millisecond)
	}
	return p, nil
}

// Sessions returns one unopened session per shard of the plan, made by
// newSession and given its ShardID and ShardCount.
func (p ShardPlan) Sessions(newSession func() (*discordgo.Session, error)) ([]*discordgo.Session, error) {
	out := make([]*discordgo.Session, 0, len(p.IDs))
	for _, id := range p.IDs {
		s, err := newSession()
		if err != nil {
			return nil, fmt.Errorf("session for shard %d: %w", id, err)
		}
		s.ShardID, s.ShardCount = id, p.Count
		out = append(out, s)
	}
	return out, nil
}

// ShardOf is the shard that receives a guild's events among count shards:
// (guild_id >> 22) % count. DMs (guildID "") go to shard 0.
func ShardOf(guildID string, count int) int {
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil || count <= 1 {
		return 0
	}
	return int((id >> 22) % uint64(count))
}

// openShards opens the sessions as Discord paces IDENTIFY: shards share a
// bucket when their ids are equal modulo maxConcurrency, and a bucket
// identifies once per identifyInterval. Each round opens one shard of every
// bucket at once; wait sleeps between rounds. On a failure the sessions
// already opened are closed.
func openShards(ctx context.Context, sessions []*discordgo.Session, maxConcurrency int, wait func(context.Context, time.Duration) error) error {
	maxConcurrency = max(maxConcurrency, 1)
	buckets := map[int][]*discordgo.Session{}
	rounds := 0
	for _, s := range sessions {
		k := s.ShardID % maxConcurrency
		buckets[k] = append(buckets[k], s)
		rounds = max(rounds, len(buckets[k]))
	}
	var opened []*discordgo.Session
	fail := func(err error) error {
		for _, s := range opened {
			_ = s.Close()
		}
		return err
	}
	for r := range rounds {
		if r > 0 {
			if err := wait(ctx, identifyInterval); err != nil {
				return fail(fmt.Errorf("open gateway shards: %w", err))
			}
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for _, b := range buckets {
			if r >= len(b) {
				continue
			}
			s := b[r]
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Open()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("open gateway shard %d/%d: %w", s.ShardID, s.ShardCount, err))
					return
				}
				opened = append(opened, s)
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			return fail(errors.Join(errs...))
		}
	}
	return nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
