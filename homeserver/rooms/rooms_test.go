package rooms

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

type result[T any] struct {
	v   T
	err error
}

// ok pairs a call's value and error so that ok(call()).get(t) fails the
// test on an error.
func ok[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) get(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func wantErrCode(t *testing.T, err error, code string) {
	t.Helper()
	var resp mautrix.HTTPError
	if err == nil {
		t.Fatalf("succeeded, want %s", code)
	}
	if errors.As(err, &resp) && resp.RespError != nil && resp.RespError.ErrCode == code {
		return
	}
	t.Fatalf("err = %v, want %s", err, code)
}

func TestRoomLifecycle(t *testing.T) {
	for _, version := range SupportedRoomVersions {
		t.Run("v"+version, func(t *testing.T) {
			dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
				testRoomLifecycle(t, db, version)
			})
		})
	}
}

func testRoomLifecycle(t *testing.T, db *database.DB, version string) {
	ctx := context.Background()
	hs := newTestHS(t, db)
	alice, bob, eve := hs.client(t, "alice"), hs.client(t, "bob"), hs.client(t, "eve")

	created := ok(alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset:        "public_chat",
		RoomAliasName: "lobby-" + version,
		Name:          "Lobby",
		Topic:         "Say hi",
		RoomVersion:   id.RoomVersion(version),
	})).get(t)
	roomID := created.RoomID
	if version == "12" && roomID.String()[len(roomID)-len(testServer)-1:] == ":"+testServer {
		t.Errorf("v12 room id %s should have no server part", roomID)
	}
	resolved := ok(bob.ResolveAlias(ctx, id.RoomAlias("#lobby-"+version+":"+testServer))).get(t)
	if resolved.RoomID != roomID {
		t.Errorf("alias resolves to %s, want %s", resolved.RoomID, roomID)
	}
	if _, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{RoomAliasName: "lobby-" + version}); err == nil {
		t.Error("a taken alias was accepted")
	} else {
		wantErrCode(t, err, "M_ROOM_IN_USE")
	}

	// Non-members cannot send; joining an alias works for a public room.
	_, err := bob.SendText(ctx, roomID, "too early")
	wantErrCode(t, err, "M_FORBIDDEN")
	ok(bob.JoinRoom(ctx, "#lobby-"+version+":"+testServer, nil)).get(t)

	first := ok(alice.SendText(ctx, roomID, "hello bob")).get(t)
	again := ok(alice.SendMessageEvent(ctx, roomID, event.EventMessage, map[string]any{"msgtype": "m.text", "body": "hello bob"}, mautrix.ReqSendEvent{TransactionID: "txn-1"})).get(t)
	repeat := ok(alice.SendMessageEvent(ctx, roomID, event.EventMessage, map[string]any{"msgtype": "m.text", "body": "hello bob"}, mautrix.ReqSendEvent{TransactionID: "txn-1"})).get(t)
	if again.EventID != repeat.EventID || again.EventID == first.EventID {
		t.Errorf("transaction ids not idempotent: %s %s %s", first.EventID, again.EventID, repeat.EventID)
	}

	// A member without power cannot change power levels or the name.
	_, err = bob.SendStateEvent(ctx, roomID, event.StatePowerLevels, "", map[string]any{"users": map[string]int{"@bob:" + testServer: 100}})
	wantErrCode(t, err, "M_FORBIDDEN")
	_, err = bob.SendStateEvent(ctx, roomID, event.StateRoomName, "", map[string]any{"name": "Bob's"})
	wantErrCode(t, err, "M_FORBIDDEN")
	ok(alice.SendStateEvent(ctx, roomID, event.StateTopic, "", map[string]any{"topic": "New topic"})).get(t)

	var topic event.TopicEventContent
	if err := bob.StateEvent(ctx, roomID, event.StateTopic, "", &topic); err != nil || topic.Topic != "New topic" {
		t.Errorf("topic = %q, %v", topic.Topic, err)
	}
	members := ok(bob.JoinedMembers(ctx, roomID)).get(t)
	if len(members.Joined) != 2 || members.Joined[alice.UserID].DisplayName != "Name of alice" {
		t.Errorf("joined members = %+v", members.Joined)
	}

	// Ban: eve joins, is banned, cannot rejoin.
	ok(eve.JoinRoom(ctx, roomID.String(), nil)).get(t)
	ok(alice.BanUser(ctx, roomID, &mautrix.ReqBanUser{UserID: eve.UserID, Reason: "spam"})).get(t)
	_, err = eve.JoinRoom(ctx, roomID.String(), nil)
	wantErrCode(t, err, "M_FORBIDDEN")

	// Redaction: bob cannot redact alice's event; alice can.
	_, err = bob.RedactEvent(ctx, roomID, first.EventID)
	wantErrCode(t, err, "M_FORBIDDEN")
	ok(alice.RedactEvent(ctx, roomID, first.EventID, mautrix.ReqRedact{Reason: "oops"})).get(t)
	redacted := ok(bob.GetEvent(ctx, roomID, first.EventID)).get(t)
	if len(redacted.Content.VeryRaw) > 2 || redacted.Unsigned.RedactedBecause == nil {
		t.Errorf("redacted event: content %s, redacted_because %v", redacted.Content.VeryRaw, redacted.Unsigned.RedactedBecause)
	}

	// Back-pagination sees everything, newest first.
	for i := range 25 {
		ok(bob.SendText(ctx, roomID, fmt.Sprintf("msg %d", i))).get(t)
	}
	var bodies []string
	from := ""
	for range 10 {
		page := ok(bob.Messages(ctx, roomID, from, "", mautrix.DirectionBackward, nil, 7)).get(t)
		for _, ev := range page.Chunk {
			if ev.Type == event.EventMessage {
				_ = ev.Content.ParseRaw(ev.Type)
				if msg := ev.Content.AsMessage(); msg.Body != "" {
					bodies = append(bodies, msg.Body)
				}
			}
		}
		if page.End == "" {
			break
		}
		from = page.End
	}
	if len(bodies) < 26 || bodies[0] != "msg 24" || bodies[24] != "msg 0" || bodies[25] != "hello bob" {
		t.Errorf("paginated bodies (%d): %v", len(bodies), bodies)
	}

	// Leaving: bob leaves and can no longer send.
	ok(bob.LeaveRoom(ctx, roomID)).get(t)
	_, err = bob.SendText(ctx, roomID, "after leaving")
	wantErrCode(t, err, "M_FORBIDDEN")
}

