package accounts

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/internal/config"
	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestCapabilities(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, func(o *Options) {
			o.RoomVersions = func() (string, map[string]string) {
				return "11", map[string]string{"10": "stable", "11": "stable", "12": "unstable"}
			}
		})
		alice := s.register(t, "alice", "correct horse")
		caps, err := alice.Capabilities(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !caps.ChangePassword.IsEnabled() || caps.ChangePassword == nil || !caps.SetDisplayname.Enabled || !caps.SetAvatarURL.Enabled {
			t.Errorf("capabilities %+v", caps)
		}
		if caps.ThreePIDChanges == nil || caps.ThreePIDChanges.Enabled {
			t.Errorf("3pid changes should be off: %+v", caps.ThreePIDChanges)
		}
		if caps.RoomVersions == nil || caps.RoomVersions.Default != "11" || !caps.RoomVersions.IsStable("10") || caps.RoomVersions.IsStable("12") {
			t.Errorf("room versions %+v", caps.RoomVersions)
		}
		r := s.do(t, "GET", "/_matrix/client/v3/capabilities", "", nil)
		wantStatus(t, "capabilities without token", r, 401, "M_MISSING_TOKEN")

		plain := newServer(t, db)
		r = plain.do(t, "GET", "/_matrix/client/v3/capabilities", alice.AccessToken, nil)
		if caps, _ := r.body["capabilities"].(map[string]any); r.status != 200 || caps["m.room_versions"] != nil || caps["m.change_password"] == nil {
			t.Errorf("without RoomVersions: %s", r.raw)
		}
	})
}

func TestRateLimits(t *testing.T) {
	limits := config.RateLimits{
		Enabled:  true,
		Login:    config.RateLimit{PerSecond: 0.01, Burst: 2},
		Register: config.RateLimit{PerSecond: 0.01, Burst: 3},
	}
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, withRateLimits(limits))
		if _, err := s.CreateUser(context.Background(), "alice", "correct horse", false); err != nil {
			t.Fatal(err)
		}
		login := map[string]any{"type": "m.login.password", "identifier": map[string]any{"type": "m.id.user", "user": "alice"}, "password": "correct horse"}
		for i := range 2 {
			r := s.do(t, "POST", "/_matrix/client/v3/login", "", login)
			wantStatus(t, "login "+strconv.Itoa(i), r, 200, "")
		}
		r := s.do(t, "POST", "/_matrix/client/v3/login", "", login)
		wantStatus(t, "third login", r, 429, "M_LIMIT_EXCEEDED")
		if ms, _ := r.body["retry_after_ms"].(float64); ms < 1000 || ms > 100_000 {
			t.Errorf("retry_after_ms %v", r.body["retry_after_ms"])
		}
		if r.header.Get("Retry-After") == "" {
			t.Error("no Retry-After header")
		}
		// The limit is per client address: the mautrix client is limited too.
		_, err := s.client(t, "", "").Login(context.Background(), &mautrix.ReqLogin{
			Type: mautrix.AuthTypePassword, Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, Password: "correct horse",
		})
		wantErr(t, err, "M_LIMIT_EXCEEDED", 429)

		for i := range 3 {
			r := s.do(t, "POST", "/_matrix/client/v3/register", "", map[string]any{"username": "u" + strconv.Itoa(i), "password": "correct horse"})
			wantStatus(t, "register round "+strconv.Itoa(i), r, 401, "")
		}
		r = s.do(t, "POST", "/_matrix/client/v3/register", "", map[string]any{"username": "u9", "password": "correct horse"})
		wantStatus(t, "fourth register", r, 429, "M_LIMIT_EXCEEDED")

		// Disabled limits limit nothing.
		off := limits
		off.Enabled = false
		free := newServer(t, db, withRateLimits(off))
		for i := range 10 {
			r := free.do(t, "POST", "/_matrix/client/v3/login", "", login)
			wantStatus(t, "unlimited login "+strconv.Itoa(i), r, 200, "")
		}
	})
}

