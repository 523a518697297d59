package rooms

import (
	"context"
	"fmt"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestContextAndRelations(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		hs := newTestHS(t, db)
		alice := hs.client(t, "alice")
		roomID := ok(alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})).get(t).RoomID
		var ids []id.EventID
		for i := range 9 {
			ids = append(ids, ok(alice.SendText(ctx, roomID, fmt.Sprintf("m%d", i))).get(t).EventID)
		}
		target := ids[4]
		reaction := ok(alice.SendReaction(ctx, roomID, target, "👍")).get(t).EventID
		edit := event.MessageEventContent{MsgType: event.MsgText, Body: "* m4 edited"}
		edit.SetEdit(target)
		editID := ok(alice.SendMessageEvent(ctx, roomID, event.EventMessage, &edit)).get(t).EventID

		c := ok(alice.Context(ctx, roomID, target, nil, 4)).get(t)
		if c.Event.ID != target || len(c.EventsBefore) != 2 || len(c.EventsAfter) != 2 {
			t.Fatalf("context: event %s, %d before, %d after", c.Event.ID, len(c.EventsBefore), len(c.EventsAfter))
		}
		if c.EventsBefore[0].ID != ids[3] || c.EventsAfter[0].ID != ids[5] {
			t.Errorf("context order: before[0] %s want %s, after[0] %s want %s", c.EventsBefore[0].ID, ids[3], c.EventsAfter[0].ID, ids[5])
		}
		if len(c.State) == 0 {
			t.Error("context has no state")
		}

		all := ok(alice.GetRelations(ctx, roomID, target, &mautrix.ReqGetRelations{})).get(t)
		if len(all.Chunk) != 2 || all.Chunk[0].ID != editID || all.Chunk[1].ID != reaction {
			t.Errorf("relations = %v, want [%s %s]", all.Chunk, editID, reaction)
		}
		annotations := ok(alice.GetRelations(ctx, roomID, target, &mautrix.ReqGetRelations{RelationType: event.RelAnnotation})).get(t)
		if len(annotations.Chunk) != 1 || annotations.Chunk[0].ID != reaction {
			t.Errorf("annotations = %v", annotations.Chunk)
		}
		paged := ok(alice.GetRelations(ctx, roomID, target, &mautrix.ReqGetRelations{Limit: 1})).get(t)
		if len(paged.Chunk) != 1 || paged.NextBatch == "" {
			t.Fatalf("first page = %v next %q", paged.Chunk, paged.NextBatch)
		}
		rest := ok(alice.GetRelations(ctx, roomID, target, &mautrix.ReqGetRelations{Limit: 1, From: paged.NextBatch})).get(t)
		if len(rest.Chunk) != 1 || rest.Chunk[0].ID != reaction {
			t.Errorf("second page = %v", rest.Chunk)
		}
	})
}
