package appservices_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver"
	"switchboard/internal/config"
	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
	"switchboard/internal/logging"
)

const (
	serverName = "test.local"
	asToken    = "as_token_fake_bridge_0123456789abcdef"
	hsToken    = "hs_token_fake_bridge_0123456789abcdef"
)

// env is a homeserver hosting one fake appservice.
type env struct {
	t       testing.TB
	metrics *prometheus.Registry
	db      *database.DB
	dataDir string
	regPath string
	as      *fakeAS
	hs      *homeserver.Server
	srv     *httptest.Server
}

func newEnv(t testing.TB, db *database.DB) *env {
	e := &env{t: t, db: db, dataDir: t.TempDir(), metrics: prometheus.NewRegistry()}
	e.as = newFakeAS(t, asToken, hsToken)
	e.regPath = filepath.Join(t.TempDir(), "fake.yaml")
	reg := fmt.Sprintf(`id: fakebridge
url: %s
as_token: %s
hs_token: %s
sender_localpart: fakebot
rate_limited: false
receive_ephemeral: true
namespaces:
  users:
    - exclusive: true
      regex: '@fake_.*:test\.local'
  aliases:
    - exclusive: true
      regex: '#fake_.*:test\.local'
`, e.as.server.URL, asToken, hsToken)
	if err := os.WriteFile(e.regPath, []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	return e
}

func (e *env) start() {
	e.t.Helper()
	hs, err := homeserver.New(context.Background(), homeserver.Options{
		ServerName:          serverName,
		DataDir:             e.dataDir,
		DB:                  e.db,
		Log:                 logging.Discard(),
		RegistrationEnabled: true,
		RateLimits:          config.RateLimits{Enabled: false},
		MaxUploadBytes:      1 << 20,
		Appservices:         []string{e.regPath},
		Metrics:             e.metrics,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	hs.Register(mux)
	e.hs, e.srv = hs, httptest.NewServer(mux)
	e.as.hsURL = e.srv.URL
	e.t.Cleanup(e.stop)
}

// metric reads one appservice metric's value for fakebridge.
func (e *env) metric(name string) float64 {
	families, err := e.metrics.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func (e *env) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.hs.Close()
		e.srv = nil
	}
}

func (e *env) user(localpart string) *mautrix.Client {
	e.t.Helper()
	cli, _ := mautrix.NewClient(e.srv.URL, "", "")
	resp, err := cli.RegisterDummy(context.Background(), &mautrix.ReqRegister[any]{Username: localpart, Password: "password-" + localpart})
	if err != nil {
		e.t.Fatal(err)
	}
	cli.SetCredentials(resp.UserID, resp.AccessToken)
	return cli
}

func errcode(err error) string {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.RespError != nil {
		return httpErr.RespError.ErrCode
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// eventually waits for cond, failing the test after a while.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTokensMasqueradingAndNamespaces(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)

		bot := e.as.client("")
		bot.SetAppServiceUserID = false
		who, err := bot.Whoami(ctx)
		if err != nil || who.UserID != "@fakebot:test.local" {
			t.Fatalf("bot whoami = %v, %v", who, err)
		}
		if err := e.as.register(ctx, "fake_alice"); err != nil {
			t.Fatalf("appservice registration: %v", err)
		}
		who, err = e.as.client("@fake_alice:test.local").Whoami(ctx)
		if err != nil || who.UserID != "@fake_alice:test.local" {
			t.Errorf("masqueraded whoami = %v, %v", who, err)
		}
		if _, err := e.as.client("@outsider:test.local").Whoami(ctx); errcode(err) != "M_FORBIDDEN" {
			t.Errorf("masquerade outside the namespace: %v", err)
		}
		if _, err := e.as.client("@fake_unregistered:test.local").Whoami(ctx); errcode(err) != "M_FORBIDDEN" {
			t.Errorf("masquerade as an unregistered user: %v", err)
		}
		wrong, _ := mautrix.NewClient(e.srv.URL, "", "not-the-as-token")
		if _, err := wrong.Whoami(ctx); errcode(err) != "M_UNKNOWN_TOKEN" {
			t.Errorf("wrong token: %v", err)
		}

		// Exclusive namespaces are refused to everyone else.
		anon, _ := mautrix.NewClient(e.srv.URL, "", "")
		if _, err := anon.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: "fake_squatter", Password: "password-squat"}); errcode(err) != "M_EXCLUSIVE" {
			t.Errorf("ordinary registration in the namespace: %v", err)
		}
		alice := e.user("alice")
		if _, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{RoomAliasName: "fake_mine"}); errcode(err) != "M_EXCLUSIVE" {
			t.Errorf("alias in the namespace: %v", err)
		}
		if _, err := bot.CreateRoom(ctx, &mautrix.ReqCreateRoom{RoomAliasName: "fake_ours"}); err != nil {
			t.Errorf("the appservice's own alias: %v", err)
		}

		// ts= massaging is for appservices only.
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if err != nil {
			t.Fatal(err)
		}
		fakeAlice := e.as.client("@fake_alice:test.local")
		if _, err := fakeAlice.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}
		old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		sent, err := fakeAlice.SendMessageEvent(ctx, room.RoomID, event.EventMessage, map[string]any{"msgtype": "m.text", "body": "from the past"}, mautrix.ReqSendEvent{Timestamp: old.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := alice.GetEvent(ctx, room.RoomID, sent.EventID)
		if err != nil || ev.Timestamp != old.UnixMilli() {
			t.Errorf("massaged timestamp = %d, want %d (%v)", ev.Timestamp, old.UnixMilli(), err)
		}
	})
}

