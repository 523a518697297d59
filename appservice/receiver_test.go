package appservice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/registration"
)

const testServer = "example.org"

func testRegistration(t testing.TB) *registration.Registration {
	t.Helper()
	r := registration.Generate(registration.GenerateOptions{
		ID:              "irc",
		URL:             "http://127.0.0.1:29330",
		ServerName:      testServer,
		SenderLocalpart: "ircbot",
		Prefix:          "irc_",
	})
	if err := r.Validate(testServer); err != nil {
		t.Fatal(err)
	}
	return r
}

// recordingHandler is a Handler whose "database" deduplicates by txn id the
// way the engine's must: the first copy of a transaction is stored, repeats
// are acknowledged and ignored. It also measures how many calls for one id
// overlap.
type recordingHandler struct {
	mu        sync.Mutex
	calls     map[string]int
	stored    map[string]*Transaction
	order     []string // stored ids, in order
	active    map[string]int
	maxActive int
	err       error
	panicMsg  string
	during    func(txn *Transaction) // runs inside the call, outside the lock
	users     map[id.UserID]bool
	aliases   map[id.RoomAlias]bool
	queried   []string
}

func newRecordingHandler() *recordingHandler {
	return &recordingHandler{
		calls:   map[string]int{},
		stored:  map[string]*Transaction{},
		active:  map[string]int{},
		users:   map[id.UserID]bool{},
		aliases: map[id.RoomAlias]bool{},
	}
}

func (h *recordingHandler) HandleTransaction(ctx context.Context, txn *Transaction) error {
	h.mu.Lock()
	h.calls[txn.ID]++
	h.active[txn.ID]++
	h.maxActive = max(h.maxActive, h.active[txn.ID])
	during, err, panicMsg := h.during, h.err, h.panicMsg
	h.mu.Unlock()

	defer func() {
		h.mu.Lock()
		h.active[txn.ID]--
		h.mu.Unlock()
	}()
	if panicMsg != "" {
		panic(panicMsg)
	}
	if during != nil {
		during(txn)
	}
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, dup := h.stored[txn.ID]; !dup {
		h.stored[txn.ID] = txn
		h.order = append(h.order, txn.ID)
	}
	return nil
}

func (h *recordingHandler) QueryUser(_ context.Context, userID id.UserID) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.queried = append(h.queried, string(userID))
	if h.err != nil {
		return false, h.err
	}
	return h.users[userID], nil
}

func (h *recordingHandler) QueryAlias(_ context.Context, alias id.RoomAlias) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.queried = append(h.queried, string(alias))
	if h.err != nil {
		return false, h.err
	}
	return h.aliases[alias], nil
}

type response struct {
	status  int
	errcode string
	body    string
}

// call makes one request. auth is the Authorization header ("" for none).
func call(t *testing.T, srv *httptest.Server, method, path, auth string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		ErrCode string `json:"errcode"`
	}
	_ = json.Unmarshal(data, &e)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return response{status: resp.StatusCode, errcode: e.ErrCode, body: string(data)}
}

func startReceiver(t *testing.T) (*httptest.Server, *registration.Registration, *recordingHandler) {
	t.Helper()
	reg := testRegistration(t)
	h := newRecordingHandler()
	srv := httptest.NewServer(NewReceiver(reg, h, nil))
	t.Cleanup(srv.Close)
	return srv, reg, h
}

const oneEvent = `{"events":[{"type":"m.room.message","event_id":"$1","room_id":"!r:example.org","sender":"@bob:example.org","content":{"body":"hi"}}]}`

