package appservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

func TestHTTPRateLimitIsWaitedOut(t *testing.T) {
	tests := []struct {
		name     string
		header   string
		body     string
		wantWait time.Duration
	}{
		{"retry_after_ms", "", `{"errcode":"M_LIMIT_EXCEEDED","error":"slow down","retry_after_ms":300}`, 300 * time.Millisecond},
		{"Retry-After header", "1", `{"errcode":"M_LIMIT_EXCEEDED"}`, time.Second},
		{"longer of both", "1", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":200}`, time.Second},
		{"no hint", "", `too many requests`, defaultRateLimitWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case waits for real
			f := newFakeHS(t)
			f.handle("POST /_matrix/client/v3/rooms/{room}/join", joinOK)
			var mu sync.Mutex
			attempts := 0
			f.handle("PUT /_matrix/client/v3/rooms/{room}/send/{type}/{txn}", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				attempts++
				n := attempts
				mu.Unlock()
				if n < 3 {
					if tt.header != "" {
						w.Header().Set("Retry-After", tt.header)
					}
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = io.WriteString(w, tt.body)
					return
				}
				respond(w, http.StatusOK, map[string]any{"event_id": "$ok"})
			})
			m := f.matrix(t)
			evtID, err := m.Intent(testAlice).SendMessage(context.Background(), testRoom, event.EventMessage, map[string]any{"body": "x"}, SendOptions{TxnID: "t"})
			if err != nil || evtID != "$ok" {
				t.Fatalf("SendMessage = %q, %v", evtID, err)
			}
			var sends []fakeReq
			for _, r := range f.requests(false) {
				if strings.Contains(r.Path, "/send/") {
					sends = append(sends, r)
				}
			}
			if len(sends) != 3 {
				t.Fatalf("want 3 attempts; got%s", describe(sends))
			}
			for i := 1; i < len(sends); i++ {
				if gap := sends[i].At.Sub(sends[i-1].At); gap < tt.wantWait {
					t.Errorf("attempt %d came %v after the previous, want at least %v", i+1, gap, tt.wantWait)
				}
				if sends[i].Path != sends[0].Path {
					t.Errorf("retry changed the path (txn id): %s vs %s", sends[i].Path, sends[0].Path)
				}
			}
		})
	}
}

func TestHTTPRateLimitStopsWithContext(t *testing.T) {
	f := newFakeHS(t)
	f.handle("GET /_matrix/client/v3/directory/room/{alias}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusTooManyRequests, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 60000})
	})
	m := f.matrix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := m.Bot().ResolveAlias(ctx, "#irc_chan:example.org")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || !httpErr.IsStatus(http.StatusTooManyRequests) {
		t.Errorf("err does not carry the 429: %v", err)
	}
}

func TestRateLimitWait(t *testing.T) {
	limited := func(status int, header string, body map[string]any) error {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		if header != "" {
			resp.Header.Set("Retry-After", header)
		}
		var respErr *mautrix.RespError
		if body != nil {
			data, _ := json.Marshal(body)
			respErr = &mautrix.RespError{}
			_ = json.Unmarshal(data, respErr)
		}
		return fmt.Errorf("wrapped: %w", mautrix.HTTPError{Response: resp, RespError: respErr})
	}
	tests := []struct {
		name    string
		err     error
		limited bool
		want    time.Duration
	}{
		{"nil", nil, false, 0},
		{"other error", errors.New("boom"), false, 0},
		{"forbidden", limited(403, "", map[string]any{"errcode": "M_FORBIDDEN"}), false, 0},
		{"ms", limited(429, "", map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 1500}), true, 1500 * time.Millisecond},
		{"header seconds", limited(429, "3", nil), true, 3 * time.Second},
		{"header date in the past", limited(429, "Mon, 02 Jan 2006 15:04:05 GMT", nil), true, minRateLimitWait},
		{"bad header", limited(429, "soon", nil), true, defaultRateLimitWait},
		{"capped", limited(429, "", map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 3_600_000}), true, maxRateLimitWait},
		{"absurd", limited(429, "", map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 1e300}), true, maxRateLimitWait},
		{"negative", limited(429, "", map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": -5}), true, minRateLimitWait},
		{"zero floored", limited(429, "", map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 0}), true, minRateLimitWait},
		{"errcode without 429", limited(400, "", map[string]any{"errcode": "M_LIMIT_EXCEEDED"}), true, defaultRateLimitWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, limited := rateLimitWait(tt.err)
			if limited != tt.limited || got != tt.want {
				t.Errorf("got %v %v, want %v %v", got, limited, tt.want, tt.limited)
			}
		})
	}
}

func TestHTTPNetworkErrorIsReturned(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	m, err := NewHTTP(HTTPOptions{Registration: testRegistration(t), HomeserverURL: dead.URL, ServerName: testServer})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = m.Intent(testAlice).SendMessage(context.Background(), testRoom, event.EventMessage, map[string]any{}, SendOptions{})
	var httpErr mautrix.HTTPError
	if err == nil || !errors.As(err, &httpErr) || httpErr.WrappedError == nil {
		t.Fatalf("err = %v, want a network error", err)
	}
	// mautrix would back off 4s before its first retry; none must happen.
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v: the network error was retried", d)
	}
}
