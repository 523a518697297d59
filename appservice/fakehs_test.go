package appservice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/registration"
)

// fakeHS is a homeserver's client API reduced to what a test registers on
// it. Every request is recorded; a request without the as_token is refused
// before routing. Registration always succeeds.
type fakeHS struct {
	t   *testing.T
	reg *registration.Registration
	srv *httptest.Server
	mux *http.ServeMux

	mu   sync.Mutex
	reqs []fakeReq
}

type fakeReq struct {
	Method string
	Path   string // decoded
	Query  url.Values
	Body   []byte
	At     time.Time
}

// User is the masqueraded user.
func (r fakeReq) User() string { return r.Query.Get("user_id") }

func newFakeHS(t *testing.T) *fakeHS {
	t.Helper()
	f := &fakeHS{t: t, reg: testRegistration(t), mux: http.NewServeMux()}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, fakeReq{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, At: time.Now()})
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+f.reg.AppToken || r.URL.Query().Has("access_token") {
			writeError(w, http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "as_token must come in the header")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	f.handle("POST /_matrix/client/v3/register", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]any{"user_id": r.URL.Query().Get("user_id")})
	})
	f.handle("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "M_UNRECOGNIZED", "not faked")
	})
	return f
}

func (f *fakeHS) handle(pattern string, h http.HandlerFunc) { f.mux.HandleFunc(pattern, h) }

// requests returns the recorded requests, without registrations unless
// asked for.
func (f *fakeHS) requests(withRegister bool) []fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeReq
	for _, r := range f.reqs {
		if withRegister || r.Path != "/_matrix/client/v3/register" {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeHS) matrix(t *testing.T) Matrix {
	t.Helper()
	m, err := NewHTTP(HTTPOptions{Registration: f.reg, HomeserverURL: f.srv.URL, ServerName: testServer})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func respond(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	writeJSON(w, status, body)
}

func joinOK(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK, map[string]any{"room_id": r.PathValue("room")})
}

func describe(reqs []fakeReq) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "\n  %s %s?%s %s", r.Method, r.Path, r.Query.Encode(), r.Body)
	}
	return b.String()
}