func TestReceiverAuth(t *testing.T) {
	srv, reg, _ := startReceiver(t)
	good, bad := reg.ServerToken, reg.AppToken // the as_token is the likeliest wrong token
	tests := []struct {
		name    string
		header  string
		query   string
		status  int
		errcode string
	}{
		{"missing", "", "", http.StatusUnauthorized, "M_MISSING_TOKEN"},
		{"non-bearer header only", "Basic " + good, "", http.StatusUnauthorized, "M_MISSING_TOKEN"},
		{"bearer without token", "Bearer", "", http.StatusUnauthorized, "M_MISSING_TOKEN"},
		{"empty query token", "", "?access_token=", http.StatusForbidden, "M_FORBIDDEN"},
		{"wrong header", "Bearer " + bad, "", http.StatusForbidden, "M_FORBIDDEN"},
		{"right header", "Bearer " + good, "", http.StatusOK, ""},
		{"lower-case scheme", "bearer " + good, "", http.StatusOK, ""},
		{"wrong query", "", "?access_token=" + bad, http.StatusForbidden, "M_FORBIDDEN"},
		{"right query", "", "?access_token=" + good, http.StatusOK, ""},
		{"both right", "Bearer " + good, "?access_token=" + good, http.StatusOK, ""},
		{"header right query wrong", "Bearer " + good, "?access_token=" + bad, http.StatusForbidden, "M_FORBIDDEN"},
		{"header wrong query right", "Bearer " + bad, "?access_token=" + good, http.StatusForbidden, "M_FORBIDDEN"},
	}
	endpoints := []struct{ method, path, body string }{
		{http.MethodPut, "/_matrix/app/v1/transactions/auth-%s", oneEvent},
		{http.MethodGet, "/_matrix/app/v1/users/@irc_alice:example.org", ""},
		{http.MethodGet, "/_matrix/app/v1/rooms/%23irc_chan:example.org", ""},
		{http.MethodPost, "/_matrix/app/v1/ping", `{"transaction_id":"p"}`},
		{http.MethodPut, "/transactions/legacy-auth-%s", oneEvent},
	}
	for _, tt := range tests {
		for _, ep := range endpoints {
			t.Run(tt.name+" "+ep.method+" "+ep.path, func(t *testing.T) {
				path := strings.ReplaceAll(ep.path, "%s", strings.ReplaceAll(tt.name, " ", "-"))
				got := call(t, srv, ep.method, path+tt.query, tt.header, strings.NewReader(ep.body))
				want := tt.status
				if want == http.StatusOK && (strings.Contains(path, "/users/") || strings.Contains(path, "/rooms/")) {
					want = http.StatusNotFound // authorized; the handler knows nobody
				}
				if got.status != want || (tt.errcode != "" && got.errcode != tt.errcode) {
					t.Errorf("got %d %s, want %d %s (%s)", got.status, got.errcode, want, tt.errcode, got.body)
				}
			})
		}
	}
}

