package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestRegistrationDisabled(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, withRegistration(false))
		_, err := s.client(t, "", "").RegisterDummy(context.Background(), &mautrix.ReqRegister[any]{Username: "alice", Password: "correct horse"})
		wantErr(t, err, "M_FORBIDDEN", 403)
		// Not even the first UIA round: no session is handed out.
		r := s.do(t, "POST", "/_matrix/client/v3/register", "", map[string]any{"username": "alice", "password": "correct horse"})
		wantStatus(t, "register without auth", r, 403, "M_FORBIDDEN")
		r = s.do(t, "GET", "/_matrix/client/v3/register/available?username=alice", "", nil)
		wantStatus(t, "available", r, 403, "M_FORBIDDEN")
		// The administrator still can.
		if _, err := s.CreateUser(context.Background(), "alice", "correct horse", false); err != nil {
			t.Fatal(err)
		}
		s.login(t, "alice", "correct horse")
	})
}

func TestRegisterDummyFlow(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		body := map[string]any{"username": "alice", "password": "correct horse"}
		r := s.do(t, "POST", "/_matrix/client/v3/register", "", body)
		wantStatus(t, "first round", r, 401, "")
		flows, _ := r.body["flows"].([]any)
		session, _ := r.body["session"].(string)
		params, hasParams := r.body["params"].(map[string]any)
		if len(flows) != 1 || session == "" || !hasParams || len(params) != 0 {
			t.Fatalf("UIA body %s", r.raw)
		}
		if stages := flows[0].(map[string]any)["stages"].([]any); len(stages) != 1 || stages[0] != "m.login.dummy" {
			t.Fatalf("stages %v", stages)
		}
		// A session this server never gave out starts over with a new one.
		body["auth"] = map[string]any{"type": "m.login.dummy", "session": "forged"}
		r = s.do(t, "POST", "/_matrix/client/v3/register", "", body)
		if r.status != 401 || r.body["session"] == "forged" || r.body["session"] == "" || r.errcode() == "" {
			t.Fatalf("unknown session: %d %s", r.status, r.raw)
		}
		body["auth"] = map[string]any{"type": "m.login.dummy", "session": session}
		body["device_id"] = "PHONE"
		body["initial_device_display_name"] = "Alice's phone"
		r = s.do(t, "POST", "/_matrix/client/v3/register", "", body)
		wantStatus(t, "dummy stage", r, 200, "")
		if r.body["user_id"] != "@alice:example.org" || r.body["device_id"] != "PHONE" || r.body["access_token"] == "" {
			t.Fatalf("registered %s", r.raw)
		}
		cli := s.client(t, "@alice:example.org", r.body["access_token"].(string))
		who, err := cli.Whoami(context.Background())
		if err != nil || who.UserID != "@alice:example.org" || who.DeviceID != "PHONE" {
			t.Fatalf("whoami %+v %v", who, err)
		}
		dev, err := cli.GetDeviceInfo(context.Background(), "PHONE")
		if err != nil || dev.DisplayName != "Alice's phone" {
			t.Fatalf("device %+v %v", dev, err)
		}
		// The session was used up.
		r = s.do(t, "POST", "/_matrix/client/v3/register", "", map[string]any{
			"username": "alice2", "password": "correct horse", "auth": map[string]any{"type": "m.login.dummy", "session": session},
		})
		if r.status != 401 || r.errcode() == "" {
			t.Fatalf("reused session: %d %s", r.status, r.raw)
		}
	})
}

