package media

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/internal/database"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testServer = "media.test"

var (
	alice = id.UserID("@alice:" + testServer)
	bob   = id.UserID("@bob:" + testServer)
)

// stubAuth resolves the tokens "alice" and "bob".
type stubAuth struct{}

func (stubAuth) Authenticate(r *http.Request) (mxhttp.Identity, error) {
	switch mxhttp.AccessToken(r) {
	case "":
		return mxhttp.Identity{}, mautrix.MMissingToken.WithMessage("Missing access token")
	case "alice":
		return mxhttp.Identity{UserID: alice}, nil
	case "bob":
		return mxhttp.Identity{UserID: bob}, nil
	default:
		return mxhttp.Identity{}, mautrix.MUnknownToken.WithMessage("Unknown access token")
	}
}

// env is a Repo served over HTTP, with a client per user.
type env struct {
	t        testing.TB
	db       *database.DB
	dir      string
	maxBytes int64
	repo     *Repo
	srv      *httptest.Server
	alice    *mautrix.Client
	bob      *mautrix.Client
}

func newEnv(t testing.TB, db *database.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, dir: t.TempDir(), maxBytes: 1 << 20}
	e.start()
	return e
}

// start (re)creates the Repo and its server on e's database and directory.
func (e *env) start() {
	e.t.Helper()
	if e.srv != nil {
		e.srv.Close()
	}
	repo, err := New(context.Background(), Options{
		ServerName:     testServer,
		DataDir:        e.dir,
		DB:             e.db,
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxUploadBytes: e.maxBytes,
		Auth:           stubAuth{},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	repo.Register(mux)
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	e.repo, e.srv = repo, srv
	e.alice = e.client(alice, "alice")
	e.bob = e.client(bob, "bob")
}

func (e *env) client(user id.UserID, token string) *mautrix.Client {
	cli, err := mautrix.NewClient(e.srv.URL, user, token)
	if err != nil {
		e.t.Fatal(err)
	}
	cli.Client = e.srv.Client()
	return cli
}

// do sends a raw request; token "" sends none.
func (e *env) do(method, path, token string, body io.Reader, header http.Header) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (e *env) get(path, token string) *http.Response {
	e.t.Helper()
	return e.do("GET", path, token, nil, nil)
}

func (e *env) upload(data []byte, contentType, fileName string) id.ContentURI {
	e.t.Helper()
	resp, err := e.alice.UploadBytesWithName(context.Background(), data, contentType, fileName)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.ContentURI
}

// blobFiles lists the content files under DataDir/media (not temp files).
func (e *env) blobFiles() []string {
	e.t.Helper()
	var files []string
	root := filepath.Join(e.dir, "media")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tmp" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return files
}

func (e *env) tempFiles() []string {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.dir, "media", "tmp"))
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	return names
}

func (e *env) mediaRows() int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM hs_media").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// wantError checks a Matrix error response.
func wantError(t testing.TB, resp *http.Response, status int, errcode string) {
	t.Helper()
	body := readAll(t, resp)
	var m struct {
		ErrCode string `json:"errcode"`
		Error   string `json:"error"`
	}
	_ = json.Unmarshal(body, &m)
	if resp.StatusCode != status || m.ErrCode != errcode {
		t.Errorf("%s %s: got %d %s, want %d %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body, status, errcode)
	}
}

// wantRespError checks an error the mautrix client returned.
func wantRespError(t testing.TB, err error, status int, errcode string) {
	t.Helper()
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.Response == nil || httpErr.Response.StatusCode != status ||
		httpErr.RespError == nil || httpErr.RespError.ErrCode != errcode {
		t.Errorf("got %v, want %d %s", err, status, errcode)
	}
}

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func downloadPath(uri id.ContentURI) string {
	return "/_matrix/client/v1/media/download/" + uri.Homeserver + "/" + uri.FileID
}

func legacyPath(uri id.ContentURI) string {
	return "/_matrix/media/v3/download/" + uri.Homeserver + "/" + uri.FileID
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}