func TestSyncIncremental(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		hs := newTestHS(t, db)
		alice, bob := hs.client(t, "alice"), hs.client(t, "bob")
		roomID := ok(alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}, Name: "DM"})).get(t).RoomID

		initial := ok(bob.SyncRequest(ctx, 0, "", "", false, "")).get(t)
		invite, found := initial.Rooms.Invite[roomID]
		if !found || len(invite.State.Events) == 0 {
			t.Fatalf("invite not in initial sync: %+v", initial.Rooms)
		}
		ok(bob.JoinRoom(ctx, roomID.String(), nil)).get(t)
		afterJoin := ok(bob.SyncRequest(ctx, 0, initial.NextBatch, "", false, "")).get(t)
		joined, found := afterJoin.Rooms.Join[roomID]
		if !found || len(joined.State.Events)+len(joined.Timeline.Events) == 0 {
			t.Fatalf("joined room missing after join: %+v", afterJoin.Rooms)
		}

		// A long-polling sync wakes when alice sends.
		type result struct {
			resp *mautrix.RespSync
			err  error
			took time.Duration
		}
		done := make(chan result, 1)
		go func() {
			start := time.Now()
			resp, err := bob.SyncRequest(ctx, 30000, afterJoin.NextBatch, "", false, "")
			done <- result{resp, err, time.Since(start)}
		}()
		time.Sleep(50 * time.Millisecond)
		sent := ok(alice.SendText(ctx, roomID, "wake up")).get(t)
		res := <-done
		if res.err != nil {
			t.Fatal(res.err)
		}
		if res.took > 10*time.Second {
			t.Errorf("long poll took %v", res.took)
		}
		tl := res.resp.Rooms.Join[roomID].Timeline.Events
		if len(tl) != 1 || tl[0].ID != sent.EventID {
			t.Errorf("woken sync timeline = %v, want exactly %s", tl, sent.EventID)
		}

		// Nothing is lost or repeated across many incremental syncs.
		since := res.resp.NextBatch
		var seen []id.EventID
		var sentIDs []id.EventID
		for i := range 30 {
			sentIDs = append(sentIDs, ok(alice.SendText(ctx, roomID, fmt.Sprintf("n%d", i))).get(t).EventID)
			if i%7 == 0 {
				resp := ok(bob.SyncRequest(ctx, 0, since, "", false, "")).get(t)
				for _, ev := range resp.Rooms.Join[roomID].Timeline.Events {
					seen = append(seen, ev.ID)
				}
				since = resp.NextBatch
			}
		}
		resp := ok(bob.SyncRequest(ctx, 0, since, `{"room":{"timeline":{"limit":100}}}`, false, "")).get(t)
		for _, ev := range resp.Rooms.Join[roomID].Timeline.Events {
			seen = append(seen, ev.ID)
		}
		if fmt.Sprint(seen) != fmt.Sprint(sentIDs) {
			t.Errorf("incremental syncs saw\n%v\nwant\n%v", seen, sentIDs)
		}

		// Typing reaches the other member as ephemeral.
		ok(alice.UserTyping(ctx, roomID, true, 10*time.Second)).get(t)
		typingResp := ok(bob.SyncRequest(ctx, 0, resp.NextBatch, "", false, "")).get(t)
		var typing []id.UserID
		for _, ev := range typingResp.Rooms.Join[roomID].Ephemeral.Events {
			if ev.Type == event.EphemeralEventTyping {
				_ = ev.Content.ParseRaw(ev.Type)
				typing = ev.Content.AsTyping().UserIDs
			}
		}
		if len(typing) != 1 || typing[0] != alice.UserID {
			t.Errorf("typing = %v", typing)
		}

		// Unread counts follow bob's read receipt, which alice sees.
		if n := typingResp.Rooms.Join[roomID].UnreadNotifications.NotificationCount; n < 30 {
			t.Errorf("bob's unread count before reading = %d, want >= 30", n)
		}
		aliceSync := ok(alice.SyncRequest(ctx, 0, "", "", false, "")).get(t)
		last := sentIDs[len(sentIDs)-1]
		ok(struct{}{}, bob.SendReceipt(ctx, roomID, last, event.ReceiptTypeRead, nil)).get(t)
		afterRead := ok(bob.SyncRequest(ctx, 0, typingResp.NextBatch, "", false, "")).get(t)
		if jr, found := afterRead.Rooms.Join[roomID]; !found || jr.UnreadNotifications.NotificationCount != 0 {
			t.Errorf("bob's unread count after reading: %+v", afterRead.Rooms.Join[roomID])
		}
		aliceNext := ok(alice.SyncRequest(ctx, 0, aliceSync.NextBatch, "", false, "")).get(t)
		var readBy id.UserID
		for _, ev := range aliceNext.Rooms.Join[roomID].Ephemeral.Events {
			if ev.Type == event.EphemeralEventReceipt {
				_ = ev.Content.ParseRaw(ev.Type)
				for user := range (*ev.Content.AsReceipt())[last][event.ReceiptTypeRead] {
					readBy = user
				}
			}
		}
		if readBy != bob.UserID {
			t.Errorf("alice did not see bob's receipt on %s: %+v", last, aliceNext.Rooms.Join[roomID])
		}
	})
}

