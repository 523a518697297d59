package appservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/registration"
)

const (
	testRoom  = id.RoomID("!room:example.org")
	testAlice = id.UserID("@irc_alice:example.org")
	testBot   = id.UserID("@ircbot:example.org")
)

func TestNewHTTPOptions(t *testing.T) {
	reg := testRegistration(t)
	tests := []struct {
		name    string
		opts    HTTPOptions
		wantErr string
	}{
		{"no registration", HTTPOptions{HomeserverURL: "http://hs", ServerName: testServer}, "no registration"},
		{"no server name", HTTPOptions{Registration: reg, HomeserverURL: "http://hs"}, "no server name"},
		{"no url", HTTPOptions{Registration: reg, ServerName: testServer}, "no homeserver URL"},
		{"bad url", HTTPOptions{Registration: reg, ServerName: testServer, HomeserverURL: "http://[::1"}, "homeserver URL"},
		{"validated for another server", HTTPOptions{Registration: reg, ServerName: "other.org", HomeserverURL: "http://hs"}, "validated for bot"},
		{"ok", HTTPOptions{Registration: reg, ServerName: testServer, HomeserverURL: "http://hs"}, ""},
		{"validated here", HTTPOptions{Registration: registration.Wrap(&testRegistration(t).Registration, "test"), ServerName: testServer, HomeserverURL: "http://hs"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewHTTP(tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.ServerName() != testServer || m.Bot().UserID() != testBot {
					t.Errorf("server %q bot %q", m.ServerName(), m.Bot().UserID())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestHTTPIntentsAreCachedAndChecked(t *testing.T) {
	f := newFakeHS(t)
	m := f.matrix(t)
	if m.Intent(testAlice) != m.Intent(testAlice) {
		t.Error("two intents for one user")
	}
	if m.Intent(testBot) != m.Bot() {
		t.Error("Intent(bot) is not Bot()")
	}
	ctx := context.Background()
	for _, user := range []id.UserID{"@alice:example.org", "@irc_alice:evil.org", "not a user id", ""} {
		in := m.Intent(user)
		if in.UserID() != user {
			t.Errorf("UserID() = %q, want %q", in.UserID(), user)
		}
		calls := map[string]error{
			"EnsureRegistered": in.EnsureRegistered(ctx),
			"EnsureJoined":     in.EnsureJoined(ctx, testRoom),
			"SetDisplayName":   in.SetDisplayName(ctx, "x"),
			"Leave":            in.Leave(ctx, testRoom, ""),
		}
		_, calls["SendMessage"] = in.SendMessage(ctx, testRoom, event.EventMessage, map[string]any{}, SendOptions{})
		_, _, calls["Download"] = in.Download(ctx, "mxc://example.org/abc", 10)
		for name, err := range calls {
			if !errors.Is(err, ErrNotInNamespace) {
				t.Errorf("%s as %q: %v, want ErrNotInNamespace", name, user, err)
			}
		}
	}
	if reqs := f.requests(true); len(reqs) != 0 {
		t.Errorf("requests sent for users outside the namespace:%s", describe(reqs))
	}
}

func TestHTTPSendMessage(t *testing.T) {
	f := newFakeHS(t)
	f.handle("POST /_matrix/client/v3/rooms/{room}/join", joinOK)
	f.handle("PUT /_matrix/client/v3/rooms/{room}/send/{type}/{txn}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"event_id": "$" + r.PathValue("txn")})
	})
	m := f.matrix(t)
	alice := m.Intent(testAlice)
	ctx := context.Background()
	ts := time.UnixMilli(1700000000123)
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: "hello"}

	evtID, err := alice.SendMessage(ctx, testRoom, event.EventMessage, content, SendOptions{TxnID: "txn-1", Timestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	if evtID != "$txn-1" {
		t.Errorf("event id %q", evtID)
	}
	reqs := f.requests(true)
	if len(reqs) != 3 {
		t.Fatalf("want register, join, send; got%s", describe(reqs))
	}
	if reqs[0].Path != "/_matrix/client/v3/register" || !strings.Contains(string(reqs[0].Body), `"type":"m.login.application_service"`) || !strings.Contains(string(reqs[0].Body), `"username":"irc_alice"`) {
		t.Errorf("register request %s %s", reqs[0].Path, reqs[0].Body)
	}
	if reqs[1].Path != "/_matrix/client/v3/rooms/!room:example.org/join" {
		t.Errorf("join request %s", reqs[1].Path)
	}
	send := reqs[2]
	if send.Method != http.MethodPut || send.Path != "/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/txn-1" {
		t.Errorf("send request %s %s", send.Method, send.Path)
	}
	for i, r := range reqs {
		if r.User() != string(testAlice) {
			t.Errorf("request %d: user_id = %q", i, r.User())
		}
	}
	if send.Query.Get("ts") != "1700000000123" {
		t.Errorf("ts = %q", send.Query.Get("ts"))
	}
	if !strings.Contains(string(send.Body), `"body":"hello"`) {
		t.Errorf("body %s", send.Body)
	}

	// Registered and joined are remembered; no ts and no txn id given.
	if _, err := alice.SendMessage(ctx, testRoom, event.EventMessage, content, SendOptions{}); err != nil {
		t.Fatal(err)
	}
	reqs = f.requests(true)
	if len(reqs) != 4 {
		t.Fatalf("second send: want one more request; got%s", describe(reqs))
	}
	second := reqs[3]
	txn := strings.TrimPrefix(second.Path, "/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/")
	if txn == second.Path || txn == "" || txn == "txn-1" || second.Query.Has("ts") {
		t.Errorf("second send %s?%s", second.Path, second.Query.Encode())
	}
}

func TestHTTPNotFound(t *testing.T) {
	f := newFakeHS(t)
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "no such thing")
	}
	f.handle("GET /_matrix/client/v3/rooms/{room}/state/{type}/{key...}", notFound)
	f.handle("GET /_matrix/client/v3/profile/{user}", notFound)
	f.handle("GET /_matrix/client/v3/directory/room/{alias}", notFound)
	f.handle("GET /_matrix/client/v1/media/download/{server}/{media}", notFound)
	m := f.matrix(t)
	bot := m.Bot()
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"State", func() error {
			var pl event.PowerLevelsEventContent
			return bot.State(ctx, testRoom, event.StatePowerLevels, "", &pl)
		}},
		{"State with key", func() error {
			var mem event.MemberEventContent
			return bot.State(ctx, testRoom, event.StateMember, string(testAlice), &mem)
		}},
		{"Profile", func() error { _, err := bot.Profile(ctx, testAlice); return err }},
		{"ResolveAlias", func() error { _, err := bot.ResolveAlias(ctx, "#irc_chan:example.org"); return err }},
		{"Download", func() error { _, _, err := bot.Download(ctx, "mxc://example.org/gone", 100); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			var httpErr mautrix.HTTPError
			if !errors.As(err, &httpErr) || !httpErr.IsStatus(http.StatusNotFound) {
				t.Errorf("err does not wrap the HTTPError: %v", err)
			}
		})
	}
	for _, r := range f.requests(false) {
		if strings.HasPrefix(r.Path, "/_matrix/media/") {
			t.Errorf("M_NOT_FOUND fell back to the legacy media path: %s", r.Path)
		}
	}
}

func TestHTTPReads(t *testing.T) {
	f := newFakeHS(t)
	f.handle("GET /_matrix/client/v3/rooms/{room}/state/m.room.topic/", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"topic": "bridged"})
	})
	f.handle("GET /_matrix/client/v3/profile/{user}", func(w http.ResponseWriter, r *http.Request) {
		// A malformed avatar must not fail the whole profile.
		respond(w, http.StatusOK, map[string]any{"displayname": "Alice", "avatar_url": "not-an-mxc"})
	})
	f.handle("GET /_matrix/client/v3/rooms/{room}/joined_members", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"joined": map[string]any{
			string(testAlice): map[string]any{"display_name": "Alice", "avatar_url": "mxc://example.org/a"},
			string(testBot):   map[string]any{},
		}})
	})
	f.handle("GET /_matrix/client/v3/directory/room/{alias}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"room_id": testRoom, "servers": []string{"example.org"}})
	})
	m := f.matrix(t)
	bot := m.Bot()
	ctx := context.Background()

	var topic event.TopicEventContent
	if err := bot.State(ctx, testRoom, event.StateTopic, "", &topic); err != nil || topic.Topic != "bridged" {
		t.Errorf("State = %+v, %v", topic, err)
	}
	if p, err := bot.Profile(ctx, testAlice); err != nil || p.DisplayName != "Alice" || p.AvatarURL != "not-an-mxc" {
		t.Errorf("Profile = %+v, %v", p, err)
	}
	members, err := bot.JoinedMembers(ctx, testRoom)
	if err != nil || len(members) != 2 || members[testAlice] != (Member{DisplayName: "Alice", AvatarURL: "mxc://example.org/a"}) {
		t.Errorf("JoinedMembers = %+v, %v", members, err)
	}
	if room, err := bot.ResolveAlias(ctx, "#irc_chan:example.org"); err != nil || room != testRoom {
		t.Errorf("ResolveAlias = %q, %v", room, err)
	}
	for _, r := range f.requests(false) {
		if r.User() != string(testBot) {
			t.Errorf("%s as %q", r.Path, r.User())
		}
		if strings.HasSuffix(r.Path, "/join") {
			t.Errorf("a read joined the room: %s", r.Path)
		}
	}
}