func TestPingAndQueries(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		bot := e.as.client("")
		bot.SetAppServiceUserID = false
		resp, err := bot.AppservicePing(ctx, "fakebridge", "ping-1")
		if err != nil || resp == nil {
			t.Fatalf("ping: %v", err)
		}
		alice := e.user("alice")
		if _, err := alice.AppservicePing(ctx, "fakebridge", ""); errcode(err) != "M_FORBIDDEN" {
			t.Errorf("ping by a user: %v", err)
		}

		// Joining an unknown alias in the namespace makes the appservice
		// create the room; an unknown alias elsewhere is 404.
		joined, err := alice.JoinRoom(ctx, "#fake_portal_chat:test.local", nil)
		if err != nil {
			t.Fatalf("join portal alias: %v", err)
		}
		if joined.RoomID == "" {
			t.Error("no room id")
		}
		if _, err := alice.JoinRoom(ctx, "#fake_nothing:test.local", nil); errcode(err) != "M_NOT_FOUND" {
			t.Errorf("unknown alias: %v", err)
		}
		// Looking up an unknown user in the namespace asks the appservice.
		profile, err := alice.GetProfile(ctx, "@fake_known_bob:test.local")
		if err != nil || profile == nil {
			t.Errorf("user query: %v", err)
		}
		if _, err := alice.GetProfile(ctx, "@fake_unknown:test.local"); errcode(err) != "M_NOT_FOUND" {
			t.Errorf("unknown user: %v", err)
		}
		e.as.mu.Lock()
		bad := e.as.badAuth
		e.as.mu.Unlock()
		if bad != 0 {
			t.Errorf("%d requests reached the appservice without the hs_token header", bad)
		}
	})
}