func TestMalformedBodies(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		alice := s.register(t, "alice", "correct horse")
		for _, tc := range []struct {
			name, method, path, token, body string
			status                          int
			code                            string
		}{
			{"login not json", "POST", "/_matrix/client/v3/login", "", `{"type":`, 400, "M_NOT_JSON"},
			{"login array", "POST", "/_matrix/client/v3/login", "", `[]`, 400, "M_NOT_JSON"},
			{"login wrong type", "POST", "/_matrix/client/v3/login", "", `{"type": 5}`, 400, "M_BAD_JSON"},
			{"login identifier not object", "POST", "/_matrix/client/v3/login", "", `{"type": "m.login.password", "identifier": "alice"}`, 400, "M_BAD_JSON"},
			{"register not json", "POST", "/_matrix/client/v3/register", "", `nope`, 400, "M_NOT_JSON"},
			{"register wrong type", "POST", "/_matrix/client/v3/register", "", `{"username": ["a"]}`, 400, "M_BAD_JSON"},
			{"register auth not object", "POST", "/_matrix/client/v3/register", "", `{"username": "zed", "password": "correct horse", "auth": 7}`, 400, "M_BAD_JSON"},
			{"password wrong type", "POST", "/_matrix/client/v3/account/password", alice.AccessToken, `{"new_password": true}`, 400, "M_BAD_JSON"},
			{"device rename wrong type", "PUT", "/_matrix/client/v3/devices/" + alice.DeviceID.String(), alice.AccessToken, `{"display_name": 1}`, 400, "M_BAD_JSON"},
			{"push rule not json", "PUT", "/_matrix/client/v3/pushrules/global/override/x", alice.AccessToken, `{`, 400, "M_NOT_JSON"},
			{"push rule actions wrong type", "PUT", "/_matrix/client/v3/pushrules/global/override/x", alice.AccessToken, `{"actions": "notify"}`, 400, "M_BAD_JSON"},
			{"too large", "PUT", "/_matrix/client/v3/user/@alice:example.org/account_data/x", alice.AccessToken, `{"a":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "M_TOO_LARGE"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := s.do(t, tc.method, tc.path, tc.token, tc.body)
				wantStatus(t, tc.name, r, tc.status, tc.code)
			})
		}
	})
}

// Text the database cannot store (NUL, invalid UTF-8) and odd ids in paths
// and bodies are refused or ignored, never a 500.
func TestHostileInputs(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		alice := s.register(t, "alice", "correct horse")
		tok := alice.AccessToken
		for _, tc := range []struct{ method, path, token, body string }{
			{"POST", "/_matrix/client/v3/login", "", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"al\u0000ice"},"password":"x"}`},
			{"POST", "/_matrix/client/v3/login", "", `{"type":"m.login.password","user":"alice","password":"correct horse","device_id":"D\u0000"}`},
			{"POST", "/_matrix/client/v3/login", "", `{"type":"m.login.password","user":"alice","password":"correct horse","initial_device_display_name":"\u0000"}`},
			{"POST", "/_matrix/client/v3/register", "", `{"username":"a\u0000b","password":"correct horse"}`},
			{"GET", "/_matrix/client/v3/register/available?username=%00%FF", "", ""},
			{"PUT", "/_matrix/client/v3/profile/@alice:example.org/displayname", tok, `{"displayname":"a\u0000b"}`},
			{"GET", "/_matrix/client/v3/profile/@al%00ice:example.org", "", ""},
			{"GET", "/_matrix/client/v3/profile/@al%FFice:example.org/displayname", "", ""},
			{"GET", "/_matrix/client/v3/devices/%00", tok, ""},
			{"PUT", "/_matrix/client/v3/devices/%FF", tok, `{"display_name":"x"}`},
			{"GET", "/_matrix/client/v3/user/@alice:example.org/account_data/%00", tok, ""},
			{"PUT", "/_matrix/client/v3/user/@alice:example.org/account_data/%FF", tok, `{}`},
			{"PUT", "/_matrix/client/v3/user/@alice:example.org/rooms/!a%00/account_data/x", tok, `{}`},
			{"PUT", "/_matrix/client/v3/user/@alice:example.org/account_data/x", tok, `{"a":"\u0000"}`},
			{"GET", "/_matrix/client/v3/user/@alice:example.org/filter/%00", tok, ""},
			{"POST", "/_matrix/client/v3/user/@alice:example.org/filter", tok, `{"event_fields":["\u0000"]}`},
			{"GET", "/_matrix/client/v3/pushrules/global/override/%FF", tok, ""},
			{"PUT", "/_matrix/client/v3/pushrules/global/override/a%00b", tok, `{"actions":[]}`},
			{"PUT", "/_matrix/client/v3/pushrules/global/content/x", tok, `{"actions":[],"pattern":"\u0000"}`},
			{"PUT", "/_matrix/client/v3/pushrules/global/override/y", tok, `{"actions":[{"set_tweak":"\u0000"}],"conditions":[{"kind":"\u0000"}]}`},
			{"POST", "/_matrix/client/v3/delete_devices", tok, `{"devices":["\u0000"]}`},
		} {
			r := s.do(t, tc.method, tc.path, tc.token, tc.body)
			if r.status >= 500 {
				t.Errorf("%s %s %s: %d %s", tc.method, tc.path, tc.body, r.status, r.raw)
			}
		}
		// Still healthy.
		if _, err := alice.Whoami(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCORS(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t))
	r := s.do(t, "GET", "/_matrix/client/v3/login", "", nil)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET /login: %d %v", r.status, r.header)
	}
	r = s.do(t, "OPTIONS", "/_matrix/client/v3/account/whoami", "", nil)
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Headers") == "" {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
}

