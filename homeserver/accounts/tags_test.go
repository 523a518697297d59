package accounts

import (
	"context"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestRoomTags(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		alice := s.register(t, "alice", "correct horse")
		bob := s.register(t, "bob", "correct horse")
		const room = id.RoomID("!room:example.org")
		before := s.AccountDataPosition()
		if err := alice.AddTag(ctx, room, event.RoomTagFavourite, 0.25); err != nil {
			t.Fatal(err)
		}
		if err := alice.AddTag(ctx, room, "u.work", 0.5); err != nil {
			t.Fatal(err)
		}
		if err := alice.RemoveTag(ctx, room, "u.work"); err != nil {
			t.Fatal(err)
		}
		tags, err := alice.GetTags(ctx, room)
		if err != nil {
			t.Fatal(err)
		}
		if len(tags.Tags) != 1 || tags.Tags[event.RoomTagFavourite].Order.String() != "0.25" {
			t.Errorf("tags = %+v", tags.Tags)
		}
		_, perRoom, _, err := s.AccountDataSince(ctx, alice.UserID, before)
		if err != nil {
			t.Fatal(err)
		}
		if evs := perRoom[room]; len(evs) != 1 || evs[0].Type.Type != "m.tag" {
			t.Errorf("m.tag not in the account data stream: %+v", perRoom)
		}
		if bobTags, err := bob.GetTags(ctx, room); err != nil || len(bobTags.Tags) != 0 {
			t.Errorf("bob's tags = %+v, %v; want his own, empty", bobTags.Tags, err)
		}
		// Bob's token on alice's path is refused.
		bobAsAlice := s.client(t, bob.UserID, bob.AccessToken)
		bobAsAlice.UserID = alice.UserID
		if _, err := bobAsAlice.GetTags(ctx, room); err == nil {
			t.Error("bob read alice's tags")
		}
	})
}
