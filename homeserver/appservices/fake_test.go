package appservices_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// fakeAS is an appservice written from the Application Service API spec
// (not from Switchboard's bridge code): it records transactions, checks the
// hs_token, deduplicates by transaction id, and answers user and alias
// queries by creating what was asked for through the client API.
type fakeAS struct {
	t       testing.TB
	hsToken string
	asToken string
	hsURL   string
	server  *httptest.Server

	failing atomic.Bool // answer 500 to transactions (an outage)
	// observe, when set, sees every transaction body as it arrives.
	observe atomic.Pointer[func(body []byte)]

	mu        sync.Mutex
	seenTxns  map[string]string // txn id → body, to check retries are identical
	events    []map[string]any  // in arrival order, deduplicated by txn id
	ephemeral []map[string]any
	badAuth   int
}

func newFakeAS(t testing.TB, asToken, hsToken string) *fakeAS {
	f := &fakeAS{t: t, asToken: asToken, hsToken: hsToken, seenTxns: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /_matrix/app/v1/transactions/{txnId}", f.handleTransaction)
	mux.HandleFunc("GET /_matrix/app/v1/users/{userId}", f.handleUserQuery)
	mux.HandleFunc("GET /_matrix/app/v1/rooms/{alias}", f.handleAliasQuery)
	mux.HandleFunc("POST /_matrix/app/v1/ping", func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(r) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		io.WriteString(w, "{}")
	})
	f.server = httptest.NewServer(mux)
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeAS) authorized(r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+f.hsToken || r.URL.Query().Has("access_token") {
		f.mu.Lock()
		f.badAuth++
		f.mu.Unlock()
		return false
	}
	return true
}

func (f *fakeAS) handleTransaction(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"errcode":"M_FORBIDDEN"}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if f.failing.Load() {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	txnID := r.PathValue("txnId")
	if fn := f.observe.Load(); fn != nil {
		(*fn)(body)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if prev, ok := f.seenTxns[txnID]; ok {
		// A retry of an accepted transaction: acknowledge, do not process.
		if !sameEvents(prev, string(body)) {
			f.t.Errorf("transaction %s retried with different events", txnID)
		}
		io.WriteString(w, "{}")
		return
	}
	f.seenTxns[txnID] = string(body)
	var txn struct {
		Events    []map[string]any `json:"events"`
		Ephemeral []map[string]any `json:"ephemeral"`
	}
	if err := json.Unmarshal(body, &txn); err != nil {
		f.t.Errorf("transaction %s: %v", txnID, err)
	}
	f.events = append(f.events, txn.Events...)
	f.ephemeral = append(f.ephemeral, txn.Ephemeral...)
	io.WriteString(w, "{}")
}

func sameEvents(a, b string) bool {
	ids := func(s string) string {
		var txn struct {
			Events []struct {
				EventID string `json:"event_id"`
			} `json:"events"`
		}
		_ = json.Unmarshal([]byte(s), &txn)
		out, _ := json.Marshal(txn.Events)
		return string(out)
	}
	return ids(a) == ids(b)
}

// client acts for userID with the as_token (user_id masquerading).
func (f *fakeAS) client(userID id.UserID) *mautrix.Client {
	cli, err := mautrix.NewClient(f.hsURL, userID, f.asToken)
	if err != nil {
		f.t.Fatal(err)
	}
	cli.SetAppServiceUserID = true
	return cli
}

func (f *fakeAS) register(ctx context.Context, localpart string) error {
	cli, _ := mautrix.NewClient(f.hsURL, "", f.asToken)
	_, err := cli.RegisterAvailable(ctx, localpart)
	_ = err
	_, _, err = cli.Register(ctx, &mautrix.ReqRegister[any]{Username: localpart, Type: mautrix.AuthTypeAppservice, InhibitLogin: true})
	return err
}

func (f *fakeAS) handleUserQuery(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	userID := id.UserID(r.PathValue("userId"))
	if !strings.HasPrefix(userID.Localpart(), "fake_known") {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errcode":"M_NOT_FOUND"}`)
		return
	}
	if err := f.register(r.Context(), userID.Localpart()); err != nil {
		f.t.Errorf("register %s: %v", userID, err)
	}
	io.WriteString(w, "{}")
}

func (f *fakeAS) handleAliasQuery(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	alias, _ := url.PathUnescape(r.PathValue("alias"))
	local := strings.TrimPrefix(strings.SplitN(alias, ":", 2)[0], "#")
	if !strings.HasPrefix(local, "fake_portal") {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errcode":"M_NOT_FOUND"}`)
		return
	}
	bot := f.client("")
	bot.SetAppServiceUserID = false
	_, err := bot.CreateRoom(r.Context(), &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: local, Name: "Portal"})
	if err != nil {
		f.t.Errorf("create portal %s: %v", alias, err)
	}
	io.WriteString(w, "{}")
}

func (f *fakeAS) messageBodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, ev := range f.events {
		if ev["type"] != "m.room.message" {
			continue
		}
		if c, ok := ev["content"].(map[string]any); ok {
			if b, ok := c["body"].(string); ok {
				out = append(out, b)
			}
		}
	}
	return out
}
