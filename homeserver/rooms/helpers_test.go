package rooms

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/internal/database"
	"switchboard/internal/logging"
)

const testServer = "test.local"

// tokenAuth is an Authenticator for tests: each token is "token-<localpart>".
type tokenAuth struct{}

func (tokenAuth) RequireAuth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := mxhttp.AccessToken(r)
		local, ok := strings.CutPrefix(tok, "token-")
		if !ok {
			mautrix.MUnknownToken.WithMessage("bad token").Write(w)
			return
		}
		ident := mxhttp.Identity{UserID: id.NewUserID(local, testServer), DeviceID: "DEV" + id.DeviceID(local)}
		h(w, r.WithContext(mxhttp.WithIdentity(r.Context(), ident)))
	})
}

// testProfiles gives every user the display name "Name of <localpart>".
type testProfiles struct{}

func (testProfiles) Profile(_ context.Context, user id.UserID) (string, string, error) {
	return "Name of " + user.Localpart(), "", nil
}

type testHS struct {
	engine *Engine
	server *httptest.Server
}

func newTestHS(t testing.TB, db *database.DB) *testHS {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	e, err := New(context.Background(), Options{
		ServerName: testServer,
		KeyID:      "ed25519:test",
		SigningKey: key,
		DB:         db,
		Log:        logging.Discard(),
		Auth:       tokenAuth{},
		Profiles:   testProfiles{},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.Register(mux)
	e.RegisterSync(mux)
	e.RegisterDirectory(mux)
	mux.Handle("/_matrix/", http.HandlerFunc(mxhttp.Unrecognized))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	return &testHS{engine: e, server: srv}
}

func (hs *testHS) client(t testing.TB, localpart string) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(hs.server.URL, id.NewUserID(localpart, testServer), "token-"+localpart)
	if err != nil {
		t.Fatal(err)
	}
	cli.DeviceID = "DEV" + id.DeviceID(localpart)
	return cli
}
