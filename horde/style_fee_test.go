package horde_test

import (
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// styleRewards counts a user's style_reward entries.
func (e *env) styleRewards(userID int64) int {
	e.tb.Helper()
	hist, err := e.st.History(e.ctx, userID, 100)
	if err != nil {
		e.tb.Fatal(err)
	}
	n := 0
	for _, en := range hist {
		if en.Kind == kudos.KindStyleReward {
			n++
		}
	}
	return n
}

// TestStyleFeeSurvivesRestart: a request's style fee is stored with it and
// paid with its first result after a restart, once.
func TestStyleFeeSurvivesRestart(t *testing.T) {
	e := newEnv(t, horde.Config{})
	creator := e.user("creator", 0)
	requester := e.user("requester", 100)
	worker := e.user("worker", 0)
	nr := imageRequest("a lighthouse")
	nr.N = 2
	nr.Style = &horde.StyleUse{StyleID: "style-1", OwnerID: creator.User.ID}
	req := e.submit(requester, nr)

	e.restart()
	e.submitOK(worker, e.popOne(worker, imagePop("w1")).Job.ID)
	if b := e.balance(creator.User.ID); b != kudos.StyleReward {
		t.Errorf("creator's balance after the first result = %d, want %d", b, kudos.StyleReward)
	}
	e.restart()
	e.submitOK(worker, e.popOne(worker, imagePop("w1")).Job.ID)
	if n := e.styleRewards(creator.User.ID); n != 1 {
		t.Errorf("creator paid %d times for request %s, want once", n, req.ID)
	}
	if b := e.balance(requester.User.ID); b != 100-req.Kudos-kudos.StyleReward {
		t.Errorf("requester's balance = %d, want %d", b, 100-req.Kudos-kudos.StyleReward)
	}
}

// TestStyleFeeNotAffordable: a requester whose balance covers the item but
// not the fee above their floor pays the item; the fee waits.
func TestStyleFeeNotAffordable(t *testing.T) {
	e := newEnv(t, horde.Config{})
	creator := e.user("creator", 0)
	worker := e.user("worker", 0)
	nr := imageRequest("a lighthouse")
	nr.N = 1
	nr.DryRun = true
	priced := e.submit(e.user("pricer", 0), nr)
	// After the item, one kudos above the floor (-100) is left: not the fee.
	requester := e.user("requester", kudos.DefaultMemberFloor+priced.Kudos+1)
	nr.DryRun = false
	nr.Style = &horde.StyleUse{StyleID: "style-1", OwnerID: creator.User.ID}
	e.submit(requester, nr)
	reward := e.submitOK(worker, e.popOne(worker, imagePop("w1")).Job.ID)
	if reward != priced.Kudos {
		t.Errorf("worker's reward = %d, want the item's %d", reward, priced.Kudos)
	}
	if b := e.balance(creator.User.ID); b != 0 {
		t.Errorf("creator's balance = %d, want 0 (the requester could not pay the fee)", b)
	}
	if b := e.balance(requester.User.ID); b != kudos.DefaultMemberFloor+1 {
		t.Errorf("requester's balance = %d, want %d: never below the floor", b, kudos.DefaultMemberFloor+1)
	}
}
