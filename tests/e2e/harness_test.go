package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/appservice"
	"switchboard/bridge"
	"switchboard/connectors"
	"switchboard/connectors/connectortest"
	"switchboard/homeserver"
	"switchboard/internal/config"
	"switchboard/internal/database"
	"switchboard/internal/logging"
	"switchboard/registration"
)

const serverName = "example.test"

// world is one homeserver with bridges to test networks, and Matrix users
// who talk through them.
type world struct {
	t     testing.TB
	ctx   context.Context
	db    *database.DB
	hsURL string
	log   *slog.Logger

	mu      sync.Mutex
	bridges map[string]*bridge.Bridge
	regs    map[string]*registration.Registration
	hooks   map[string]*atomic.Pointer[box] // network → its receiver
	nets    map[string]*connectortest.Network
	netURLs map[string]string
	opts    worldOptions
}

// box holds a receiver so it can be swapped atomically.
type box struct{ http.Handler }

type worldOptions struct {
	// relay turns relaying on in new portals.
	relay bool
	// permissions is bridges.permissions.
	permissions map[string]string
	// hs is the homeserver: hsBuiltin (default) or hsDendrite.
	hs string
	// wrapConnector, httpClient and wrapReceiver instrument the bridges
	// (benchmarks); nil leaves them as they are.
	wrapConnector func(*connectortest.Connector) connectors.Connector
	httpClient    *http.Client
	wrapReceiver  func(http.Handler) http.Handler
	// connectors builds the connector of a network that is not a test
	// network (irc); such networks get no connectortest.Network.
	connectors map[string]func() connectors.Connector
	// mediaURL is the bridges' public media base; "" uses the homeserver's.
	mediaURL string
}

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("SWITCHBOARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return logging.Discard()
}

// newWorld starts the built-in homeserver on db with one bridge per network
// name, each to a test network of its own.
func newWorld(t testing.TB, db *database.DB, opts worldOptions, networks ...string) *world {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &world{t: t, ctx: ctx, db: db, log: testLog(t), opts: opts,
		bridges: map[string]*bridge.Bridge{}, regs: map[string]*registration.Registration{},
		hooks: map[string]*atomic.Pointer[box]{}, nets: map[string]*connectortest.Network{}, netURLs: map[string]string{}}
	for _, name := range networks {
		hook := &atomic.Pointer[box]{}
		hook.Store(&box{http.NotFoundHandler()})
		receiver := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			hook.Load().ServeHTTP(rw, r)
		}))
		t.Cleanup(receiver.Close)
		reg := registration.Generate(registration.GenerateOptions{ID: name, URL: receiver.URL, ServerName: serverName,
			SenderLocalpart: name + "bot", Prefix: name + "_", Protocols: []string{name}})
		if err := reg.Validate(serverName); err != nil {
			t.Fatal(err)
		}
		w.regs[name], w.hooks[name] = reg, hook
		if opts.connectors[name] != nil {
			continue
		}
		n := connectortest.NewNetwork()
		n.SetPollTimeout(2 * time.Second)
		w.nets[name], w.netURLs[name] = n, n.Start()
		t.Cleanup(n.Close)
	}
	regs := make([]*registration.Registration, 0, len(w.regs))
	for _, r := range w.regs {
		regs = append(regs, r)
	}
	if opts.hs == hsDendrite {
		w.hsURL = startDendrite(t, regs)
	} else {
		w.hsURL = startBuiltin(t, ctx, db, w.log, regs)
	}
	for _, name := range networks {
		w.startBridge(name)
	}
	return w
}

