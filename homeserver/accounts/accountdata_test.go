package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestAccountData(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		var (
			mu       sync.Mutex
			notified []int64
		)
		s.SetNotifier(func(userID id.UserID, pos int64) {
			mu.Lock()
			defer mu.Unlock()
			if userID == "@alice:example.org" {
				notified = append(notified, pos)
			}
		})
		alice := s.register(t, "alice", "correct horse")
		bob := s.register(t, "bob", "correct horse")
		const room = id.RoomID("!room:example.org")

		start := s.AccountDataPosition()
		if err := alice.SetAccountData(ctx, "org.example.one", map[string]any{"n": 1}); err != nil {
			t.Fatal(err)
		}
		afterOne := s.AccountDataPosition()
		if err := alice.SetRoomAccountData(ctx, room, "m.tag", map[string]any{"tags": map[string]any{"u.work": map[string]any{}}}); err != nil {
			t.Fatal(err)
		}
		if err := alice.SetAccountData(ctx, "org.example.two", map[string]any{"n": 2}); err != nil {
			t.Fatal(err)
		}
		end := s.AccountDataPosition()
		if !(start < afterOne && afterOne < end) {
			t.Errorf("positions %d %d %d do not increase", start, afterOne, end)
		}
		mu.Lock()
		if len(notified) != 3 || !slices.IsSorted(notified) || notified[2] != end {
			t.Errorf("notifier saw %v, end %d", notified, end)
		}
		mu.Unlock()

		var got map[string]any
		if err := alice.GetAccountData(ctx, "org.example.one", &got); err != nil || got["n"] != float64(1) {
			t.Errorf("get global %v %v", got, err)
		}
		if err := alice.GetRoomAccountData(ctx, room, "m.tag", &got); err != nil || got["tags"] == nil {
			t.Errorf("get room %v %v", got, err)
		}
		err := alice.GetAccountData(ctx, "org.example.missing", &got)
		wantErr(t, err, "M_NOT_FOUND", 404)
		// Room data does not fall back to global data.
		err = alice.GetRoomAccountData(ctx, room, "org.example.one", &got)
		wantErr(t, err, "M_NOT_FOUND", 404)

		// Everything since 0, including the push rules.
		global, perRoom, latest, err := s.AccountDataSince(ctx, alice.UserID, 0)
		if err != nil {
			t.Fatal(err)
		}
		types := eventTypes(global)
		if !slices.Equal(types, []string{"org.example.one", "org.example.two", "m.push_rules"}) || len(perRoom[room]) != 1 || latest != end {
			t.Errorf("since 0: global %v, rooms %v, latest %d (end %d)", types, perRoom, latest, end)
		}
		var rules struct {
			Global map[string]json.RawMessage `json:"global"`
		}
		if err := json.Unmarshal(global[2].Content.VeryRaw, &rules); err != nil || rules.Global["override"] == nil {
			t.Errorf("m.push_rules content %s: %v", global[2].Content.VeryRaw, err)
		}
		// Only what is newer.
		global, perRoom, latest, err = s.AccountDataSince(ctx, alice.UserID, afterOne)
		if err != nil || !slices.Equal(eventTypes(global), []string{"org.example.two"}) || len(perRoom[room]) != 1 || latest != end {
			t.Errorf("since %d: %v %v %d %v", afterOne, eventTypes(global), perRoom, latest, err)
		}
		global, perRoom, _, err = s.AccountDataSince(ctx, alice.UserID, end)
		if err != nil || len(global) != 0 || len(perRoom) != 0 {
			t.Errorf("since end: %v %v %v", global, perRoom, err)
		}
		// An overwrite moves the type to a new position.
		if err := alice.SetAccountData(ctx, "org.example.one", map[string]any{"n": 3}); err != nil {
			t.Fatal(err)
		}
		global, _, _, _ = s.AccountDataSince(ctx, alice.UserID, end)
		if len(global) != 1 || string(global[0].Content.VeryRaw) != `{"n":3}` {
			t.Errorf("after overwrite: %v", global)
		}
		// Bob's data is his own.
		global, _, _, _ = s.AccountDataSince(ctx, bob.UserID, 0)
		if !slices.Equal(eventTypes(global), []string{"m.push_rules"}) {
			t.Errorf("bob sees %v", eventTypes(global))
		}
		const alicePath = "/_matrix/client/v3/user/@alice:example.org/account_data/org.example.one"
		r := s.do(t, "GET", alicePath, bob.AccessToken, nil)
		wantStatus(t, "read another's data", r, 403, "M_FORBIDDEN")
		r = s.do(t, "PUT", alicePath, bob.AccessToken, map[string]any{})
		wantStatus(t, "write another's data", r, 403, "M_FORBIDDEN")

		// Types the server manages.
		for _, path := range []string{
			"/_matrix/client/v3/user/@alice:example.org/account_data/m.push_rules",
			"/_matrix/client/v3/user/@alice:example.org/account_data/m.fully_read",
			"/_matrix/client/v3/user/@alice:example.org/rooms/!room:example.org/account_data/m.fully_read",
		} {
			r = s.do(t, "PUT", path, alice.AccessToken, map[string]any{"event_id": "$x"})
			wantStatus(t, "PUT "+path, r, 405, "M_BAD_JSON")
		}
		r = s.do(t, "GET", "/_matrix/client/v3/user/@alice:example.org/account_data/m.push_rules", alice.AccessToken, nil)
		if r.status != 200 || r.body["global"] == nil {
			t.Errorf("GET m.push_rules: %d %s", r.status, r.raw)
		}
		// Server-side writers may set m.fully_read.
		if _, err := s.SetAccountData(ctx, alice.UserID, room, "m.fully_read", json.RawMessage(`{"event_id":"$e"}`)); err != nil {
			t.Fatal(err)
		}
		if err := alice.GetRoomAccountData(ctx, room, "m.fully_read", &got); err != nil || got["event_id"] != "$e" {
			t.Errorf("m.fully_read %v %v", got, err)
		}
		if _, err := s.SetAccountData(ctx, alice.UserID, "", "x", json.RawMessage(`[1]`)); err == nil {
			t.Error("SetAccountData accepted an array")
		}

		// Bodies and room ids.
		r = s.do(t, "PUT", "/_matrix/client/v3/user/@alice:example.org/account_data/org.example.x", alice.AccessToken, `["not", "an object"]`)
		wantStatus(t, "array body", r, 400, "M_NOT_JSON")
		r = s.do(t, "PUT", "/_matrix/client/v3/user/@alice:example.org/account_data/org.example.x", alice.AccessToken, `{"unterminated": `)
		wantStatus(t, "broken body", r, 400, "M_NOT_JSON")
		r = s.do(t, "PUT", "/_matrix/client/v3/user/@alice:example.org/rooms/not-a-room/account_data/org.example.x", alice.AccessToken, map[string]any{})
		wantStatus(t, "bad room id", r, 400, "M_INVALID_PARAM")
		// Room ids of room version 12 have no server part.
		r = s.do(t, "PUT", "/_matrix/client/v3/user/@alice:example.org/rooms/!abcdefghijklmnop/account_data/org.example.x", alice.AccessToken, map[string]any{})
		wantStatus(t, "v12 room id", r, 200, "")
	})
}