// fakeAppservices lets the token "as_token" act for users whose localpart
// starts with "bridge_", a namespace it holds exclusively.
type fakeAppservices struct{}

func (fakeAppservices) AuthorizeUser(r *http.Request, userID id.UserID) (string, error) {
	if r.Header.Get("Authorization") != "Bearer as_token" {
		return "", mautrix.MUnknownToken.WithMessage("unknown as_token")
	}
	if !strings.HasPrefix(userID.Localpart(), "bridge_") {
		return "", mautrix.MExclusive.WithMessage("outside the namespace")
	}
	return "bridge", nil
}

func (fakeAppservices) Exclusive(userID id.UserID) bool {
	return strings.HasPrefix(userID.Localpart(), "bridge_")
}

func (fakeAppservices) Identify(r *http.Request, token string) (mxhttp.Identity, bool, error) {
	return mxhttp.Identity{}, false, nil
}

func (fakeAppservices) QueryUser(context.Context, id.UserID) (bool, error) { return false, nil }

func TestAppserviceRegistrationHook(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, withRegistration(false))
		ctx := context.Background()
		body := map[string]any{"type": "m.login.application_service", "username": "bridge_alice", "inhibit_login": true}

		r := s.do(t, "POST", "/_matrix/client/v3/register", "as_token", body)
		wantStatus(t, "without appservices", r, 401, "M_UNKNOWN_TOKEN")

		s.SetAppservices(fakeAppservices{})
		r = s.do(t, "POST", "/_matrix/client/v3/register", "", body)
		wantStatus(t, "without a token", r, 401, "M_MISSING_TOKEN")
		r = s.do(t, "POST", "/_matrix/client/v3/register", "wrong", body)
		wantStatus(t, "wrong token", r, 401, "M_UNKNOWN_TOKEN")
		r = s.do(t, "POST", "/_matrix/client/v3/register", "as_token", map[string]any{"type": "m.login.application_service", "username": "alice"})
		wantStatus(t, "outside the namespace", r, 400, "M_EXCLUSIVE")
		// Registration is off, yet the appservice may register its users.
		r = s.do(t, "POST", "/_matrix/client/v3/register", "as_token", body)
		wantStatus(t, "appservice registration", r, 200, "")
		if r.body["user_id"] != "@bridge_alice:example.org" || r.body["access_token"] != nil {
			t.Errorf("registered %s", r.raw)
		}
		r = s.do(t, "POST", "/_matrix/client/v3/register", "as_token", body)
		wantStatus(t, "again", r, 400, "M_USER_IN_USE")

		// Login as the user with the appservice's token.
		flows, err := s.client(t, "", "").GetLoginFlows(ctx)
		if err != nil || !flows.HasFlow(mautrix.AuthTypeAppservice) {
			t.Errorf("login flows %+v %v", flows, err)
		}
		r = s.do(t, "POST", "/_matrix/client/v3/login", "as_token", map[string]any{
			"type": "m.login.application_service", "identifier": map[string]any{"type": "m.id.user", "user": "bridge_alice"},
		})
		wantStatus(t, "appservice login", r, 200, "")
		if r.body["user_id"] != "@bridge_alice:example.org" || r.body["access_token"] == "" {
			t.Errorf("login %s", r.raw)
		}

		// The namespace is exclusive for ordinary registration.
		open := newServer(t, db)
		open.SetAppservices(fakeAppservices{})
		r = open.do(t, "POST", "/_matrix/client/v3/register", "", map[string]any{"username": "bridge_bob", "password": "correct horse"})
		wantStatus(t, "exclusive namespace", r, 400, "M_EXCLUSIVE")
		_, err = open.client(t, "", "").RegisterAvailable(ctx, "bridge_bob")
		wantErr(t, err, "M_EXCLUSIVE", 400)
	})
}