func TestHTTPEnsureJoinedInvitesThroughBot(t *testing.T) {
	f := newFakeHS(t)
	var mu sync.Mutex
	invited := false
	f.handle("POST /_matrix/client/v3/rooms/{room}/join", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !invited {
			writeError(w, http.StatusForbidden, "M_FORBIDDEN", "You are not invited to this room.")
			return
		}
		joinOK(w, r)
	})
	f.handle("POST /_matrix/client/v3/rooms/{room}/invite", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		invited = true
		respond(w, http.StatusOK, map[string]any{})
	})
	m := f.matrix(t)
	alice := m.Intent(testAlice)
	ctx := context.Background()
	if err := alice.EnsureJoined(ctx, testRoom); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests(false)
	if len(reqs) != 3 {
		t.Fatalf("want join, invite, join; got%s", describe(reqs))
	}
	inv := reqs[1]
	if inv.User() != string(testBot) || !strings.Contains(string(inv.Body), `"user_id":"`+string(testAlice)+`"`) {
		t.Errorf("invite as %q: %s", inv.User(), inv.Body)
	}
	if reqs[0].User() != string(testAlice) || reqs[2].User() != string(testAlice) {
		t.Errorf("joins as %q and %q", reqs[0].User(), reqs[2].User())
	}
	if err := alice.EnsureJoined(ctx, testRoom); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests(false)); n != 3 {
		t.Errorf("a cached join sent %d more requests", n-3)
	}
}

