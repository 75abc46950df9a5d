package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// RoleLimits says, per Discord role, what members may ask of /imagine and
// /write. A member's limits are the most generous of Default and the tiers
// of the roles they hold. With no RoleLimits configured everything the
// commands offer is allowed.
type RoleLimits struct {
	// Default applies to every member, whatever their roles.
	Default Limits `json:"default"`
	// Roles are the tiers, each for the holders of one role.
	Roles []RoleLimit `json:"roles"`
}

// RoleLimit is one role's tier.
type RoleLimit struct {
	RoleID string `json:"role_id"`
	Limits
}

// Limits are a tier's maxima. In Default, a zero maximum or an empty model
// list is no limit beyond the command's own; in a role's tier, a zero or
// empty value leaves the default's, and a set one raises it (a longer
// model list is the union, a shorter cooldown replaces it).
type Limits struct {
	MaxSteps  int      `json:"max_steps"`  // /imagine steps
	MaxCount  int      `json:"max_count"`  // /imagine count
	MaxPixels int      `json:"max_pixels"` // /imagine width x height
	MaxLength int      `json:"max_length"` // /write max_length, in tokens
	Models    []string `json:"models"`     // the models the tier may ask for by name
	// NSFW allows the nsfw option (still only in age-restricted channels);
	// with role limits configured, NSFW needs a tier that allows it.
	NSFW bool `json:"nsfw"`
	// Img2Img allows requests that start from an image: /imagine image:,
	// Vary, Zoom out, Remix and /blend; with role limits configured, they
	// need a tier that allows it.
	Img2Img bool `json:"img2img"`
	// Cooldown is the least time between two of a member's /imagine or
	// /write requests (0: none).
	Cooldown kudos.Duration `json:"cooldown"`
}

// Enabled reports whether any limit is configured.
func (r RoleLimits) Enabled() bool {
	return len(r.Roles) > 0 || !r.Default.isZero()
}

func (l Limits) isZero() bool {
	return l.MaxSteps == 0 && l.MaxCount == 0 && l.MaxPixels == 0 && l.MaxLength == 0 && len(l.Models) == 0 && !l.NSFW && !l.Img2Img && l.Cooldown == 0
}

// Validate checks the tiers: a role id each, no role twice, no negative values.
func (r RoleLimits) Validate() error {
	seen := map[string]bool{}
	check := func(where string, l Limits) error {
		if l.MaxSteps < 0 || l.MaxCount < 0 || l.MaxPixels < 0 || l.MaxLength < 0 || l.Cooldown < 0 {
			return fmt.Errorf("%s: limits must not be negative", where)
		}
		return nil
	}
	if err := check("role_limits.default", r.Default); err != nil {
		return err
	}
	for i, t := range r.Roles {
		where := fmt.Sprintf("role_limits.roles[%d]", i)
		if t.RoleID == "" {
			return fmt.Errorf("%s: role_id is required", where)
		}
		if seen[t.RoleID] {
			return fmt.Errorf("%s: role %s is listed twice", where, t.RoleID)
		}
		seen[t.RoleID] = true
		if err := check(where, t.Limits); err != nil {
			return err
		}
	}
	return nil
}

// For returns the limits of a member holding roles: the most generous of
// the default and their tiers (see Limits).
func (r RoleLimits) For(roles []string) Limits {
	out := r.Default
	for _, t := range r.Roles {
		if slices.Contains(roles, t.RoleID) {
			out = out.join(t.Limits)
		}
	}
	return out
}