func TestEngineSurvivesRestart(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		hs := newTestHS(t, db)
		alice := hs.client(t, "alice")
		roomID := ok(alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})).get(t).RoomID
		ok(alice.SendText(ctx, roomID, "before restart")).get(t)
		sync1 := ok(alice.SyncRequest(ctx, 0, "", "", false, "")).get(t)
		hs.server.Close()
		hs.engine.Close()

		hs2 := newTestHS(t, db)
		alice2, bob := hs2.client(t, "alice"), hs2.client(t, "bob")
		ok(bob.JoinRoom(ctx, roomID.String(), nil)).get(t)
		sent := ok(alice2.SendText(ctx, roomID, "after restart")).get(t)
		resp := ok(alice2.SyncRequest(ctx, 0, sync1.NextBatch, "", false, "")).get(t)
		tl := resp.Rooms.Join[roomID].Timeline.Events
		if len(tl) != 2 || tl[1].ID != sent.EventID {
			t.Errorf("sync across restart: %d events %v", len(tl), tl)
		}
	})
}

// TestSyncStateHiddenByHistoryVisibility: a user who joins a room whose
// history is visible only to members still gets the room's current state
// (its topic, set before they joined), in the state block, both on an
// initial sync and on an incremental one.
func TestSyncStateHiddenByHistoryVisibility(t *testing.T) {
	ctx := context.Background()
	hs := newTestHS(t, dbtest.SQLite(t))
	alice, bob := hs.client(t, "alice"), hs.client(t, "bob")
	before := ok(bob.SyncRequest(ctx, 0, "", "", false, "")).get(t)
	roomID := ok(alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", Topic: "set before bob came",
		InitialState: []*event.Event{{Type: event.StateHistoryVisibility, StateKey: new(string),
			Content: event.Content{Parsed: &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityJoined}}}}})).get(t).RoomID
	ok(alice.SendText(ctx, roomID, "said before bob came")).get(t)
	ok(bob.JoinRoom(ctx, roomID.String(), nil)).get(t)

	for name, since := range map[string]string{"initial": "", "incremental": before.NextBatch} {
		resp := ok(bob.SyncRequest(ctx, 0, since, "", false, "")).get(t)
		joined := resp.Rooms.Join[roomID]
		if joined == nil {
			t.Fatalf("%s: room missing", name)
		}
		topic := ""
		for _, ev := range joined.State.Events {
			if ev.Type == event.StateTopic {
				_ = ev.Content.ParseRaw(ev.Type)
				topic = ev.Content.AsTopic().Topic
			}
		}
		if topic != "set before bob came" {
			t.Errorf("%s sync: topic in state = %q", name, topic)
		}
		for _, ev := range joined.Timeline.Events {
			if ev.Type == event.EventMessage {
				t.Errorf("%s sync: bob sees a message from before he joined", name)
			}
		}
	}
}
