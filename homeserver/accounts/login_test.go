package accounts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestLogin(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		s.register(t, "alice", "correct horse")

		flows, err := s.client(t, "", "").GetLoginFlows(ctx)
		if err != nil || !flows.HasFlow(mautrix.AuthTypePassword) {
			t.Fatalf("login flows %+v %v", flows, err)
		}

		// By localpart (any case) and by full user id.
		for _, name := range []string{"alice", "Alice", "@alice:example.org"} {
			cli := s.login(t, name, "correct horse")
			if cli.UserID != "@alice:example.org" || cli.DeviceID == "" || !strings.HasPrefix(cli.AccessToken, "sbt_") {
				t.Errorf("login as %q: %s %s", name, cli.UserID, cli.DeviceID)
			}
		}
		// The deprecated top-level user field.
		r := s.do(t, "POST", "/_matrix/client/v3/login", "", map[string]any{
			"type": "m.login.password", "user": "alice", "password": "correct horse",
		})
		wantStatus(t, "top-level user", r, 200, "")
		if r.body["user_id"] != "@alice:example.org" || r.body["home_server"] != testServer {
			t.Errorf("login response %s", r.raw)
		}

		// A wrong password and an unknown user get the same answer.
		var answers []string
		for _, tc := range []struct{ user, password string }{
			{"alice", "wrong password"},
			{"nobody", "correct horse"},
			{"@alice:other.org", "correct horse"},
			{"not a name", "correct horse"},
		} {
			r := s.do(t, "POST", "/_matrix/client/v3/login", "", map[string]any{
				"type": "m.login.password", "identifier": map[string]any{"type": "m.id.user", "user": tc.user}, "password": tc.password,
			})
			wantStatus(t, "login "+tc.user, r, 403, "M_FORBIDDEN")
			answers = append(answers, string(r.raw))
		}
		for _, a := range answers[1:] {
			if a != answers[0] {
				t.Errorf("answers differ, revealing who exists: %q vs %q", answers[0], a)
			}
		}
		r = s.do(t, "POST", "/_matrix/client/v3/login", "", map[string]any{
			"type": "m.login.password", "identifier": map[string]any{"type": "m.id.thirdparty", "medium": "email", "address": "a@b.c"}, "password": "x",
		})
		wantStatus(t, "3pid login", r, 403, "M_FORBIDDEN")
		r = s.do(t, "POST", "/_matrix/client/v3/login", "", map[string]any{"type": "m.login.token", "token": "x"})
		wantStatus(t, "token login", r, 400, "M_UNKNOWN")
		r = s.do(t, "POST", "/_matrix/client/v3/login", "", map[string]any{"password": "x"})
		wantStatus(t, "no type", r, 400, "M_MISSING_PARAM")

		// Deactivated accounts.
		if _, err := db.Exec(ctx, "UPDATE hs_users SET deactivated = true WHERE user_id = $1", "@alice:example.org"); err != nil {
			t.Fatal(err)
		}
		_, err = s.client(t, "", "").Login(ctx, &mautrix.ReqLogin{
			Type: mautrix.AuthTypePassword, Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, Password: "correct horse",
		})
		wantErr(t, err, "M_USER_DEACTIVATED", 403)
		// With the wrong password it stays a plain M_FORBIDDEN.
		_, err = s.client(t, "", "").Login(ctx, &mautrix.ReqLogin{
			Type: mautrix.AuthTypePassword, Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, Password: "wrong password",
		})
		wantErr(t, err, "M_FORBIDDEN", 403)
	})
}

func TestLoginDeviceID(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		s.register(t, "alice", "correct horse")
		login := func(deviceID, name string) *mautrix.Client {
			cli := s.client(t, "", "")
			_, err := cli.Login(ctx, &mautrix.ReqLogin{
				Type: mautrix.AuthTypePassword, Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"},
				Password: "correct horse", DeviceID: id.DeviceID(deviceID), InitialDeviceDisplayName: name, StoreCredentials: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			return cli
		}
		first := login("LAPTOP", "Laptop")
		if first.DeviceID != "LAPTOP" {
			t.Fatalf("device %s", first.DeviceID)
		}
		second := login("LAPTOP", "Other name")
		// Logging in on a known device replaces its token and keeps its name.
		_, err := first.Whoami(ctx)
		wantErr(t, err, "M_UNKNOWN_TOKEN", 401)
		dev, err := second.GetDeviceInfo(ctx, "LAPTOP")
		if err != nil || dev.DisplayName != "Laptop" {
			t.Errorf("device after re-login: %+v %v", dev, err)
		}
	})
}