func TestHTTPBotCannotBeInvitedByItself(t *testing.T) {
	f := newFakeHS(t)
	f.handle("POST /_matrix/client/v3/rooms/{room}/join", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "You are not invited to this room.")
	})
	err := f.matrix(t).Bot().EnsureJoined(context.Background(), testRoom)
	if !IsForbidden(err) {
		t.Fatalf("err = %v, want M_FORBIDDEN", err)
	}
	if reqs := f.requests(false); len(reqs) != 1 {
		t.Errorf("want one join; got%s", describe(reqs))
	}
}

func TestHTTPStaleJoinIsRepaired(t *testing.T) {
	f := newFakeHS(t)
	var mu sync.Mutex
	kicked := false
	f.handle("POST /_matrix/client/v3/rooms/{room}/join", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		kicked = false
		mu.Unlock()
		joinOK(w, r)
	})
	f.handle("PUT /_matrix/client/v3/rooms/{room}/send/{type}/{txn}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if kicked {
			writeError(w, http.StatusForbidden, "M_FORBIDDEN", "User @irc_alice:example.org not in room")
			return
		}
		respond(w, http.StatusOK, map[string]any{"event_id": "$e"})
	})
	m := f.matrix(t)
	alice := m.Intent(testAlice)
	ctx := context.Background()
	if _, err := alice.SendMessage(ctx, testRoom, event.EventMessage, map[string]any{}, SendOptions{TxnID: "1"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	kicked = true // behind the bridge's back
	mu.Unlock()
	if _, err := alice.SendMessage(ctx, testRoom, event.EventMessage, map[string]any{}, SendOptions{TxnID: "2"}); err != nil {
		t.Fatalf("send after kick: %v", err)
	}
	var got []string
	for _, r := range f.requests(false) {
		got = append(got, r.Method+" "+r.Path[strings.LastIndex(r.Path, "/")+1:])
	}
	want := "POST join, PUT 1, PUT 2, POST join, PUT 2"
	if strings.Join(got, ", ") != want {
		t.Errorf("requests %v, want %s", got, want)
	}
}

func TestHTTPRedact(t *testing.T) {
	f := newFakeHS(t)
	f.handle("POST /_matrix/client/v3/rooms/{room}/join", joinOK)
	f.handle("PUT /_matrix/client/v3/rooms/{room}/redact/{event}/{txn}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"event_id": "$redaction"})
	})
	m := f.matrix(t)
	evtID, err := m.Intent(testAlice).Redact(context.Background(), testRoom, "$target", "spam", SendOptions{TxnID: "r1", Timestamp: time.UnixMilli(1234)})
	if err != nil || evtID != "$redaction" {
		t.Fatalf("Redact = %q, %v", evtID, err)
	}
	reqs := f.requests(false)
	r := reqs[len(reqs)-1]
	if r.Path != "/_matrix/client/v3/rooms/!room:example.org/redact/$target/r1" || r.Query.Get("ts") != "1234" || r.User() != string(testAlice) {
		t.Errorf("redact %s?%s", r.Path, r.Query.Encode())
	}
	if string(r.Body) != `{"reason":"spam"}` {
		t.Errorf("body %s", r.Body)
	}
}

