package rooms

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"maunium.net/go/mautrix"

	"switchboard/internal/database/dbtest"
)

// FuzzClientBodies sends arbitrary bodies to the endpoints that turn client
// JSON into events. Whatever arrives, the server answers 2xx or 4xx: never a
// 5xx, never a crash, and the room stays usable.
func FuzzClientBodies(f *testing.F) {
	for _, seed := range []string{
		`{"msgtype":"m.text","body":"hi"}`,
		`{"name":"x","preset":"public_chat","initial_state":[{"type":"m.room.topic","content":{"topic":1}}]}`,
		`{"membership":"join"}`, `{"users":{"@a:b":"100"}}`, `[]`, `null`, `{"a":` + "\xff" + `}`,
		`{"join_rule":"public"}`, `{"body":"` + string(bytes.Repeat([]byte("a"), 70000)) + `"}`,
		`{"m.relates_to":{"rel_type":"m.annotation","event_id":"$x","key":"k"}}`,
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(1))
		f.Add(seed, uint8(2))
	}
	db := dbtest.SQLite(f)
	hs := newTestHS(f, db)
	ctx := context.Background()
	alice := hs.client(f, "alice")
	created, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if err != nil {
		f.Fatal(err)
	}
	roomID := string(created.RoomID)
	mux := hs.server.Config.Handler
	f.Fuzz(func(t *testing.T, body string, endpoint uint8) {
		var method, path string
		switch endpoint % 4 {
		case 0:
			method, path = "PUT", "/_matrix/client/v3/rooms/"+roomID+"/send/m.room.message/fuzz"+string(rune('a'+len(body)%26))
		case 1:
			method, path = "PUT", "/_matrix/client/v3/rooms/"+roomID+"/state/m.room.topic/"
		case 2:
			method, path = "POST", "/_matrix/client/v3/createRoom"
		case 3:
			method, path = "PUT", "/_matrix/client/v3/rooms/"+roomID+"/state/m.room.power_levels"
		}
		req := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer token-alice")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		probe := httptest.NewRequest("PUT", "/_matrix/client/v3/rooms/"+roomID+"/send/m.room.message/probe-"+string(rune('a'+len(body)%26))+string(rune('a'+int(endpoint)%26)), bytes.NewReader([]byte(`{"msgtype":"m.text","body":"still ok"}`)))
		probe.Header.Set("Authorization", "Bearer token-alice")
		rec = httptest.NewRecorder()
		mux.ServeHTTP(rec, probe)
		if rec.Code != http.StatusOK {
			t.Fatalf("room unusable after %s %s with %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
	})
}