func TestRegisterVariants(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		s.register(t, "alice", "correct horse")

		// Taken and invalid names are refused before any UIA round.
		for _, tc := range []struct{ username, code string }{
			{"alice", "M_USER_IN_USE"},
			{"ALICE", "M_USER_IN_USE"}, // lower-cased, so taken too
			{"bad name", "M_INVALID_USERNAME"},
			{"émile", "M_INVALID_USERNAME"},
			{"a:b", "M_INVALID_USERNAME"},
			{strings.Repeat("x", 250), "M_INVALID_USERNAME"},
		} {
			r := s.do(t, "POST", "/_matrix/client/v3/register", "", map[string]any{"username": tc.username, "password": "correct horse"})
			wantStatus(t, "register "+tc.username, r, 400, tc.code)
		}
		_, err := s.client(t, "", "").RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: "alice", Password: "correct horse"})
		wantErr(t, err, "M_USER_IN_USE", 400)

		// Upper case maps to lower case.
		bob := s.register(t, "Bob", "correct horse")
		if bob.UserID != "@bob:example.org" {
			t.Errorf("Bob registered as %s", bob.UserID)
		}
		// The full grammar is accepted.
		if cli := s.register(t, "x.y_z=1-2/3+4", "correct horse"); cli.UserID != "@x.y_z=1-2/3+4:example.org" {
			t.Errorf("registered %s", cli.UserID)
		}
		// No username: the server picks one.
		gen := s.register(t, "", "correct horse")
		if !strings.HasPrefix(gen.UserID.String(), "@u") || gen.UserID.Homeserver() != testServer {
			t.Errorf("generated user id %s", gen.UserID)
		}

		// Passwords.
		r := s.do(t, "POST", "/_matrix/client/v3/register", "", map[string]any{"username": "carol"})
		wantStatus(t, "no password", r, 400, "M_MISSING_PARAM")
		r = s.do(t, "POST", "/_matrix/client/v3/register", "", map[string]any{"username": "carol", "password": "short"})
		wantStatus(t, "short password", r, 400, "M_WEAK_PASSWORD")
		if msg, _ := r.body["error"].(string); !strings.Contains(msg, "at least 8") {
			t.Errorf("weak password message %q does not say the minimum", msg)
		}
		r = s.do(t, "POST", "/_matrix/client/v3/register", "", map[string]any{"username": "carol", "password": strings.Repeat("p", 73)})
		wantStatus(t, "long password", r, 400, "M_WEAK_PASSWORD")

		// inhibit_login: an account but no session.
		cli := s.client(t, "", "")
		resp, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: "dave", Password: "correct horse", InhibitLogin: true})
		if err != nil || resp.UserID != "@dave:example.org" || resp.AccessToken != "" || resp.DeviceID != "" {
			t.Fatalf("inhibit_login: %+v %v", resp, err)
		}
		s.login(t, "dave", "correct horse")

		// Guests are not supported.
		r = s.do(t, "POST", "/_matrix/client/v3/register?kind=guest", "", map[string]any{})
		wantStatus(t, "guest", r, 403, "M_GUEST_ACCESS_FORBIDDEN")
		_, _, err = cli.RegisterGuest(ctx, &mautrix.ReqRegister[any]{})
		wantErr(t, err, "M_GUEST_ACCESS_FORBIDDEN", 403)

		// Availability.
		if _, err := cli.RegisterAvailable(ctx, "erin"); err != nil {
			t.Errorf("erin not available: %v", err)
		}
		_, err = cli.RegisterAvailable(ctx, "alice")
		wantErr(t, err, "M_USER_IN_USE", 400)
		_, err = cli.RegisterAvailable(ctx, "no spaces")
		wantErr(t, err, "M_INVALID_USERNAME", 400)
	})
}

func TestCreateUser(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, withRegistration(false))
		ctx := context.Background()
		userID, err := s.CreateUser(ctx, "admin", "correct horse", true)
		if err != nil || userID != "@admin:example.org" {
			t.Fatalf("CreateUser: %s %v", userID, err)
		}
		if _, err := s.CreateUser(ctx, "admin", "correct horse", false); !errors.Is(err, ErrUserInUse) {
			t.Errorf("duplicate: %v", err)
		}
		if _, err := s.CreateUser(ctx, "Admin2", "correct horse", false); !errors.Is(err, ErrInvalidUsername) {
			t.Errorf("upper case: %v", err)
		}
		if _, err := s.CreateUser(ctx, "weak", "123", false); !errors.Is(err, ErrWeakPassword) {
			t.Errorf("weak password: %v", err)
		}
		// No password: exists, cannot log in.
		if _, err := s.CreateUser(ctx, "bot", "", false); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			user id.UserID
			want bool
		}{{"@admin:example.org", true}, {"@bot:example.org", true}, {"@nobody:example.org", false}, {"@admin:other.org", false}, {"garbage", false}} {
			if got, err := s.UserExists(ctx, tc.user); err != nil || got != tc.want {
				t.Errorf("UserExists(%s) = %v %v", tc.user, got, err)
			}
		}
		_, err = s.client(t, "", "").Login(ctx, &mautrix.ReqLogin{
			Type: mautrix.AuthTypePassword, Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "bot"}, Password: "",
		})
		wantErr(t, err, "M_FORBIDDEN", 403)
		var admin bool
		if err := db.QueryRow(ctx, "SELECT admin FROM hs_users WHERE user_id = $1", "@admin:example.org").Scan(&admin); err != nil || !admin {
			t.Errorf("admin flag: %v %v", admin, err)
		}
	})
}
