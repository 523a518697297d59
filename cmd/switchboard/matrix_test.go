package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// mxUser is a Matrix user of a running switchboard, who keeps every
// timeline event /sync gives them, per room.
type mxUser struct {
	t  *testing.T
	c  *mautrix.Client
	id id.UserID

	mu       sync.Mutex
	since    string
	timeline map[id.RoomID][]*event.Event
	// limited names the rooms whose timeline a sync cut short (events
	// missing from timeline).
	limited map[id.RoomID]bool
}

// syncFilter asks for whole timelines: the tests compare every event.
const syncFilter = `{"room":{"timeline":{"limit":1000}}}`

// newMatrixUser registers localpart (registration.enabled must be true).
func newMatrixUser(t *testing.T, hsURL, localpart string) *mxUser {
	t.Helper()
	c, err := mautrix.NewClient(hsURL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := c.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: localpart, Password: "correct horse " + localpart})
	if err != nil {
		t.Fatalf("register %s: %v", localpart, err)
	}
	c.SetCredentials(resp.UserID, resp.AccessToken)
	u := &mxUser{t: t, c: c, id: resp.UserID, timeline: map[id.RoomID][]*event.Event{}, limited: map[id.RoomID]bool{}}
	u.sync(0)
	return u
}

// sync runs one /sync (long-polling up to timeout) and keeps what it
// returned.
func (u *mxUser) sync(timeout time.Duration) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+15*time.Second)
	defer cancel()
	u.mu.Lock()
	since := u.since
	u.mu.Unlock()
	resp, err := u.c.SyncRequest(ctx, int(timeout/time.Millisecond), since, syncFilter, false, event.PresenceOnline)
	if err != nil {
		u.t.Fatalf("sync as %s: %v", u.id, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.since = resp.NextBatch
	for roomID, room := range resp.Rooms.Join {
		if room.Timeline.Limited && since != "" {
			u.limited[roomID] = true
		}
		for _, evt := range room.Timeline.Events {
			evt.RoomID = roomID
			if evt.StateKey != nil {
				evt.Type.Class = event.StateEventType
			} else {
				evt.Type.Class = event.MessageEventType
			}
			_ = evt.Content.ParseRaw(evt.Type)
			u.timeline[roomID] = append(u.timeline[roomID], evt)
		}
	}
}

// waitEvent syncs until an event of room matches pred, and returns it.
func (u *mxUser) waitEvent(room id.RoomID, within time.Duration, what string, pred func(*event.Event) bool) *event.Event {
	u.t.Helper()
	deadline := time.Now().Add(within)
	seen := 0
	for {
		u.mu.Lock()
		evs := u.timeline[room]
		for _, evt := range evs[seen:] {
			if pred(evt) {
				u.mu.Unlock()
				return evt
			}
		}
		seen = len(evs)
		u.mu.Unlock()
		if time.Now().After(deadline) {
			u.t.Fatalf("%s: nothing in %s after %v", what, room, within)
		}
		u.sync(time.Second)
	}
}

// waitText waits for a message in room from sender ("" for anyone) whose
// body is text.
func (u *mxUser) waitText(room id.RoomID, sender id.UserID, text string) *event.Event {
	u.t.Helper()
	return u.waitEvent(room, 20*time.Second, fmt.Sprintf("message %q", text), func(e *event.Event) bool {
		m := e.Content.AsMessage()
		return e.Type == event.EventMessage && (sender == "" || e.Sender == sender) && m != nil && m.Body == text
	})
}

// bodies returns the bodies of the messages in room whose body starts with
// prefix, in timeline order, and whether a sync ever cut the room's
// timeline short.
func (u *mxUser) bodies(room id.RoomID, prefix string) (out []string, limited bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, e := range u.timeline[room] {
		if m := e.Content.AsMessage(); e.Type == event.EventMessage && m != nil && strings.HasPrefix(m.Body, prefix) {
			out = append(out, m.Body)
		}
	}
	return out, u.limited[room]
}

func (u *mxUser) join(alias string) id.RoomID {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := u.c.JoinRoom(ctx, alias, nil)
	if err != nil {
		u.t.Fatalf("%s joins %s: %v", u.id, alias, err)
	}
	return resp.RoomID
}

// send sends a text message; it is safe to call from another goroutine
// (it reports failure with Errorf).
func (u *mxUser) send(room id.RoomID, text string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := u.c.SendText(ctx, room, text); err != nil {
		u.t.Errorf("%s sends %q: %v", u.id, text, err)
		return false
	}
	return true
}