func TestReceiverDeduplicationHandOff(t *testing.T) {
	srv, reg, h := startReceiver(t)
	auth := "Bearer " + reg.ServerToken
	for _, path := range []string{"/_matrix/app/v1/transactions/42", "/_matrix/app/v1/transactions/42", "/transactions/42"} {
		if got := call(t, srv, http.MethodPut, path, auth, strings.NewReader(oneEvent)); got.status != http.StatusOK || got.body != "{}" {
			t.Fatalf("PUT %s: %d %s", path, got.status, got.body)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// The receiver hands every delivery over; the handler's own dedup
	// (the contract) keeps one copy.
	if h.calls["42"] != 3 {
		t.Errorf("handler called %d times, want 3", h.calls["42"])
	}
	if len(h.order) != 1 || len(h.stored["42"].Events) != 1 {
		t.Errorf("stored %v", h.order)
	}
	var evt struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(h.stored["42"].Events[0], &evt); err != nil || evt.EventID != "$1" {
		t.Errorf("event = %s (%v)", h.stored["42"].Events[0], err)
	}
}

func TestReceiverSerialisesSameTransactionID(t *testing.T) {
	srv, reg, h := startReceiver(t)
	h.during = func(*Transaction) { time.Sleep(2 * time.Millisecond) } // widen the window for overlap
	const n = 20
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/_matrix/app/v1/transactions/same", strings.NewReader(oneEvent))
			req.Header.Set("Authorization", "Bearer "+reg.ServerToken)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.maxActive != 1 {
		t.Errorf("handler ran %d times at once for one id", h.maxActive)
	}
	if h.calls["same"] != n || len(h.order) != 1 {
		t.Errorf("calls %d, stored %d", h.calls["same"], len(h.order))
	}
	if len(srv.Config.Handler.(*receiver).txns.m) != 0 {
		t.Error("per-id locks left behind")
	}
}

func TestReceiverDifferentTransactionIDsRunConcurrently(t *testing.T) {
	srv, reg, h := startReceiver(t)
	bStarted := make(chan struct{})
	h.during = func(txn *Transaction) {
		switch txn.ID {
		case "a":
			select {
			case <-bStarted:
			case <-time.After(10 * time.Second):
				t.Error("transaction b never started while a was running")
			}
		case "b":
			close(bStarted)
		}
	}
	auth := "Bearer " + reg.ServerToken
	done := make(chan response)
	go func() { done <- callNoFatal(srv, "/_matrix/app/v1/transactions/a", auth) }()
	go func() { done <- callNoFatal(srv, "/_matrix/app/v1/transactions/b", auth) }()
	for range 2 {
		if got := <-done; got.status != http.StatusOK {
			t.Errorf("status %d %s", got.status, got.body)
		}
	}
}

// callNoFatal is call for goroutines other than the test's own.
func callNoFatal(srv *httptest.Server, path, auth string) response {
	req, _ := http.NewRequest(http.MethodPut, srv.URL+path, strings.NewReader(oneEvent))
	req.Header.Set("Authorization", auth)
	resp, err := srv.Client().Do(req)
	if err != nil {
		return response{body: err.Error()}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(data)}
}

func TestReceiverBodyLimit(t *testing.T) {
	srv, reg, h := startReceiver(t)
	auth := "Bearer " + reg.ServerToken
	// A valid transaction one byte over the limit.
	prefix := `{"events":[{"content":{"body":"`
	suffix := `"}}]}`
	padding := MaxTransactionSize + 1 - len(prefix) - len(suffix)
	big := func() io.Reader {
		return io.MultiReader(strings.NewReader(prefix), strings.NewReader(strings.Repeat("x", padding)), strings.NewReader(suffix))
	}
	tests := []struct {
		name    string
		body    func() io.Reader
		chunked bool
	}{
		{"with content length", func() io.Reader { return bytes.NewReader([]byte(prefix + strings.Repeat("x", padding) + suffix)) }, false},
		{"chunked", big, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/_matrix/app/v1/transactions/big-"+tt.name, tt.body())
			if tt.chunked {
				req.ContentLength = -1
			}
			req.Header.Set("Authorization", auth)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(data), "M_TOO_LARGE") {
				t.Errorf("got %d %s", resp.StatusCode, data)
			}
		})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.calls) != 0 {
		t.Errorf("handler called for an oversized body: %v", h.calls)
	}
}

