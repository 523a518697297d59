package rooms

import (
	"context"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestPresenceDirectoryAndProfiles(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		hs := newTestHS(t, db)
		alice, bob, carol := hs.client(t, "alice"), hs.client(t, "bob"), hs.client(t, "carol")
		roomID := ok(alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}})).get(t).RoomID
		ok(bob.JoinRoom(ctx, roomID.String(), nil)).get(t)
		bobSync := ok(bob.SyncRequest(ctx, 0, "", "", false, event.PresenceOffline)).get(t)

		ok(struct{}{}, alice.SetPresence(ctx, mautrix.ReqPresence{Presence: event.PresenceOnline, StatusMsg: "lunch"})).get(t)
		next := ok(bob.SyncRequest(ctx, 0, bobSync.NextBatch, "", false, event.PresenceOffline)).get(t)
		var seen *event.PresenceEventContent
		for _, ev := range next.Presence.Events {
			if ev.Sender == alice.UserID {
				_ = ev.Content.ParseRaw(ev.Type)
				seen = ev.Content.AsPresence()
			}
		}
		if seen == nil || seen.Presence != event.PresenceOnline || seen.StatusMessage != "lunch" {
			t.Errorf("bob saw alice's presence as %+v", seen)
		}
		got := ok(carol.GetPresence(ctx, alice.UserID)).get(t)
		if got.Presence != event.PresenceOnline {
			t.Errorf("GET presence = %+v", got)
		}

		// Carol shares no room with alice: the directory hides her, bob finds her.
		if res := ok(carol.SearchUserDirectory(ctx, "alice", 10)).get(t); len(res.Results) != 0 {
			t.Errorf("carol found %v", res.Results)
		}
		res := ok(bob.SearchUserDirectory(ctx, "name of ali", 10)).get(t)
		if len(res.Results) != 1 || res.Results[0].UserID != alice.UserID {
			t.Errorf("bob's search = %+v", res.Results)
		}

		hs.engine.UpdateProfile(ctx, alice.UserID, "Alice Liddell", "mxc://test.local/avatar")
		members := ok(bob.JoinedMembers(ctx, roomID)).get(t)
		if m := members.Joined[alice.UserID]; m.DisplayName != "Alice Liddell" || m.AvatarURL != "mxc://test.local/avatar" {
			t.Errorf("after profile change alice is %+v", m)
		}
	})
}

func TestForget(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		hs := newTestHS(t, db)
		alice, bob := hs.client(t, "alice"), hs.client(t, "bob")
		roomID := ok(alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})).get(t).RoomID
		ok(bob.JoinRoom(ctx, roomID.String(), nil)).get(t)
		if _, err := bob.ForgetRoom(ctx, roomID); err == nil {
			t.Error("forgot a room bob is still in")
		}
		ok(bob.LeaveRoom(ctx, roomID)).get(t)
		withLeave := `{"room":{"include_leave":true}}`
		if resp := ok(bob.SyncRequest(ctx, 0, "", withLeave, false, "")).get(t); resp.Rooms.Leave[roomID] == nil {
			t.Fatal("left room missing from include_leave sync")
		}
		ok(bob.ForgetRoom(ctx, roomID)).get(t)
		if resp := ok(bob.SyncRequest(ctx, 0, "", withLeave, false, "")).get(t); resp.Rooms.Leave[roomID] != nil {
			t.Error("forgotten room still in sync")
		}
		ok(bob.JoinRoom(ctx, roomID.String(), nil)).get(t)
		ok(bob.LeaveRoom(ctx, roomID)).get(t)
		if resp := ok(bob.SyncRequest(ctx, 0, "", withLeave, false, "")).get(t); resp.Rooms.Leave[roomID] == nil {
			t.Error("rejoining did not undo forgetting")
		}
	})
}
