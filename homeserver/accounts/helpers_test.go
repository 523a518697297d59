package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/internal/config"
	"switchboard/internal/database"
	"switchboard/internal/logging"
)

const testServer = "example.org"

func TestMain(m *testing.M) {
	// bcrypt at production cost would make every login in the tests take a
	// quarter of a second.
	bcryptCost = bcrypt.MinCost
	goleak.VerifyTestMain(m)
}

// server is an Accounts behind a real HTTP server, with the catch-all the
// homeserver adds.
type server struct {
	*Accounts
	url string
}

func newServer(t *testing.T, db *database.DB, tune ...func(*Options)) *server {
	t.Helper()
	opts := Options{ServerName: testServer, DB: db, Log: logging.Discard(), RegistrationEnabled: true}
	for _, f := range tune {
		f(&opts)
	}
	a, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, a)
}

func serve(t *testing.T, a *Accounts) *server {
	t.Helper()
	mux := http.NewServeMux()
	a.Register(mux)
	mux.Handle("/_matrix/", mxhttp.CORS(http.HandlerFunc(mxhttp.Unrecognized)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &server{Accounts: a, url: srv.URL}
}

func withRegistration(enabled bool) func(*Options) {
	return func(o *Options) { o.RegistrationEnabled = enabled }
}

func withRateLimits(rl config.RateLimits) func(*Options) {
	return func(o *Options) { o.RateLimits = rl }
}

// client is a mautrix client for s, logged in when token is set.
func (s *server) client(t *testing.T, userID id.UserID, token string) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(s.url, userID, token)
	if err != nil {
		t.Fatal(err)
	}
	cli.IgnoreRateLimit = true
	cli.Client = &http.Client{Transport: &http.Transport{}}
	t.Cleanup(cli.Client.CloseIdleConnections)
	return cli
}

// register creates an account through the API and returns a client logged
// in as it.
func (s *server) register(t *testing.T, username, password string) *mautrix.Client {
	t.Helper()
	cli := s.client(t, "", "")
	resp, err := cli.RegisterDummy(context.Background(), &mautrix.ReqRegister[any]{Username: username, Password: password})
	if err != nil {
		t.Fatalf("register %s: %v", username, err)
	}
	cli.UserID, cli.AccessToken, cli.DeviceID = resp.UserID, resp.AccessToken, resp.DeviceID
	return cli
}

// login logs username in and returns a client using the new session.
func (s *server) login(t *testing.T, username, password string) *mautrix.Client {
	t.Helper()
	cli := s.client(t, "", "")
	_, err := cli.Login(context.Background(), &mautrix.ReqLogin{
		Type:             mautrix.AuthTypePassword,
		Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: username},
		Password:         password,
		StoreCredentials: true,
	})
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return cli
}

// response is a raw HTTP answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r response) errcode() string {
	s, _ := r.body["errcode"].(string)
	return s
}

// do sends a raw request: body is sent as is when it is a string, as JSON
// otherwise (nil sends nothing).
func (s *server) do(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.url+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// wantErr fails t unless err is a Matrix error with code and status.
func wantErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.RespError == nil {
		t.Fatalf("want %s (%d), got %v", code, status, err)
	}
	if httpErr.RespError.ErrCode != code || httpErr.Response.StatusCode != status {
		t.Fatalf("want %s (%d), got %s (%d): %s", code, status, httpErr.RespError.ErrCode, httpErr.Response.StatusCode, httpErr.RespError.Err)
	}
}

func wantStatus(t *testing.T, what string, r response, status int, errcode string) {
	t.Helper()
	if r.status != status || r.errcode() != errcode {
		t.Fatalf("%s: %d %s, want %d %q", what, r.status, r.raw, status, errcode)
	}
}

func passwordAuth(user, password, session string) map[string]any {
	return map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": user},
		"password":   password,
		"session":    session,
	}
}