// Positions stay unique and gap-free, and every write is delivered, with
// many writers at once (on PostgreSQL these really run concurrently).
func TestAccountDataConcurrentWriters(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		users := []id.UserID{}
		for i := range 4 {
			userID, err := s.CreateUser(ctx, fmt.Sprintf("user%d", i), "", false)
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, userID)
		}
		const perUser = 15
		start := s.AccountDataPosition()
		var wg sync.WaitGroup
		errs := make(chan error, len(users)*perUser)
		for _, u := range users {
			for j := range perUser {
				wg.Go(func() {
					_, err := s.SetAccountData(ctx, u, "", fmt.Sprintf("org.example.%d", j), json.RawMessage(`{}`))
					errs <- err
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got, want := s.AccountDataPosition(), start+int64(len(users)*perUser); got != want {
			t.Errorf("position %d, want %d", got, want)
		}
		seen := map[int64]bool{}
		rows, err := db.Query(ctx, "SELECT stream_position FROM hs_account_data WHERE type LIKE 'org.example.%'")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var pos int64
			if err := rows.Scan(&pos); err != nil {
				t.Fatal(err)
			}
			if seen[pos] {
				t.Errorf("position %d used twice", pos)
			}
			seen[pos] = true
		}
		rows.Close()
		if len(seen) != len(users)*perUser {
			t.Errorf("%d positions, want %d", len(seen), len(users)*perUser)
		}
		for _, u := range users {
			global, _, _, err := s.AccountDataSince(ctx, u, start)
			global = slices.DeleteFunc(global, func(e event.Event) bool { return e.Type.Type == "m.push_rules" })
			if err != nil || len(global) != perUser {
				t.Errorf("%s: %d events since %d (%v)", u, len(global), start, err)
			}
		}
	})
}