func TestTokens(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		alice := s.register(t, "alice", "correct horse")

		r := s.do(t, "GET", "/_matrix/client/v3/account/whoami", "", nil)
		wantStatus(t, "no token", r, 401, "M_MISSING_TOKEN")
		r = s.do(t, "GET", "/_matrix/client/v3/account/whoami", "sbt_not-a-token", nil)
		wantStatus(t, "bad token", r, 401, "M_UNKNOWN_TOKEN")
		r = s.do(t, "GET", "/_matrix/client/v3/account/whoami?access_token="+alice.AccessToken, "", nil)
		wantStatus(t, "query token", r, 200, "")
		if r.body["user_id"] != "@alice:example.org" || r.body["is_guest"] != false || r.body["device_id"] != alice.DeviceID.String() {
			t.Errorf("whoami %s", r.raw)
		}

		// Only the hash is stored.
		var stored string
		if err := db.QueryRow(ctx, "SELECT token_hash FROM hs_access_tokens WHERE user_id = $1", "@alice:example.org").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != hashToken(alice.AccessToken) || strings.Contains(stored, alice.AccessToken[4:]) {
			t.Errorf("stored %q", stored)
		}

		// logout kills this session only.
		other := s.login(t, "alice", "correct horse")
		if _, err := alice.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := alice.Whoami(ctx)
		wantErr(t, err, "M_UNKNOWN_TOKEN", 401)
		if _, err := other.Whoami(ctx); err != nil {
			t.Errorf("logout killed another session: %v", err)
		}
		devices, err := other.GetDevicesInfo(ctx)
		if err != nil || len(devices.Devices) != 1 || devices.Devices[0].DeviceID != other.DeviceID {
			t.Errorf("devices after logout: %+v %v", devices, err)
		}

		// logout/all kills every session.
		third := s.login(t, "alice", "correct horse")
		if _, err := third.LogoutAll(ctx); err != nil {
			t.Fatal(err)
		}
		for _, cli := range []*mautrix.Client{other, third} {
			_, err := cli.Whoami(ctx)
			wantErr(t, err, "M_UNKNOWN_TOKEN", 401)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM hs_devices").Scan(&n); err != nil || n != 0 {
			t.Errorf("%d devices left after logout/all (%v)", n, err)
		}
	})
}

func TestRestartKeepsUsersAndTokens(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		first := newServer(t, db)
		alice := first.register(t, "alice", "correct horse")
		if _, err := alice.Whoami(ctx); err != nil {
			t.Fatal(err)
		}

		second := newServer(t, db)
		cli := second.client(t, alice.UserID, alice.AccessToken)
		who, err := cli.Whoami(ctx)
		if err != nil || who.UserID != alice.UserID || who.DeviceID != alice.DeviceID {
			t.Fatalf("token after restart: %+v %v", who, err)
		}
		second.login(t, "alice", "correct horse")
		_, err = second.client(t, "", "").RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: "alice", Password: "correct horse"})
		wantErr(t, err, "M_USER_IN_USE", 400)

		if _, err := New(ctx, Options{ServerName: "other.org", DB: db}); err == nil || !strings.Contains(err.Error(), "cannot be renamed") {
			t.Errorf("renamed server: %v", err)
		}
	})
}

// A token read from the database before a logout must not be cached after
// it: the lookup and the logout race on every busy server.
func TestTokenCacheIgnoresStaleLookups(t *testing.T) {
	c := newTokenCache()
	entry := &cachedToken{ident: mxhttp.Identity{UserID: "@a:x", DeviceID: "D"}}
	gen := c.generation()
	c.evictDevice("@a:x", "D") // the logout, between lookup and put
	c.put(gen, "hash", entry)
	if c.get("hash") != nil {
		t.Fatal("a lookup that raced with a logout was cached")
	}
	c.put(c.generation(), "hash", entry)
	if c.get("hash") == nil {
		t.Fatal("a fresh lookup was not cached")
	}
	c.evictUser("@a:x", "OTHER")
	if c.get("hash") != nil {
		t.Fatal("evictUser kept another device's token")
	}
}

func TestRequireAuthPutsIdentityInContext(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		alice := s.register(t, "alice", "correct horse")
		var got mxhttp.Identity
		h := s.RequireAuth(func(w http.ResponseWriter, r *http.Request) { got, _ = mxhttp.IdentityFrom(r.Context()) })
		req := httptest.NewRequest("GET", "/x", nil)
		req.Header.Set("Authorization", "Bearer "+alice.AccessToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || got.UserID != alice.UserID || got.DeviceID != alice.DeviceID {
			t.Errorf("identity %+v, status %d", got, rec.Code)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
		if rec.Code != 401 || !strings.Contains(rec.Body.String(), "M_MISSING_TOKEN") {
			t.Errorf("without token: %d %s", rec.Code, rec.Body)
		}
	})
}

func BenchmarkAuthenticate(b *testing.B) {
	db := dbtest.SQLite(b)
	a, err := New(context.Background(), Options{ServerName: testServer, DB: db})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	userID, err := a.CreateUser(ctx, "alice", "correct horse", false)
	if err != nil {
		b.Fatal(err)
	}
	sess, err := a.startSession(ctx, userID, "", "", "")
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/_matrix/client/v3/sync", nil)
	req.Header.Set("Authorization", "Bearer "+sess.AccessToken)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Authenticate(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