func TestHTTPSetAlias(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		errcode  string
		resolves id.RoomID
		wantErr  error
	}{
		{"created", http.StatusOK, "", "", nil},
		{"taken by another room", http.StatusConflict, "M_UNKNOWN", "!other:example.org", ErrAliasTaken},
		{"already ours", http.StatusConflict, "M_UNKNOWN", testRoom, nil},
		{"exclusive elsewhere", http.StatusBadRequest, "M_EXCLUSIVE", "", mautrix.MExclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHS(t)
			f.handle("PUT /_matrix/client/v3/directory/room/{alias}", func(w http.ResponseWriter, r *http.Request) {
				if tt.errcode != "" {
					writeError(w, tt.status, tt.errcode, "no")
					return
				}
				respond(w, http.StatusOK, map[string]any{})
			})
			f.handle("GET /_matrix/client/v3/directory/room/{alias}", func(w http.ResponseWriter, r *http.Request) {
				respond(w, http.StatusOK, map[string]any{"room_id": tt.resolves})
			})
			err := f.matrix(t).Bot().SetAlias(context.Background(), "#irc_chan:example.org", testRoom)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			put := f.requests(false)[0]
			if put.Path != "/_matrix/client/v3/directory/room/#irc_chan:example.org" || string(put.Body) != `{"room_id":"!room:example.org"}` {
				t.Errorf("request %s %s", put.Path, put.Body)
			}
		})
	}
}

func TestHTTPInviteAlreadyMember(t *testing.T) {
	for _, msg := range []string{"@irc_bob:example.org is already in the room.", `target cannot be invited when their membership is "join"`} {
		t.Run(msg, func(t *testing.T) {
			f := newFakeHS(t)
			f.handle("POST /_matrix/client/v3/rooms/{room}/join", joinOK)
			f.handle("POST /_matrix/client/v3/rooms/{room}/invite", func(w http.ResponseWriter, r *http.Request) {
				writeError(w, http.StatusForbidden, "M_FORBIDDEN", msg)
			})
			if err := f.matrix(t).Bot().Invite(context.Background(), testRoom, "@irc_bob:example.org"); err != nil {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestHTTPSetProfileOnlyOnChange(t *testing.T) {
	f := newFakeHS(t)
	f.handle("GET /_matrix/client/v3/profile/{user}/displayname", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"displayname": "Alice"})
	})
	f.handle("GET /_matrix/client/v3/profile/{user}/avatar_url", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "no avatar")
	})
	f.handle("PUT /_matrix/client/v3/profile/{user}/{field}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{})
	})
	alice := f.matrix(t).Intent(testAlice)
	ctx := context.Background()
	steps := []struct {
		name    string
		do      func() error
		wantPut string // "" → no write
	}{
		{"same name", func() error { return alice.SetDisplayName(ctx, "Alice") }, ""},
		{"new name", func() error { return alice.SetDisplayName(ctx, "Alice (IRC)") }, `{"displayname":"Alice (IRC)"}`},
		{"no avatar stays none", func() error { return alice.SetAvatarURL(ctx, "") }, ""},
		{"new avatar", func() error { return alice.SetAvatarURL(ctx, "mxc://example.org/av") }, `{"avatar_url":"mxc://example.org/av"}`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := len(f.requests(false))
			if err := s.do(); err != nil {
				t.Fatal(err)
			}
			var puts []string
			for _, r := range f.requests(false)[before:] {
				if r.Method == http.MethodPut {
					puts = append(puts, string(r.Body))
				}
			}
			if strings.Join(puts, "") != s.wantPut {
				t.Errorf("writes %v, want %q", puts, s.wantPut)
			}
		})
	}
}

