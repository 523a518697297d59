package connectortest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// raw is a plain HTTP client of the network's API.
type raw struct {
	t    *testing.T
	url  string
	http *http.Client
}

func newRaw(t *testing.T, url string) *raw {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &raw{t: t, url: url, http: &http.Client{Transport: tr}}
}

// do sends a request and returns the status and the body.
func (r *raw) do(method, path, token string, header map[string]string, body any) (int, []byte) {
	r.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func TestIdempotencyKey(t *testing.T) {
	n, url := newNetwork(t)
	n.CreateChat("general", "General", true)
	n.AddUser("alice", "pw")
	r := newRaw(t, url)
	send := func(token, key, body string) (int, string) {
		status, data := r.do("POST", "/chats/general/messages", token, map[string]string{"Idempotency-Key": key}, map[string]string{"body": body})
		var res wireSent
		_ = json.Unmarshal(data, &res)
		return status, res.ID
	}
	_, a := send(n.BotToken(), "k1", "one")
	_, b := send(n.BotToken(), "k1", "one, retried")
	_, c := send(n.BotToken(), "k2", "two")
	status, data := r.do("POST", "/login", "", nil, wireLogin{Username: "alice", Password: "pw"})
	var s wireSession
	if err := json.Unmarshal(data, &s); err != nil || status != 200 {
		t.Fatalf("login: %d %s", status, data)
	}
	_, d := send(s.Token, "k1", "alice's k1")
	if a != "m1" || b != "m1" || c != "m2" || d != "m3" {
		t.Errorf("ids %q %q %q %q, want m1 m1 m2 m3", a, b, c, d)
	}
	msgs := n.Messages("general")
	if len(msgs) != 3 || msgs[0].Body != "one" || msgs[0].IdempotencyKey != "k1" {
		t.Errorf("stored %+v", msgs)
	}
}

func TestHTTPErrors(t *testing.T) {
	n, url := newNetwork(t)
	n.CreateChat("general", "General", true)
	n.AddUser("alice", "pw")
	r := newRaw(t, url)
	bot := n.BotToken()
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"no token", "GET", "/chats", "", nil, 401},
		{"bad token", "GET", "/chats", "nope", nil, 401},
		{"wrong password", "POST", "/login", "", wireLogin{Username: "alice", Password: "no"}, 401},
		{"unknown user login", "POST", "/login", "", wireLogin{Username: "zed", Password: "pw"}, 401},
		{"bot cannot log in", "POST", "/login", "", wireLogin{Username: "bot", Password: ""}, 401},
		{"bot cannot log out", "POST", "/logout", bot, nil, 403},
		{"unknown chat", "GET", "/chats/nowhere", bot, nil, 404},
		{"unknown user", "GET", "/users/zed", bot, nil, 404},
		{"unknown message", "PUT", "/chats/general/messages/m9", bot, map[string]string{"body": "x"}, 404},
		{"text too long", "POST", "/chats/general/messages", bot, map[string]string{"body": strings.Repeat("x", MaxBodyBytes+1)}, 413},
		{"request too large", "POST", "/chats/general/messages", bot, bytes.Repeat([]byte(" "), MaxRequestBytes+1), 413},
		{"empty body", "POST", "/chats/general/messages", bot, map[string]string{"body": ""}, 400},
		{"unknown field", "POST", "/chats/general/messages", bot, map[string]string{"bdy": "x"}, 400},
		{"bad msgtype", "POST", "/chats/general/messages", bot, map[string]string{"body": "x", "msgtype": "m.bogus"}, 400},
		{"unknown reply", "POST", "/chats/general/messages", bot, map[string]string{"body": "x", "reply_to": "m7"}, 400},
		{"ack ahead", "POST", "/ack", bot, wireAck{Seq: 99}, 400},
		{"bad after", "GET", "/events?after=x", bot, nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, data := r.do(tc.method, tc.path, tc.token, nil, tc.body)
			var we wireError
			if status != tc.want || json.Unmarshal(data, &we) != nil || we.Error == "" {
				t.Errorf("%s %s = %d %s, want %d with an error", tc.method, tc.path, status, data, tc.want)
			}
		})
	}
	if msgs := n.Messages("general"); len(msgs) != 0 {
		t.Errorf("refused requests stored %+v", msgs)
	}
}

func TestRelayedForOnlyByBot(t *testing.T) {
	n, url := newNetwork(t)
	n.CreateChat("general", "General", true)
	n.AddUser("alice", "pw")
	r := newRaw(t, url)
	_, data := r.do("POST", "/login", "", nil, wireLogin{Username: "alice", Password: "pw"})
	var s wireSession
	_ = json.Unmarshal(data, &s)
	if status, _ := r.do("POST", "/chats/general/messages", s.Token, nil, wireMessage{Body: "x", RelayedFor: "Mallory"}); status != 403 {
		t.Errorf("a user relaying: %d, want 403", status)
	}
}

