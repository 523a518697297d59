package accounts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"switchboard/internal/database/dbtest"
	"switchboard/internal/logging"
)

// fuzzHandler is the account API on a fresh SQLite database with one user,
// alice, whose password is "correct horse".
func fuzzHandler(f *testing.F) http.Handler {
	a, err := New(context.Background(), Options{
		ServerName: testServer, DB: dbtest.SQLite(f), Log: logging.Discard(), RegistrationEnabled: true,
	})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := a.CreateUser(context.Background(), "alice", "correct horse", false); err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	return mux
}

func fuzzBody(t *testing.T, h http.Handler, path, body string) {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.1:1234"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req) // a panic fails the fuzz run
	if rec.Code >= 500 {
		t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body)
	}
}

func FuzzLoginBody(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `{"type":`,
		`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"correct horse"}`,
		`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"@alice:example.org"},"password":"wrong"}`,
		`{"type":"m.login.password","user":"ALICE","password":"correct horse","device_id":"DEV","initial_device_display_name":"x"}`,
		`{"type":"m.login.password","identifier":{"type":"m.id.thirdparty","medium":"email","address":"a@b"},"password":"x"}`,
		`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"al\u0000ice"},"password":"x","device_id":"\u0000"}`,
		`{"type":"m.login.application_service","identifier":{"type":"m.id.user","user":"alice"}}`,
		`{"type":"m.login.token","token":"x"}`, `{"type":5}`, `{"identifier":[]}`,
	} {
		f.Add(seed)
	}
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body string) {
		fuzzBody(t, h, "/_matrix/client/v3/login", body)
	})
}

func FuzzRegisterBody(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `[1]`, `"x"`, `{"username":`,
		`{"username":"bob","password":"correct horse"}`,
		`{"username":"bob","password":"correct horse","auth":{"type":"m.login.dummy"}}`,
		`{"password":"correct horse","auth":{"type":"m.login.dummy","session":"nope"},"inhibit_login":true}`,
		`{"username":"Bob","password":"correct horse","auth":{"type":"m.login.password"},"device_id":"D"}`,
		`{"username":"a\u0000","password":"\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"}`,
		`{"type":"m.login.application_service","username":"bridge_x"}`,
		`{"username":"alice","password":"correct horse","auth":null}`, `{"auth":[],"username":1}`,
	} {
		f.Add(seed)
	}
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body string) {
		fuzzBody(t, h, "/_matrix/client/v3/register", body)
		fuzzBody(t, h, "/_matrix/client/v3/register?kind=guest", body)
	})
}
