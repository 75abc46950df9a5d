package kudos_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := kudos.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigDecodesOverDefaults(t *testing.T) {
	cfg := kudos.DefaultConfig()
	in := `{"timezone": "Europe/Paris", "settle_delay": "5m", "min_account_age": 3600,
		"giver_daily_cap": 0, "art": {"channels": ["c1"], "per_reactor": 1, "post_cap": 10}}`
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Timezone != "Europe/Paris" || cfg.SettleDelay.Std() != 5*time.Minute || cfg.MinAccountAge.Std() != time.Hour {
		t.Fatalf("decoded %+v", cfg)
	}
	if cfg.GiverDailyCap != 0 {
		t.Fatalf("an explicit 0 must stay 0, got %d", cfg.GiverDailyCap)
	}
	if cfg.ReceiverDailyCap != kudos.DefaultConfig().ReceiverDailyCap {
		t.Fatalf("an absent field must keep its default, got %d", cfg.ReceiverDailyCap)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"settle_delay":"5m0s"`) {
		t.Fatalf("durations marshal as strings: %s", b)
	}
}

func TestConfigValidateRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*kudos.Config)
		want string
	}{
		{"bad timezone", func(c *kudos.Config) { c.Timezone = "Mars/Olympus" }, "timezone"},
		{"emoji in two categories", func(c *kudos.Config) {
			c.Categories[kudos.CategoryArt] = kudos.CategoryConfig{Emojis: []string{"🙏"}, Amount: 1}
		}, "both"},
		{"unknown category", func(c *kudos.Config) {
			c.Categories["gold"] = kudos.CategoryConfig{Emojis: []string{"🥇"}, Amount: 1}
		}, "unknown category"},
		{"negative cap", func(c *kudos.Config) { c.PairWeeklyCap = -1 }, "pair_weekly_cap"},
		{"short retention", func(c *kudos.Config) { c.Retention = kudos.Duration(time.Hour) }, "retention"},
		{"recurring without role", func(c *kudos.Config) { c.Recurring = []kudos.RecurringGrant{{Amount: 5}} }, "recurring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := kudos.DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error about %q, got %v", tt.want, err)
			}
		})
	}
}