// The event stream: long-poll, acks and resumption.
func TestEventStream(t *testing.T) {
	n, url := newNetwork(t)
	n.CreateChat("general", "General", true)
	r := newRaw(t, url)
	bot := n.BotToken()
	poll := func(path string) []wireEvent {
		t.Helper()
		status, data := r.do("GET", path, bot, nil, nil)
		var res wireEvents
		if status != 200 || json.Unmarshal(data, &res) != nil {
			t.Fatalf("GET %s = %d %s", path, status, data)
		}
		return res.Events
	}
	if evs := poll("/events?timeout_ms=1"); len(evs) != 0 {
		t.Errorf("events on an empty network: %+v", evs)
	}

	// A poll in flight returns when something happens.
	var wg sync.WaitGroup
	var got []wireEvent
	wg.Add(1)
	go func() {
		defer wg.Done()
		status, data := r.do("GET", "/events?after=0&timeout_ms=10000", bot, nil, nil)
		var res wireEvents
		if status == 200 && json.Unmarshal(data, &res) == nil {
			got = res.Events
		}
	}()
	n.Post("general", "alice", "hello")
	wg.Wait()
	// alice joins on her first post, then speaks.
	if len(got) != 2 || got[0].Type != evJoin || got[1].Type != evMessage || got[1].Seq != 2 || got[1].ID != "m1" ||
		got[1].UserName != "Alice" || got[1].Via != nil || got[1].Message.Body != "hello" || got[1].Message.MsgType != "m.text" {
		t.Fatalf("long-poll returned %+v", got)
	}

	n.Post("general", "alice", "second")
	if evs := poll("/events?after=2"); len(evs) != 1 || evs[0].Seq != 3 {
		t.Errorf("after=2: %+v", evs)
	}
	// Without after, the stream starts after the last ack.
	if status, _ := r.do("POST", "/ack", bot, nil, wireAck{Seq: 2}); status != 204 {
		t.Fatalf("ack: %d", status)
	}
	if status, _ := r.do("POST", "/ack", bot, nil, wireAck{Seq: 1}); status != 204 {
		t.Fatalf("ack: %d", status)
	}
	_, data := r.do("POST", "/connect", bot, nil, nil)
	var cn wireConnect
	if err := json.Unmarshal(data, &cn); err != nil || cn.Acked != 2 || cn.User != "bot" {
		t.Errorf("connect after acks 2 then 1: %s", data)
	}
	if evs := poll("/events?timeout_ms=1"); len(evs) != 1 || evs[0].Seq != 3 {
		t.Errorf("resume: %+v", evs)
	}
	if n.Acked() != 2 {
		t.Errorf("Acked() = %d", n.Acked())
	}
}

// SetDown ends a long-poll in flight at once, and Close ends one too.
func TestDownBreaksLongPoll(t *testing.T) {
	for _, how := range []string{"down", "close"} {
		t.Run(how, func(t *testing.T) {
			n, url := newNetwork(t)
			n.SetPollTimeout(time.Minute)
			r := newRaw(t, url)
			start := time.Now()
			done := make(chan int, 1)
			go func() {
				req, _ := http.NewRequest("GET", url+"/events", nil)
				req.Header.Set("Authorization", "Bearer "+n.BotToken())
				resp, err := r.http.Do(req)
				if err != nil {
					done <- -1 // closed before the request arrived
					return
				}
				resp.Body.Close()
				done <- resp.StatusCode
			}()
			// Whether the poll is in flight or not yet, it must end in 503
			// (or, once closed, find no server).
			if how == "down" {
				n.SetDown(true)
			} else {
				n.Close()
			}
			status := <-done
			if status != 503 && (how == "down" || status != -1) {
				t.Errorf("poll ended with %d, want 503", status)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("poll took %s to end", d)
			}
			if how == "down" {
				if s, _ := r.do("GET", "/chats", n.BotToken(), nil, nil); s != 503 {
					t.Errorf("request while down: %d", s)
				}
				n.SetDown(false)
				if s, _ := r.do("GET", "/chats", n.BotToken(), nil, nil); s != 200 {
					t.Errorf("request after down: %d", s)
				}
			}
		})
	}
}

func TestRateLimitHeader(t *testing.T) {
	n, url := newNetwork(t)
	r := newRaw(t, url)
	n.LimitNext(1, 3*time.Second)
	req, _ := http.NewRequest("GET", url+"/chats", nil)
	req.Header.Set("Authorization", "Bearer "+n.BotToken())
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("limited: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if s, _ := r.do("GET", "/chats", n.BotToken(), nil, nil); s != 200 {
		t.Errorf("after the limit: %d", s)
	}
}

func TestDriverPanicsOnMisuse(t *testing.T) {
	n := NewNetwork()
	for name, f := range map[string]func(){
		"post to unknown chat": func() { n.Post("nowhere", "alice", "x") },
		"bad chat id":          func() { n.CreateChat("Bad/Id", "x", true) },
		"duplicate chat":       func() { n.CreateChat("a", "A", true); n.CreateChat("a", "A", true) },
		"bot as user":          func() { n.AddUser(BotUser, "pw") },
		"bad user id":          func() { n.CreateChat("b", "B", true); n.Join("b", "Alice Smith") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestWaitMessages(t *testing.T) {
	n := NewNetwork()
	n.CreateChat("general", "General", true)
	go n.Post("general", "alice", "one")
	go n.Post("general", "bob", "two")
	if msgs := n.WaitMessages(t, "general", 2, 0); len(msgs) != 2 || msgs[0].ID == msgs[1].ID {
		t.Errorf("WaitMessages: %+v", msgs)
	}
}
