package commands_test

import (
	"testing"

	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store"
)

// TestWorkQueueingInteractionsAreResumable: every command, button and form
// that queues a request or an interrogation is Resumable (the bot records
// it before deferring it, bot/deferred.go); those that queue nothing are
// not.
func TestWorkQueueingInteractionsAreResumable(t *testing.T) {
	set := commands.New(commands.Config{}, commands.Deps{Styles: api.NewStyleRules(nil), Settings: (*store.Store)(nil)})
	for _, c := range []struct {
		kind, id  string
		resumable bool
	}{
		{"command", "imagine", true},
		{"command", "write", true},
		{"command", "blend", true},
		{"command", "describe", true},
		{"command", "Describe", true},
		{"command", "Upscale", true},
		{"command", "Remix", false}, // opens the form: its submit queues
		{"command", "kudos", false},
		{"form", "remix/123", true},
		{"button", "imagine/reroll/r1", true},
		{"button", "imagine/variation/r1", true},
		{"button", "imagine/upscale/r1/1", false}, // posts an image, queues nothing
		{"button", "image/upscale/r1/1/2", true},
		{"button", "image/vary/r1/1/subtle", true},
		{"button", "image/zoom/r1/1", true},
		{"button", "image/describe/r1/1", true},
		{"button", "image/share/r1/1", false},
		{"button", "image/delete/r1", false},
	} {
		var got, found bool
		switch c.kind {
		case "command":
			if cmd := set.Command(c.id); cmd != nil {
				got, found = cmd.Resumable, true
			}
		case "button":
			if comp, _ := set.Component(c.id); comp != nil {
				got, found = comp.Resumable, true
			}
		case "form":
			if form, _ := set.Form(c.id); form != nil {
				got, found = form.Resumable, true
			}
		}
		if !found {
			t.Errorf("%s %s: not registered", c.kind, c.id)
		} else if got != c.resumable {
			t.Errorf("%s %s: resumable %v, want %v", c.kind, c.id, got, c.resumable)
		}
	}
}
