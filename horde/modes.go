package horde

import (
	"context"
	"fmt"
	"sync"
)

// HordeModes are the AI Horde's horde-wide modes (PUT /status/modes).
// Maintenance refuses new generation requests (KindUnavailable
// MaintenanceMode); InviteOnly and Raid are stored and reported only: this
// horde has no worker invitations, and raid mode changes nothing yet.
type HordeModes struct {
	Maintenance bool
	InviteOnly  bool
	Raid        bool
}

// HordeModesChange sets the modes that are not nil.
type HordeModesChange struct {
	Maintenance *bool
	InviteOnly  *bool
	Raid        *bool
}

// ModeStore keeps the horde's modes.
type ModeStore interface {
	// HordeModes returns the saved modes; all off if never saved.
	HordeModes(ctx context.Context) (HordeModes, error)
	// SaveHordeModes saves the modes.
	SaveHordeModes(ctx context.Context, m HordeModes) error
}

// Modes holds the horde's modes, read once and kept in memory. It is
// safe for concurrent use.
type Modes struct {
	st ModeStore
	mu sync.Mutex
	m  HordeModes
}

// NewModes loads the modes saved in st.
func NewModes(ctx context.Context, st ModeStore) (*Modes, error) {
	m, err := st.HordeModes(ctx)
	if err != nil {
		return nil, fmt.Errorf("read horde modes: %w", err)
	}
	return &Modes{st: st, m: m}, nil
}

// Current returns the modes now.
func (m *Modes) Current() HordeModes {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m
}

// Set changes the modes; only a moderator may (KindForbidden NotModerator),
// and a change with nothing in it is KindInvalid NoValidActions.
func (m *Modes) Set(ctx context.Context, by User, c HordeModesChange) (HordeModes, error) {
	if !by.Moderator {
		return HordeModes{}, Errorf(KindForbidden, "NotModerator", "only moderators may change the horde's modes")
	}
	if c.Maintenance == nil && c.InviteOnly == nil && c.Raid == nil {
		return HordeModes{}, Errorf(KindInvalid, "NoValidActions", "no mode selected: send maintenance, invite_only or raid")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next := m.m
	for _, f := range []struct {
		v   *bool
		dst *bool
	}{{c.Maintenance, &next.Maintenance}, {c.InviteOnly, &next.InviteOnly}, {c.Raid, &next.Raid}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if err := m.st.SaveHordeModes(ctx, next); err != nil {
		return HordeModes{}, fmt.Errorf("save horde modes: %w", err)
	}
	m.m = next
	return next, nil
}

// AdmitRequest refuses a new generation request while the horde is in
// maintenance: KindUnavailable MaintenanceMode, as the AI Horde's 503.
func (m *Modes) AdmitRequest() error {
	if m.Current().Maintenance {
		return Errorf(KindUnavailable, "MaintenanceMode", "the horde is in maintenance mode: new requests are refused for now, try again later")
	}
	return nil
}