func TestPushInOrderThroughOutageAndRestart(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		if err := e.as.register(ctx, "fake_alice"); err != nil {
			t.Fatal(err)
		}
		alice := e.user("alice")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{"@fake_alice:test.local"}})
		if err != nil {
			t.Fatal(err)
		}
		// The invite of one of its users reaches the appservice.
		eventually(t, "the invite", func() bool {
			e.as.mu.Lock()
			defer e.as.mu.Unlock()
			for _, ev := range e.as.events {
				if ev["type"] == "m.room.member" && ev["state_key"] == "@fake_alice:test.local" {
					return true
				}
			}
			return false
		})
		if _, err := e.as.client("@fake_alice:test.local").JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}

		var want []string
		send := func(n int, prefix string) {
			for i := range n {
				body := fmt.Sprintf("%s %d", prefix, i)
				if _, err := alice.SendText(ctx, room.RoomID, body); err != nil {
					t.Fatal(err)
				}
				want = append(want, body)
			}
		}
		send(10, "live")
		eventually(t, "live messages", func() bool { return len(e.as.messageBodies()) >= len(want) })

		// The appservice goes down; messages queue; it comes back.
		e.as.failing.Store(true)
		send(10, "during outage")
		time.Sleep(300 * time.Millisecond)
		if f := e.metric("switchboard_appservice_push_failures_total"); f < 1 {
			t.Errorf("failures metric = %v during an outage", f)
		}
		if q := e.metric("switchboard_appservice_queued_events"); q < 0 {
			t.Errorf("queue metric missing")
		}
		e.as.failing.Store(false)
		eventually(t, "messages sent during the outage", func() bool { return len(e.as.messageBodies()) >= len(want) })

		// Down again, and the homeserver restarts while events are queued.
		e.as.failing.Store(true)
		send(10, "before restart")
		time.Sleep(200 * time.Millisecond)
		e.stop()
		e.start()
		alice2, _ := mautrix.NewClient(e.srv.URL, alice.UserID, alice.AccessToken)
		for i := range 5 {
			body := fmt.Sprintf("after restart %d", i)
			if _, err := alice2.SendText(ctx, room.RoomID, body); err != nil {
				t.Fatal(err)
			}
			want = append(want, body)
		}
		e.as.failing.Store(false)
		eventually(t, "every message", func() bool { return len(e.as.messageBodies()) >= len(want) })
		time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
		got := e.as.messageBodies()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("appservice got\n%v\nwant (once each, in order)\n%v", got, want)
		}
	})
}

func TestEphemeralEvents(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		if err := e.as.register(ctx, "fake_alice"); err != nil {
			t.Fatal(err)
		}
		alice := e.user("alice")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.as.client("@fake_alice:test.local").JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}
		msg, err := alice.SendText(ctx, room.RoomID, "read me")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := alice.UserTyping(ctx, room.RoomID, true, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := alice.SendReceipt(ctx, room.RoomID, msg.EventID, event.ReceiptTypeRead, nil); err != nil {
			t.Fatal(err)
		}
		if err := alice.SetPresence(ctx, mautrix.ReqPresence{Presence: event.PresenceOnline}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "typing, receipt and presence as ephemeral events", func() bool {
			e.as.mu.Lock()
			defer e.as.mu.Unlock()
			var typing, receipt, presence bool
			for _, ev := range e.as.ephemeral {
				typing = typing || ev["type"] == "m.typing"
				receipt = receipt || ev["type"] == "m.receipt"
				presence = presence || (ev["type"] == "m.presence" && ev["sender"] == string(alice.UserID))
			}
			return typing && receipt && presence
		})
	})
}

// TestThirdPartyRegistrationsLoad: files that other bridges generate load
// unchanged.
func TestThirdPartyRegistrationsLoad(t *testing.T) {
	db := dbtest.SQLite(t)
	files, err := filepath.Glob("../../registration/testdata/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	hs, err := homeserver.New(context.Background(), homeserver.Options{
		ServerName: "example.org", DataDir: t.TempDir(), DB: db, Log: logging.Discard(),
		MaxUploadBytes: 1 << 20, Appservices: files,
	})
	if err != nil {
		t.Fatalf("loading %v: %v", files, err)
	}
	defer hs.Close()
	if n := len(hs.Appservices.Registrations()); n != len(files) {
		t.Errorf("loaded %d of %d registrations", n, len(files))
	}
}

// TestInvalidRegistrationRefused: a broken file stops the server with an
// error naming the file.
func TestInvalidRegistrationRefused(t *testing.T) {
	db := dbtest.SQLite(t)
	bad := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(bad, []byte("id: x\nurl: http://127.0.0.1:1\nas_token: a\nhs_token: a\nsender_localpart: bot\nnamespaces: {users: [{exclusive: true, regex: '@x_(.*'}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := homeserver.New(context.Background(), homeserver.Options{
		ServerName: serverName, DataDir: t.TempDir(), DB: db, Log: logging.Discard(),
		MaxUploadBytes: 1 << 20, Appservices: []string{bad},
	})
	if err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Fatalf("err = %v, want one naming broken.yaml", err)
	}
}