func TestHTTPPing(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    map[string]any
		wantErr bool
	}{
		{"reached", http.StatusOK, map[string]any{"duration_ms": 12}, false},
		{"appservice unreachable", http.StatusBadGateway, map[string]any{"errcode": "M_CONNECTION_FAILED"}, true},
		{"wrong hs_token", http.StatusBadGateway, map[string]any{"errcode": "M_BAD_STATUS", "status": 403}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHS(t)
			f.handle("POST /_matrix/client/v1/appservice/{id}/ping", func(w http.ResponseWriter, r *http.Request) {
				respond(w, tt.status, tt.body)
			})
			err := f.matrix(t).Ping(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			reqs := f.requests(true)
			if len(reqs) != 1 || reqs[0].Path != "/_matrix/client/v1/appservice/irc/ping" {
				t.Fatalf("requests:%s", describe(reqs))
			}
			var body struct {
				TxnID string `json:"transaction_id"`
			}
			if err := json.Unmarshal(reqs[0].Body, &body); err != nil || body.TxnID == "" {
				t.Errorf("ping body %s", reqs[0].Body)
			}
		})
	}
}

func TestHTTPCreateRoomAndUpload(t *testing.T) {
	f := newFakeHS(t)
	f.handle("POST /_matrix/client/v3/createRoom", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"room_id": "!new:example.org"})
	})
	f.handle("POST /_matrix/media/v3/upload", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "image/png" || r.URL.Query().Get("filename") != "a.png" {
			writeError(w, http.StatusBadRequest, "M_BAD_JSON", "wrong upload")
			return
		}
		respond(w, http.StatusOK, map[string]any{"content_uri": "mxc://example.org/up"})
	})
	f.handle("PUT /_matrix/client/v3/rooms/{room}/state/{type}/{key...}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"event_id": "$state"})
	})
	bot := f.matrix(t).Bot()
	ctx := context.Background()
	room, err := bot.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "chan"})
	if err != nil || room != "!new:example.org" {
		t.Fatalf("CreateRoom = %q, %v", room, err)
	}
	// The creator is known to be joined: no join before the state event.
	if _, err := bot.SendState(ctx, room, event.StateRoomName, "", map[string]any{"name": "x"}); err != nil {
		t.Fatal(err)
	}
	uri, err := bot.Upload(ctx, []byte("png"), "image/png", "a.png")
	if err != nil || uri != "mxc://example.org/up" {
		t.Fatalf("Upload = %q, %v", uri, err)
	}
	for _, r := range f.requests(false) {
		if strings.HasSuffix(r.Path, "/join") {
			t.Errorf("unneeded join: %s", r.Path)
		}
	}
}

// TestHTTPConcurrentUse runs many calls as one puppet at once; with -race it
// checks the intent's caches, and it checks that registration happens once.
func TestHTTPConcurrentUse(t *testing.T) {
	f := newFakeHS(t)
	f.handle("POST /_matrix/client/v3/rooms/{room}/join", joinOK)
	f.handle("PUT /_matrix/client/v3/rooms/{room}/send/{type}/{txn}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"event_id": "$" + r.PathValue("txn")})
	})
	m := f.matrix(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			room := id.RoomID(fmt.Sprintf("!r%d:example.org", i%3))
			if _, err := m.Intent(testAlice).SendMessage(context.Background(), room, event.EventMessage, map[string]any{"n": i}, SendOptions{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	registers := 0
	for _, r := range f.requests(true) {
		if r.Path == "/_matrix/client/v3/register" {
			registers++
		}
	}
	if registers != 1 {
		t.Errorf("registered %d times", registers)
	}
}