func (l Limits) join(o Limits) Limits {
	// A tier's zero leaves l's value; l's zero (no limit) stays.
	most := func(a, b int) int {
		if a == 0 || b == 0 {
			return a
		}
		return max(a, b)
	}
	l.MaxSteps, l.MaxCount = most(l.MaxSteps, o.MaxSteps), most(l.MaxCount, o.MaxCount)
	l.MaxPixels, l.MaxLength = most(l.MaxPixels, o.MaxPixels), most(l.MaxLength, o.MaxLength)
	if len(l.Models) > 0 && len(o.Models) > 0 {
		l.Models = union(l.Models, o.Models)
	}
	l.NSFW = l.NSFW || o.NSFW
	l.Img2Img = l.Img2Img || o.Img2Img
	if o.Cooldown > 0 && (l.Cooldown == 0 || o.Cooldown < l.Cooldown) {
		l.Cooldown = o.Cooldown
	}
	return l
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// allowsModel reports whether the tier may ask for model by name.
func (l Limits) allowsModel(model string) bool {
	return len(l.Models) == 0 || slices.ContainsFunc(l.Models, func(m string) bool { return strings.EqualFold(m, model) })
}

// check refuses what a request asks beyond l, naming the roles that would
// allow it (in pr's language: the error's Roles, and its Settings, which
// explainSettings fills).
func (r RoleLimits) check(pr *locale.Printer, l Limits, nr horde.NewRequest) error {
	over := func(limit, v int) bool { return limit > 0 && v > limit }
	refuse := func(code, what string, values locale.Args, allows func(Limits) bool) error {
		e := horde.Errorf(horde.KindForbidden, code, "%s%s", what, r.whoMay(allows)).
			With("Roles", r.rolesNote(pr, allows)).With("Settings", "")
		for k, v := range values {
			e = e.With(k, v)
		}
		return e
	}
	if p := nr.Image; p != nil {
		if over(l.MaxSteps, p.Steps) {
			return refuse("RoleSteps", fmt.Sprintf("Your roles allow at most %d steps.", l.MaxSteps), locale.Args{"Max": l.MaxSteps},
				func(t Limits) bool { return !over(t.MaxSteps, p.Steps) })
		}
		if over(l.MaxCount, nr.N) {
			return refuse("RoleCount", fmt.Sprintf("Your roles allow at most %d images at once.", l.MaxCount), locale.Args{"Max": l.MaxCount},
				func(t Limits) bool { return !over(t.MaxCount, nr.N) })
		}
		if px := p.Width * p.Height; over(l.MaxPixels, px) {
			return refuse("RoleSize", fmt.Sprintf("Your roles allow images of at most %d pixels (%dx%d is %d).", l.MaxPixels, p.Width, p.Height, px),
				locale.Args{"Max": l.MaxPixels, "Width": p.Width, "Height": p.Height, "Pixels": px},
				func(t Limits) bool { return !over(t.MaxPixels, px) })
		}
	}
	if p := nr.Text; p != nil && over(l.MaxLength, p.MaxLength) {
		return refuse("RoleLength", fmt.Sprintf("Your roles allow at most %d tokens.", l.MaxLength), locale.Args{"Max": l.MaxLength},
			func(t Limits) bool { return !over(t.MaxLength, p.MaxLength) })
	}
	for _, m := range nr.Models {
		if !l.allowsModel(m) {
			return refuse("RoleModel", fmt.Sprintf("Your roles may not ask for the model %s.", m), locale.Args{"Model": m},
				func(t Limits) bool { return t.allowsModel(m) })
		}
	}
	if p := nr.Image; p != nil && p.SourceImage != "" && !l.Img2Img {
		return refuseImg2Img(pr, r)
	}
	if nr.NSFW && !l.NSFW {
		return refuse("RoleNSFW", "Your roles may not ask for NSFW images.", nil, func(t Limits) bool { return t.NSFW })
	}
	return nil
}

// rolesNote is whoMay in pr's language, for a refusal's Roles: " The role
// <@&1> or <@&2> would allow it.", or "" when no role would.
func (r RoleLimits) rolesNote(pr *locale.Printer, allows func(Limits) bool) string {
	roles := r.rolesAllowing(allows)
	if len(roles) == 0 {
		return ""
	}
	return " " + pr.T("error.role_limits.roles", locale.Args{"Roles": strings.Join(roles, ", "), locale.CountArg: len(roles)})
}

// rolesAllowing are the mentions of the roles whose tier would allow what
// allows accepts.
func (r RoleLimits) rolesAllowing(allows func(Limits) bool) []string {
	var roles []string
	for _, t := range r.Roles {
		if allows(r.Default.join(t.Limits)) {
			roles = append(roles, "<@&"+t.RoleID+">")
		}
	}
	return roles
}

// whoMay names the roles whose tier would allow what allows accepts.
func (r RoleLimits) whoMay(allows func(Limits) bool) string {
	roles := r.rolesAllowing(allows)
	if len(roles) == 0 {
		return ""
	}
	return " The role " + strings.Join(roles, " or ") + " would allow it."
}

// cooldowns remembers each member's last request, for Limits.Cooldown.
// It is per process: with several processes a member may be served once by
// each within a cooldown.
type cooldowns struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// wait reports how long the member must still wait.
func (c *cooldowns) wait(memberID string, cooldown time.Duration, now time.Time) time.Duration {
	if cooldown <= 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.last[memberID]; ok && now.Sub(t) < cooldown {
		return cooldown - now.Sub(t)
	}
	return 0
}

// start begins a member's cooldown at now unless one is running; false if
// one is. Entries older than cooldown are dropped as the map grows, so it
// stays bounded.
func (c *cooldowns) start(memberID string, now time.Time, cooldown time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.last[memberID]; ok && now.Sub(t) < cooldown {
		return false
	}
	if c.last == nil {
		c.last = map[string]time.Time{}
	}
	if len(c.last) >= 10_000 {
		for id, t := range c.last {
			if now.Sub(t) >= cooldown {
				delete(c.last, id)
			}
		}
	}
	c.last[memberID] = now
	return true
}

// cancel takes back the cooldown start made at at (a refused request).
func (c *cooldowns) cancel(memberID string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.last[memberID]; ok && t.Equal(at) {
		delete(c.last, memberID)
	}
}

// limitsFor returns the caller's limits, and whether any are configured.
func (s *Set) limitsFor(ix *interact.Interaction) (Limits, bool) {
	if !s.cfg.RoleLimits.Enabled() {
		return Limits{}, false
	}
	var roles []string
	if ix.Member != nil {
		roles = ix.Member.Roles
	}
	return s.cfg.RoleLimits.For(roles), true
}

// applyRoleLimits holds a request to the caller's role limits: options the
// member left out follow them (fewer default steps or tokens when a tier
// allows fewer), what they asked beyond them is refused naming the roles
// that would allow it, and the cooldown starts.
func (s *Set) applyRoleLimits(ix *interact.Interaction, given func(option string) bool, nr *horde.NewRequest) error {
	l, on := s.limitsFor(ix)
	if !on {
		return nil
	}
	if p := nr.Image; p != nil && !given("steps") && l.MaxSteps > 0 && p.Steps > l.MaxSteps {
		p.Steps = l.MaxSteps
	}
	if p := nr.Text; p != nil && !given("max_length") && l.MaxLength > 0 && p.MaxLength > l.MaxLength {
		p.MaxLength = l.MaxLength
	}
	if err := s.cfg.RoleLimits.check(ix.Printer(), l, *nr); err != nil {
		return err
	}
	if wait := s.cooldowns.wait(ix.Caller.ID, l.Cooldown.Std(), s.cfg.Clock.Now()); wait > 0 {
		return horde.Errorf(horde.KindRateLimited, "RoleCooldown", "You can ask again in %s.", wait.Round(time.Second)).With("Wait", cooldownWait(wait))
	}
	return nil
}

// submitLimited is submitAndWatch for a request held to the role limits
// (given says which options the member set; a rerun button sets them all).
func (s *Set) submitLimited(ctx context.Context, ix *interact.Interaction, given func(option string) bool, nr horde.NewRequest, shown string) error {
	if err := s.applyRoleLimits(ix, given, &nr); err != nil {
		return err
	}
	return s.withCooldown(ix, func() error { return s.submitAndWatch(ctx, ix, nr, shown) })
}

// withCooldown runs submit, which asks the horde for something, within the
// caller's role cooldown: the cooldown starts before it runs, so that a
// second command cannot slip in while the first is being accepted, and is
// given back if the horde refuses it.
func (s *Set) withCooldown(ix *interact.Interaction, submit func() error) error {
	l, on := s.limitsFor(ix)
	if !on || l.Cooldown <= 0 {
		return submit()
	}
	now := s.cfg.Clock.Now()
	if !s.cooldowns.start(ix.Caller.ID, now, l.Cooldown.Std()) {
		wait := s.cooldowns.wait(ix.Caller.ID, l.Cooldown.Std(), now).Round(time.Second)
		return horde.Errorf(horde.KindRateLimited, "RoleCooldown", "You can ask again in %s.", wait).With("Wait", cooldownWait(wait))
	}
	err := submit()
	var he *horde.Error
	if errors.As(err, &he) {
		s.cooldowns.cancel(ix.Caller.ID, now) // refused: the member may try again at once
	}
	return err
}

// allGiven is the given of a request repeated from another: every option counts as asked for.
func allGiven(string) bool { return true }

// cooldownWait is a cooldown's rest as members read it: whole hours from
// two hours, whole minutes from two minutes, else seconds, rounded up (a
// locale.Printer words the duration in its largest whole unit).
func cooldownWait(d time.Duration) time.Duration {
	ceil := func(unit time.Duration) time.Duration { return (d + unit - 1) / unit * unit }
	switch {
	case d >= 2*time.Hour:
		return ceil(time.Hour)
	case d >= 2*time.Minute:
		return ceil(time.Minute)
	default:
		return ceil(time.Second)
	}
}