func TestFilters(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		alice := s.register(t, "alice", "correct horse")
		bob := s.register(t, "bob", "correct horse")
		filter := &mautrix.Filter{Room: &mautrix.RoomFilter{Timeline: &mautrix.FilterPart{Limit: 10}}, EventFields: []string{"type", "content"}}

		created, err := alice.CreateFilter(ctx, filter)
		if err != nil || created.FilterID == "" || created.FilterID[0] == '{' {
			t.Fatalf("CreateFilter %+v %v", created, err)
		}
		again, err := alice.CreateFilter(ctx, filter)
		if err != nil || again.FilterID != created.FilterID {
			t.Errorf("the same filter got a new id: %+v %v", again, err)
		}
		other, err := alice.CreateFilter(ctx, &mautrix.Filter{Presence: &mautrix.FilterPart{Limit: 1}})
		if err != nil || other.FilterID == created.FilterID {
			t.Errorf("another filter %+v %v", other, err)
		}

		stored, err := s.Filter(ctx, alice.UserID, created.FilterID)
		if err != nil {
			t.Fatal(err)
		}
		var back mautrix.Filter
		if err := json.Unmarshal(stored, &back); err != nil || back.Room.Timeline.Limit != 10 || len(back.EventFields) != 2 {
			t.Errorf("stored filter %s: %v", stored, err)
		}
		r := s.do(t, "GET", "/_matrix/client/v3/user/@alice:example.org/filter/"+created.FilterID, alice.AccessToken, nil)
		if r.status != 200 || string(r.raw) != string(stored) {
			t.Errorf("GET filter: %d %s", r.status, r.raw)
		}
		r = s.do(t, "GET", "/_matrix/client/v3/user/@alice:example.org/filter/"+created.FilterID, bob.AccessToken, nil)
		wantStatus(t, "another's filter", r, 403, "M_FORBIDDEN")
		r = s.do(t, "POST", "/_matrix/client/v3/user/@alice:example.org/filter", bob.AccessToken, map[string]any{})
		wantStatus(t, "create for another", r, 403, "M_FORBIDDEN")
		r = s.do(t, "GET", "/_matrix/client/v3/user/@alice:example.org/filter/nosuch", alice.AccessToken, nil)
		wantStatus(t, "unknown filter", r, 404, "M_NOT_FOUND")
		if _, err := s.Filter(ctx, bob.UserID, created.FilterID); !errors.Is(err, ErrUnknownFilter) {
			t.Errorf("bob reads alice's filter: %v", err)
		}
		r = s.do(t, "POST", "/_matrix/client/v3/user/@alice:example.org/filter", alice.AccessToken, `{"room": {"timeline": {"limit": "ten"}}}`)
		wantStatus(t, "wrong type", r, 400, "M_BAD_JSON")
		r = s.do(t, "POST", "/_matrix/client/v3/user/@alice:example.org/filter", alice.AccessToken, `"a string"`)
		wantStatus(t, "not an object", r, 400, "M_NOT_JSON")
		r = s.do(t, "POST", "/_matrix/client/v3/user/@alice:example.org/filter", alice.AccessToken, `{"event_format": "xml"}`)
		wantStatus(t, "bad event_format", r, 400, "M_BAD_JSON")
	})
}

func eventTypes(evts []event.Event) []string {
	var out []string
	for _, e := range evts {
		out = append(out, e.Type.Type)
	}
	return out
}