func TestReceiverMalformedTransactions(t *testing.T) {
	srv, reg, h := startReceiver(t)
	tests := []struct {
		name    string
		body    string
		status  int
		errcode string
	}{
		{"empty body", "", http.StatusBadRequest, "M_NOT_JSON"},
		{"not json", "events please", http.StatusBadRequest, "M_NOT_JSON"},
		{"truncated", `{"events":[{}`, http.StatusBadRequest, "M_NOT_JSON"},
		{"array", `[]`, http.StatusBadRequest, "M_BAD_JSON"},
		{"string", `"events"`, http.StatusBadRequest, "M_BAD_JSON"},
		{"events object", `{"events":{}}`, http.StatusBadRequest, "M_BAD_JSON"},
		{"events string", `{"events":"x"}`, http.StatusBadRequest, "M_BAD_JSON"},
		{"event number", `{"events":[{},1]}`, http.StatusBadRequest, "M_BAD_JSON"},
		{"event null", `{"events":[null]}`, http.StatusBadRequest, "M_BAD_JSON"},
		{"event array", `{"events":[[]]}`, http.StatusBadRequest, "M_BAD_JSON"},
		{"ephemeral not array", `{"events":[],"ephemeral":"x"}`, http.StatusBadRequest, "M_BAD_JSON"},
		{"ephemeral item not object", `{"events":[],"ephemeral":[true]}`, http.StatusBadRequest, "M_BAD_JSON"},
		{"empty events", `{"events":[]}`, http.StatusOK, ""},
		{"no events key", `{}`, http.StatusOK, ""},
		{"null events", `{"events":null}`, http.StatusOK, ""},
		{"whitespace inside", "{ \"events\" : [ {\"type\":\"x\"} , {} ] }\n", http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, srv, http.MethodPut, "/_matrix/app/v1/transactions/"+strings.ReplaceAll(tt.name, " ", "_"), "Bearer "+reg.ServerToken, strings.NewReader(tt.body))
			if got.status != tt.status || got.errcode != tt.errcode {
				t.Errorf("got %d %q, want %d %q (%s)", got.status, got.errcode, tt.status, tt.errcode, got.body)
			}
		})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if txn := h.stored["whitespace_inside"]; txn == nil || len(txn.Events) != 2 || string(txn.Events[0]) != `{"type":"x"}` {
		t.Errorf("whitespace_inside stored %+v", txn)
	}
}