// startBuiltin runs the built-in homeserver in process with the
// registrations and returns its client API URL.
func startBuiltin(t testing.TB, ctx context.Context, db *database.DB, log *slog.Logger, regs []*registration.Registration) string {
	hs, err := homeserver.New(ctx, homeserver.Options{
		ServerName: serverName, DataDir: t.TempDir(), DB: db, Log: log.With("component", "homeserver"),
		RegistrationEnabled: true, RateLimits: config.RateLimits{Enabled: false}, MaxUploadBytes: 10 << 20,
		Registrations: regs, AppserviceMaxBackoff: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	hs.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return srv.URL
}

// startBridge starts (or restarts) network's bridge on the world's database.
func (w *world) startBridge(name string) *bridge.Bridge {
	t := w.t
	t.Helper()
	mx, err := appservice.NewHTTP(appservice.HTTPOptions{Registration: w.regs[name], HomeserverURL: w.hsURL,
		ServerName: serverName, Log: w.log, HTTPClient: w.opts.httpClient})
	if err != nil {
		t.Fatal(err)
	}
	var conn connectors.Connector
	switch {
	case w.opts.connectors[name] != nil:
		conn = w.opts.connectors[name]()
	case w.opts.wrapConnector != nil:
		conn = w.opts.wrapConnector(connectortest.New(name, w.netURLs[name]))
	default:
		conn = connectortest.New(name, w.netURLs[name])
	}
	mediaURL := w.opts.mediaURL
	if mediaURL == "" {
		mediaURL = w.hsURL
	}
	b, err := bridge.New(w.ctx, bridge.Options{
		Connector: conn, Settings: connectors.Settings{Enabled: true, Relay: w.opts.relay},
		Matrix: mx, Registration: w.regs[name], DB: w.db, Log: w.log.With("bridge", name), Permissions: w.opts.permissions,
		MediaURL: mediaURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	var receiver http.Handler = b.Receiver()
	if w.opts.wrapReceiver != nil {
		receiver = w.opts.wrapReceiver(receiver)
	}
	w.hooks[name].Store(&box{receiver})
	if err := b.Start(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.bridges[name] = b
	w.mu.Unlock()
	t.Cleanup(func() { b.Stop(context.Background()) })
	return b
}

// stopBridge stops network's bridge; the homeserver's pushes fail until it
// is started again.
func (w *world) stopBridge(name string) {
	w.mu.Lock()
	b := w.bridges[name]
	w.mu.Unlock()
	w.hooks[name].Store(&box{http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		http.Error(rw, "down", http.StatusServiceUnavailable)
	})})
	b.Stop(context.Background())
}

func (w *world) bot(name string) id.UserID { return id.NewUserID(name+"bot", serverName) }

func (w *world) puppet(network, remote string) id.UserID {
	return id.NewUserID(network+"_"+connectors.EscapeLocalpart(remote), serverName)
}

func (w *world) alias(network, chat string) string {
	return "#" + network + "_" + connectors.EscapeLocalpart(chat) + ":" + serverName
}

// user is a Matrix user with a sync loop of their own.
type user struct {
	t  testing.TB
	c  *mautrix.Client
	id id.UserID

	mu     sync.Mutex
	since  string
	events map[id.RoomID][]*event.Event
	invite map[id.RoomID]bool
}

// newUser registers localpart on the homeserver.
func (w *world) newUser(localpart string) *user {
	t := w.t
	t.Helper()
	c, err := mautrix.NewClient(w.hsURL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.RegisterDummy(w.ctx, &mautrix.ReqRegister[any]{Username: localpart, Password: "correct horse " + localpart})
	if err != nil {
		t.Fatalf("register %s: %v", localpart, err)
	}
	c.SetCredentials(resp.UserID, resp.AccessToken)
	u := &user{t: t, c: c, id: resp.UserID, events: map[id.RoomID][]*event.Event{}, invite: map[id.RoomID]bool{}}
	u.sync(0)
	return u
}

// sync runs one /sync and records what it returned.
func (u *user) sync(timeout time.Duration) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	u.mu.Lock()
	since := u.since
	u.mu.Unlock()
	resp, err := u.c.SyncRequest(ctx, int(timeout/time.Millisecond), since, "", false, event.PresenceOnline)
	if err != nil {
		u.t.Fatalf("sync: %v", err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.since = resp.NextBatch
	for roomID, room := range resp.Rooms.Join {
		for _, evt := range append(room.State.Events, room.Timeline.Events...) {
			evt.RoomID = roomID
			if evt.StateKey != nil {
				evt.Type.Class = event.StateEventType
			} else {
				evt.Type.Class = event.MessageEventType
			}
			_ = evt.Content.ParseRaw(evt.Type)
			u.events[roomID] = append(u.events[roomID], evt)
		}
	}
	for roomID := range resp.Rooms.Invite {
		u.invite[roomID] = true
	}
}

// waitEvent syncs until an event in room matches pred, and returns it.
func (u *user) waitEvent(room id.RoomID, what string, pred func(*event.Event) bool) *event.Event {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	seen := 0
	for {
		u.mu.Lock()
		evs := u.events[room]
		for _, evt := range evs[seen:] {
			if pred(evt) {
				u.mu.Unlock()
				return evt
			}
		}
		seen = len(evs)
		u.mu.Unlock()
		if time.Now().After(deadline) {
			u.t.Fatalf("%s: no matching event in %s after 20s", what, room)
		}
		u.sync(time.Second)
	}
}

// all returns every event seen in room so far.
func (u *user) all(room id.RoomID) []*event.Event {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*event.Event(nil), u.events[room]...)
}

// waitText waits for a message from sender in room whose body contains text.
func (u *user) waitText(room id.RoomID, sender id.UserID, text string) *event.Event {
	u.t.Helper()
	return u.waitEvent(room, "message "+text, func(e *event.Event) bool {
		m := e.Content.AsMessage()
		return e.Type == event.EventMessage && (sender == "" || e.Sender == sender) && m != nil && strings.Contains(m.Body, text)
	})
}

func (u *user) join(alias string) id.RoomID {
	u.t.Helper()
	resp, err := u.c.JoinRoom(context.Background(), alias, nil)
	if err != nil {
		u.t.Fatalf("%s joins %s: %v", u.id, alias, err)
	}
	return resp.RoomID
}

func (u *user) send(room id.RoomID, text string) id.EventID {
	u.t.Helper()
	resp, err := u.c.SendText(context.Background(), room, text)
	if err != nil {
		u.t.Fatalf("send: %v", err)
	}
	return resp.EventID
}

// dm creates a direct chat with the bot of network: the user's management
// room, once the bot joined.
func (u *user) dm(w *world, network string) id.RoomID {
	u.t.Helper()
	resp, err := u.c.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{Preset: "trusted_private_chat",
		Invite: []id.UserID{w.bot(network)}, IsDirect: true})
	if err != nil {
		u.t.Fatal(err)
	}
	u.waitEvent(resp.RoomID, "bot joins the DM", func(e *event.Event) bool {
		return e.Type == event.StateMember && e.GetStateKey() == string(w.bot(network)) && e.Content.AsMember().Membership == event.MembershipJoin
	})
	return resp.RoomID
}

// command sends a command and returns the bot's answer.
func (u *user) command(w *world, network string, room id.RoomID, text string) string {
	u.t.Helper()
	sent := u.send(room, text)
	evt := u.waitEvent(room, "answer to "+text, func(e *event.Event) bool {
		m := e.Content.AsMessage()
		return e.Sender == w.bot(network) && e.Type == event.EventMessage && m != nil && m.RelatesTo.GetReplyTo() == sent
	})
	return evt.Content.AsMessage().Body
}

// defaultWait bounds how long a test waits for something to cross a bridge.
const defaultWait = 20 * time.Second
