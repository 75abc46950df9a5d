package bot_test

import (
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// TestDeletedSharedPostIsForgotten: when the shared post in the art
// channel is deleted, its record goes (the web gallery drops it); deleting
// another message of the channel changes nothing.
func TestDeletedSharedPostIsForgotten(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := finishedImagine(h, 1)
	text, _ := h.Reply(h.Click(h.Alice, h.General, res.ID, findID(customIDs(res), "imagine/share/")))
	wantContains(t, text, "Shared")
	shared, err := h.Srv.WaitForMessage(h.Ctx, h.Art.ID, hasFiles)
	must(t, err)
	if _, err := h.Store.SharedPost(h.Ctx, shared.ID); err != nil {
		t.Fatalf("the share was not recorded: %v", err)
	}
	other, err := h.Sess.ChannelMessageSend(h.Art.ID, "not a share")
	must(t, err)
	must(t, h.Sess.ChannelMessageDelete(h.Art.ID, other.ID))
	h.WaitEvent("message_delete", 1)
	if _, err := h.Store.SharedPost(h.Ctx, shared.ID); err != nil {
		t.Fatalf("deleting another message forgot the share: %v", err)
	}
	must(t, h.Sess.ChannelMessageDelete(h.Art.ID, shared.ID))
	h.WaitEvent("message_delete", 1)
	if _, err := h.Store.SharedPost(h.Ctx, shared.ID); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("after its message was deleted the share is still recorded (err %v)", err)
	}
}
