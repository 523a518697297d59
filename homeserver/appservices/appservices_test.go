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
	"switchboard/registration"
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
	regs    []*registration.Registration // handed over in memory
	as      *fakeAS
	hs      *homeserver.Server
	srv     *httptest.Server
}

func newEnv(t testing.TB, db *database.DB) *env {
	return newEnvWith(t, db, nil)
}

// newEnvWith also hosts the appservices of regs, handed over in memory.
func newEnvWith(t testing.TB, db *database.DB, regs []*registration.Registration) *env {
	e := &env{t: t, db: db, dataDir: t.TempDir(), metrics: prometheus.NewRegistry(), regs: regs}
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
		Registrations:       e.regs,
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

// inMemory is a registration such as `switchboard serve` hands its
// homeserver for a bridge of its own, answered by a fake appservice.
func inMemory(t *testing.T) (*registration.Registration, *fakeAS) {
	as := newFakeAS(t, "as_token_in_memory_0123456789abcdef", "hs_token_in_memory_0123456789abcdef")
	reg := registration.Generate(registration.GenerateOptions{
		ID: "membridge", URL: as.server.URL, ServerName: serverName, SenderLocalpart: "membot", Prefix: "mem_",
	})
	reg.AppToken, reg.ServerToken = as.asToken, as.hsToken
	return reg, as
}

func TestInMemoryRegistration(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		reg, mem := inMemory(t)
		e := newEnvWith(t, db, []*registration.Registration{reg})
		mem.hsURL = e.srv.URL

		// Its as_token authenticates as its bot, and masquerades in its
		// namespace; the file's appservice is there too.
		bot := mem.client("")
		bot.SetAppServiceUserID = false
		if who, err := bot.Whoami(ctx); err != nil || who.UserID != "@membot:test.local" {
			t.Fatalf("in-memory bot whoami = %v, %v", who, err)
		}
		fileBot := e.as.client("")
		fileBot.SetAppServiceUserID = false
		if who, err := fileBot.Whoami(ctx); err != nil || who.UserID != "@fakebot:test.local" {
			t.Fatalf("file bot whoami = %v, %v", who, err)
		}
		if err := mem.register(ctx, "mem_alice"); err != nil {
			t.Fatalf("appservice registration: %v", err)
		}
		if who, err := mem.client("@mem_alice:test.local").Whoami(ctx); err != nil || who.UserID != "@mem_alice:test.local" {
			t.Errorf("masqueraded whoami = %v, %v", who, err)
		}
		if _, err := mem.client("@fake_alice:test.local").Whoami(ctx); errcode(err) != "M_FORBIDDEN" {
			t.Errorf("masquerade in the other appservice's namespace: %v", err)
		}

		// Its namespaces are exclusive.
		anon, _ := mautrix.NewClient(e.srv.URL, "", "")
		if _, err := anon.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: "mem_squatter", Password: "password-squat"}); errcode(err) != "M_EXCLUSIVE" {
			t.Errorf("ordinary registration in the namespace: %v", err)
		}
		alice := e.user("alice")
		if _, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{RoomAliasName: "mem_mine"}); errcode(err) != "M_EXCLUSIVE" {
			t.Errorf("alias in the namespace: %v", err)
		}

		// It is pushed the events of its users.
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{"@mem_alice:test.local"}})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the invite pushed to the in-memory appservice", func() bool {
			mem.mu.Lock()
			defer mem.mu.Unlock()
			for _, ev := range mem.events {
				if ev["type"] == "m.room.member" && ev["state_key"] == "@mem_alice:test.local" && ev["room_id"] == room.RoomID.String() {
					return true
				}
			}
			return false
		})

		// The homeserver holds a copy: the bridge's value is its own.
		var hosted *registration.Registration
		for _, r := range e.hs.Appservices.Registrations() {
			if r.ID == "membridge" {
				hosted = r
			}
		}
		if hosted == nil || hosted == reg || len(e.hs.Appservices.Registrations()) != 2 {
			t.Errorf("hosted registrations = %v; want fakebridge and a copy of membridge", e.hs.Appservices.Registrations())
		}
	})
}

// TestInMemoryRegistrationRefused: an in-memory registration is checked
// like a file, against the files too.
func TestInMemoryRegistrationRefused(t *testing.T) {
	db := dbtest.SQLite(t)
	file := filepath.Join(t.TempDir(), "file.yaml")
	if err := os.WriteFile(file, []byte("id: filebridge\nurl: null\nas_token: as_token_of_the_file_0123\nhs_token: hs_token_of_the_file_0123\nsender_localpart: filebot\nnamespaces: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(r *registration.Registration)
		nilReg bool
		want   string
	}{
		{
			name:   "same id as a file",
			change: func(r *registration.Registration) { r.ID = "filebridge" },
			want:   `id "filebridge" is used by both ` + file + ` and generated`,
		},
		{
			name:   "same as_token as a file",
			change: func(r *registration.Registration) { r.AppToken = "as_token_of_the_file_0123" },
			want:   file + " and generated have the same as_token",
		},
		{
			name:   "invalid",
			change: func(r *registration.Registration) { r.SenderLocalpart = "" },
			want:   "registration generated: sender_localpart: missing",
		},
		{
			name:   "bad regex",
			change: func(r *registration.Registration) { r.Namespaces.UserIDs[0].Regex = "@mem_(" },
			want:   "registration generated: namespaces.users[0].regex",
		},
		{
			name:   "nil",
			nilReg: true,
			want:   "in-memory registration 0 is nil",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, _ := inMemory(t)
			if tt.change != nil {
				tt.change(reg)
			}
			if tt.nilReg {
				reg = nil
			}
			hs, err := homeserver.New(context.Background(), homeserver.Options{
				ServerName: serverName, DataDir: t.TempDir(), DB: db, Log: logging.Discard(),
				MaxUploadBytes: 1 << 20, Appservices: []string{file}, Registrations: []*registration.Registration{reg},
			})
			if err == nil {
				hs.Close()
				t.Fatalf("homeserver.New succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "_of_the_file_") || strings.Contains(err.Error(), "in_memory") {
				t.Errorf("err shows a token: %v", err)
			}
		})
	}
}