func TestReceiverEphemeral(t *testing.T) {
	srv, reg, h := startReceiver(t)
	typing := `{"type":"m.typing","room_id":"!r:example.org","content":{"user_ids":["@bob:example.org"]}}`
	receipt := `{"type":"m.receipt","room_id":"!r:example.org","content":{}}`
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"stable key", `{"events":[],"ephemeral":[` + typing + `]}`, []string{typing}},
		{"unstable key", `{"events":[],"de.sorunome.msc2409.ephemeral":[` + receipt + `]}`, []string{receipt}},
		{"both keys, stable wins", `{"events":[],"ephemeral":[` + typing + `],"de.sorunome.msc2409.ephemeral":[` + receipt + `]}`, []string{typing}},
		{"stable null falls back", `{"events":[],"ephemeral":null,"de.sorunome.msc2409.ephemeral":[` + receipt + `]}`, []string{receipt}},
		{"no events key", `{"ephemeral":[` + typing + `,` + receipt + `]}`, []string{typing, receipt}},
		{"none", `{"events":[]}`, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txnID := "eph" + string(rune('a'+i))
			if got := call(t, srv, http.MethodPut, "/_matrix/app/v1/transactions/"+txnID, "Bearer "+reg.ServerToken, strings.NewReader(tt.body)); got.status != http.StatusOK {
				t.Fatalf("status %d %s", got.status, got.body)
			}
			h.mu.Lock()
			txn := h.stored[txnID]
			h.mu.Unlock()
			var got []string
			for _, e := range txn.Ephemeral {
				got = append(got, string(e))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("ephemeral = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReceiverQueries(t *testing.T) {
	srv, reg, h := startReceiver(t)
	h.users["@irc_alice:example.org"] = true
	h.aliases["#irc_chan:example.org"] = true
	auth := "Bearer " + reg.ServerToken
	tests := []struct {
		name        string
		path        string
		status      int
		errcode     string
		wantQueried string // "" → the handler must not be asked
	}{
		{"known user", "/_matrix/app/v1/users/@irc_alice:example.org", http.StatusOK, "", "@irc_alice:example.org"},
		{"known user legacy", "/users/@irc_alice:example.org", http.StatusOK, "", "@irc_alice:example.org"},
		{"known user escaped", "/_matrix/app/v1/users/%40irc_alice%3Aexample.org", http.StatusOK, "", "@irc_alice:example.org"},
		{"unknown user in namespace", "/_matrix/app/v1/users/@irc_bob:example.org", http.StatusNotFound, "M_NOT_FOUND", "@irc_bob:example.org"},
		{"the bot", "/_matrix/app/v1/users/@ircbot:example.org", http.StatusNotFound, "M_NOT_FOUND", "@ircbot:example.org"},
		{"user outside namespace", "/_matrix/app/v1/users/@alice:example.org", http.StatusNotFound, "M_NOT_FOUND", ""},
		{"user on another server", "/_matrix/app/v1/users/@irc_alice:evil.org", http.StatusNotFound, "M_NOT_FOUND", ""},
		{"known alias", "/_matrix/app/v1/rooms/%23irc_chan:example.org", http.StatusOK, "", "#irc_chan:example.org"},
		{"known alias legacy", "/rooms/%23irc_chan:example.org", http.StatusOK, "", "#irc_chan:example.org"},
		{"unknown alias in namespace", "/_matrix/app/v1/rooms/%23irc_other:example.org", http.StatusNotFound, "M_NOT_FOUND", "#irc_other:example.org"},
		{"alias outside namespace", "/_matrix/app/v1/rooms/%23chan:example.org", http.StatusNotFound, "M_NOT_FOUND", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.mu.Lock()
			h.queried = nil
			h.mu.Unlock()
			got := call(t, srv, http.MethodGet, tt.path, auth, nil)
			if got.status != tt.status || got.errcode != tt.errcode {
				t.Errorf("got %d %q, want %d %q (%s)", got.status, got.errcode, tt.status, tt.errcode, got.body)
			}
			if got.status == http.StatusOK && got.body != "{}" {
				t.Errorf("body %s, want {}", got.body)
			}
			h.mu.Lock()
			queried := strings.Join(h.queried, ",")
			h.mu.Unlock()
			if queried != tt.wantQueried {
				t.Errorf("handler asked about %q, want %q", queried, tt.wantQueried)
			}
		})
	}
}

func TestReceiverHandlerFailures(t *testing.T) {
	srv, reg, h := startReceiver(t)
	auth := "Bearer " + reg.ServerToken
	h.err = errors.New("database is down")
	for _, path := range []string{"/_matrix/app/v1/transactions/fail", "/_matrix/app/v1/users/@irc_alice:example.org", "/_matrix/app/v1/rooms/%23irc_chan:example.org"} {
		method := http.MethodGet
		var body io.Reader
		if strings.Contains(path, "transactions") {
			method, body = http.MethodPut, strings.NewReader(oneEvent)
		}
		if got := call(t, srv, method, path, auth, body); got.status != http.StatusInternalServerError || got.errcode != "M_UNKNOWN" {
			t.Errorf("%s: got %d %s", path, got.status, got.body)
		}
		if got := call(t, srv, method, path, auth, body); strings.Contains(got.body, "database") {
			t.Errorf("%s: internal error leaked: %s", path, got.body)
		}
	}

	h.mu.Lock()
	h.err, h.panicMsg = nil, "bad event"
	h.mu.Unlock()
	if got := call(t, srv, http.MethodPut, "/_matrix/app/v1/transactions/panic", auth, strings.NewReader(oneEvent)); got.status != http.StatusInternalServerError || got.errcode != "M_UNKNOWN" {
		t.Errorf("panic: got %d %s", got.status, got.body)
	}
	// The lock of a panicking call is released: a retry gets through.
	h.mu.Lock()
	h.panicMsg = ""
	h.mu.Unlock()
	if got := call(t, srv, http.MethodPut, "/_matrix/app/v1/transactions/panic", auth, strings.NewReader(oneEvent)); got.status != http.StatusOK {
		t.Errorf("retry after panic: got %d %s", got.status, got.body)
	}
}

func TestReceiverPing(t *testing.T) {
	srv, reg, _ := startReceiver(t)
	auth := "Bearer " + reg.ServerToken
	tests := []struct {
		name    string
		body    string
		status  int
		errcode string
	}{
		{"with transaction id", `{"transaction_id":"mautrix-go_1"}`, http.StatusOK, ""},
		{"empty object", `{}`, http.StatusOK, ""},
		{"no body", ``, http.StatusOK, ""},
		{"not json", `ping`, http.StatusBadRequest, "M_NOT_JSON"},
		{"wrong shape", `{"transaction_id":5}`, http.StatusBadRequest, "M_BAD_JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, srv, http.MethodPost, "/_matrix/app/v1/ping", auth, strings.NewReader(tt.body))
			if got.status != tt.status || got.errcode != tt.errcode {
				t.Errorf("got %d %q, want %d %q (%s)", got.status, got.errcode, tt.status, tt.errcode, got.body)
			}
			if tt.status == http.StatusOK && got.body != "{}" {
				t.Errorf("body %s, want {}", got.body)
			}
		})
	}
}

func TestReceiverRouting(t *testing.T) {
	srv, reg, _ := startReceiver(t)
	auth := "Bearer " + reg.ServerToken
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		status  int
		errcode string
	}{
		{"unknown app path", http.MethodGet, "/_matrix/app/v1/thirdparty/protocol/irc", "", http.StatusNotFound, "M_UNRECOGNIZED"},
		{"unknown version", http.MethodPut, "/_matrix/app/v2/transactions/1", oneEvent, http.StatusNotFound, "M_UNRECOGNIZED"},
		{"unknown root path", http.MethodGet, "/favicon.ico", "", http.StatusNotFound, "M_UNRECOGNIZED"},
		{"wrong method transaction", http.MethodGet, "/_matrix/app/v1/transactions/1", "", http.StatusMethodNotAllowed, "M_UNRECOGNIZED"},
		{"wrong method user", http.MethodPost, "/_matrix/app/v1/users/@irc_a:example.org", "{}", http.StatusMethodNotAllowed, "M_UNRECOGNIZED"},
		{"wrong method legacy room", http.MethodDelete, "/rooms/%23irc_a:example.org", "", http.StatusMethodNotAllowed, "M_UNRECOGNIZED"},
		{"wrong method ping", http.MethodGet, "/_matrix/app/v1/ping", "", http.StatusMethodNotAllowed, "M_UNRECOGNIZED"},
		{"legacy transaction", http.MethodPut, "/transactions/legacy-1", oneEvent, http.StatusOK, ""},
		{"doubled slash from a url ending in /", http.MethodPut, "//_matrix/app/v1/transactions/slash-1", oneEvent, http.StatusOK, ""},
		{"doubled slash legacy", http.MethodPut, "//transactions/slash-2", oneEvent, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, srv, tt.method, tt.path, auth, strings.NewReader(tt.body))
			if got.status != tt.status || got.errcode != tt.errcode {
				t.Errorf("got %d %q, want %d %q (%s)", got.status, got.errcode, tt.status, tt.errcode, got.body)
			}
		})
	}
}

func TestKeyedLocksGiveUpWithContext(t *testing.T) {
	var k keyedLocks
	unlock, err := k.lock(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := k.lock(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock: %v, want deadline exceeded", err)
	}
	unlock()
	if len(k.m) != 0 {
		t.Errorf("locks left: %v", k.m)
	}
	unlock2, err := k.lock(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

func FuzzParseTransaction(f *testing.F) {
	for _, seed := range []string{oneEvent, `{}`, `{"events":[{},{}],"ephemeral":[{}]}`, `[]`, `{"events":[1]}`, `{"de.sorunome.msc2409.ephemeral":[{"a":1}]}`, `not json`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		txn, code, msg := parseTransaction("t", body)
		if code != "" {
			if txn != nil || msg == "" || (code != "M_NOT_JSON" && code != "M_BAD_JSON") {
				t.Fatalf("refusal %q %q with txn %v", code, msg, txn)
			}
			return
		}
		for _, list := range [][]json.RawMessage{txn.Events, txn.Ephemeral} {
			for _, e := range list {
				var obj map[string]json.RawMessage
				if err := json.Unmarshal(e, &obj); err != nil {
					t.Fatalf("accepted a non-object %s: %v", e, err)
				}
			}
		}
	})
}
