package connectortest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
)

var _ connectors.Host = (*FakeHost)(nil)

// FakeHost is an in-memory [connectors.Host] for connector tests. It keeps
// what the connector hands it: queued events (each round-tripped through
// JSON, as the bridge persists them, and deduplicated as the bridge does),
// reported states and stored logins. Every method is safe for concurrent
// use.
//
// Deduplication: an event with an ID is dropped when one with the same
// (Chat, Type, ID) was accepted before. The Type is part of the key because
// an EventUnreact's ID is the reaction it takes back, the ID of an
// EventReaction accepted earlier.
type FakeHost struct {
	// Network is the network's name for PuppetUserID ("test" by default);
	// the suite sets it from the connector's Info.
	Network string
	// Server is ServerName ("example.org" by default).
	Server string

	log *slog.Logger

	mu      sync.Mutex
	events  []*connectors.RemoteEvent
	dropped []*connectors.RemoteEvent
	invalid []error
	seen    map[dedupKey]bool
	states  []connectors.State
	logins  []*connectors.Login
	users   map[id.UserID]*connectors.MatrixUser
	hook    func(ctx context.Context, evt *connectors.RemoteEvent) error
	wake    chan struct{}
	bridged []connectors.PortalID
	uploads []*connectors.Attachment
}

type dedupKey struct {
	chat connectors.PortalID
	typ  connectors.EventType
	id   connectors.MessageID
}

// NewFakeHost returns an empty host whose logger writes to t.Log (until t
// ends).
func NewFakeHost(t testing.TB) *FakeHost {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	return &FakeHost{
		Network: "test",
		Server:  "example.org",
		log:     slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})),
		seen:    map[dedupKey]bool{},
		users:   map[id.UserID]*connectors.MatrixUser{},
		wake:    make(chan struct{}),
	}
}

// testWriter sends log lines to t.Log, and nowhere once t has ended.
type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}

func (h *FakeHost) notifyLocked() {
	close(h.wake)
	h.wake = make(chan struct{})
}

// SetQueueHook makes Queue call f first; f's error is Queue's, and the event
// is then not kept. A hook may block (until ctx ends, say) to hold the
// connector between queueing and acknowledging.
func (h *FakeHost) SetQueueHook(f func(ctx context.Context, evt *connectors.RemoteEvent) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hook = f
}

// checkEvent is the contract's rules for a queued event.
func checkEvent(evt *connectors.RemoteEvent) error {
	switch {
	case evt == nil:
		return fmt.Errorf("nil event")
	case evt.Type == "":
		return fmt.Errorf("event without type")
	case evt.Chat == "" && evt.Type != connectors.EventProfile:
		return fmt.Errorf("%s event without chat", evt.Type)
	case evt.Type == connectors.EventMessage && (evt.ID == "" || evt.Message == nil):
		return fmt.Errorf("message event without id or message")
	case evt.Type == connectors.EventEdit && (evt.Target == "" || evt.Message == nil):
		return fmt.Errorf("edit event without target or message")
	case (evt.Type == connectors.EventDelete || evt.Type == connectors.EventReaction) && evt.Target == "":
		return fmt.Errorf("%s event without target", evt.Type)
	}
	return nil
}

// QueueBatch queues each event in turn, stopping at the first refused.
func (h *FakeHost) QueueBatch(ctx context.Context, evts []*connectors.RemoteEvent) error {
	for _, evt := range evts {
		if err := h.Queue(ctx, evt); err != nil {
			return err
		}
	}
	return nil
}

// Queue keeps evt (a JSON copy), unless it is a duplicate or breaks the
// contract; it never blocks unless the hook does.
func (h *FakeHost) Queue(ctx context.Context, evt *connectors.RemoteEvent) error {
	h.mu.Lock()
	hook := h.hook
	h.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, evt); err != nil {
			return err
		}
	}
	err := checkEvent(evt)
	var stored connectors.RemoteEvent
	if err == nil {
		var data []byte
		if data, err = json.Marshal(evt); err == nil {
			err = json.Unmarshal(data, &stored)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	defer h.notifyLocked()
	if err != nil {
		err = fmt.Errorf("fakehost: queue: %w", err)
		h.invalid = append(h.invalid, err)
		return err
	}
	if stored.ID != "" {
		k := dedupKey{stored.Chat, stored.Type, stored.ID}
		if h.seen[k] {
			h.dropped = append(h.dropped, &stored)
			return nil
		}
		h.seen[k] = true
	}
	h.events = append(h.events, &stored)
	return nil
}

// Events returns the accepted events, in the order queued.
func (h *FakeHost) Events() []*connectors.RemoteEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// Dropped returns the events dropped as duplicates.
func (h *FakeHost) Dropped() []*connectors.RemoteEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.dropped)
}

// Invalid returns why Queue refused events that broke the contract.
func (h *FakeHost) Invalid() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.invalid)
}

// States returns every state reported, in order.
func (h *FakeHost) States() []connectors.State {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.states)
}

// WaitFor waits up to DefaultWait until cond holds, re-checking whenever
// the host changes, and fails t naming what it waited for. cond must not
// call WaitFor.
func (h *FakeHost) WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(DefaultWait)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		wake := h.wake
		h.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("fakehost: waited %s for %s", DefaultWait, what)
		}
	}
}

// WaitEvent waits for an accepted event that pred accepts and returns the
// first one.
func (h *FakeHost) WaitEvent(t testing.TB, pred func(*connectors.RemoteEvent) bool) *connectors.RemoteEvent {
	t.Helper()
	var found *connectors.RemoteEvent
	h.WaitFor(t, "a matching event", func() bool {
		for _, e := range h.Events() {
			if pred(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// WaitState waits for a state (reported at or after position from of
// States) that pred accepts and returns it.
func (h *FakeHost) WaitState(t testing.TB, from int, pred func(connectors.State) bool) connectors.State {
	t.Helper()
	var found connectors.State
	h.WaitFor(t, "a matching state", func() bool {
		states := h.States()
		for _, s := range states[min(from, len(states)):] {
			if pred(s) {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

// SetState records state.
func (h *FakeHost) SetState(_ context.Context, state connectors.State) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.states = append(h.states, state)
	h.notifyLocked()
}

// Logins returns copies of the stored logins.
func (h *FakeHost) Logins(context.Context) ([]*connectors.Login, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*connectors.Login, 0, len(h.logins))
	for _, l := range h.logins {
		c := *l
		c.Secret = slices.Clone(l.Secret)
		out = append(out, &c)
	}
	return out, nil
}

// SaveLogin stores a copy of login, replacing one with the same user and id.
func (h *FakeHost) SaveLogin(_ context.Context, login *connectors.Login) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := *login
	c.Secret = slices.Clone(login.Secret)
	i := slices.IndexFunc(h.logins, func(l *connectors.Login) bool { return l.UserID == login.UserID && l.ID == login.ID })
	if i >= 0 {
		h.logins[i] = &c
	} else {
		h.logins = append(h.logins, &c)
	}
	h.notifyLocked()
	return nil
}

// DeleteLogin forgets a login.
func (h *FakeHost) DeleteLogin(_ context.Context, user id.UserID, login connectors.LoginID) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logins = slices.DeleteFunc(h.logins, func(l *connectors.Login) bool { return l.UserID == user && l.ID == login })
	h.notifyLocked()
	return nil
}

// AddMatrixUser makes MatrixUser know u (its Logins are filled from the
// stored logins on lookup).
func (h *FakeHost) AddMatrixUser(u *connectors.MatrixUser) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := *u
	h.users[u.ID] = &c
}

// PuppetUserID is @<Network>_<escaped user>:<Server>, the bridge's default.
func (h *FakeHost) PuppetUserID(user connectors.RemoteUserID) id.UserID {
	return id.NewUserID(h.Network+"_"+connectors.EscapeLocalpart(string(user)), h.Server)
}

// MatrixUser returns the user added with AddMatrixUser (or a bare one) with
// their stored logins; ok is false for a puppet of this network.
func (h *FakeHost) MatrixUser(ctx context.Context, user id.UserID) (*connectors.MatrixUser, bool, error) {
	if strings.HasPrefix(user.Localpart(), h.Network+"_") && user.Homeserver() == h.Server {
		return nil, false, nil
	}
	logins, _ := h.Logins(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	u := &connectors.MatrixUser{ID: user}
	if known := h.users[user]; known != nil {
		c := *known
		u = &c
	}
	u.Logins = nil
	for _, l := range logins {
		if l.UserID == user {
			u.Logins = append(u.Logins, l)
		}
	}
	return u, true, nil
}

// ServerName is Server.
func (h *FakeHost) ServerName() string { return h.Server }

// Log writes to the test's log.
func (h *FakeHost) Log() *slog.Logger { return h.log }

// BridgeChat records that the connector asked for chat to be bridged.
func (h *FakeHost) BridgeChat(_ context.Context, chat connectors.PortalID) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.bridged, chat) {
		h.bridged = append(h.bridged, chat)
	}
	return nil
}

// Bridged returns the chats the connector asked to bridge, in order.
func (h *FakeHost) Bridged() []connectors.PortalID {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.bridged)
}

// UploadMedia keeps the file and returns a made-up link naming it by
// position: https://media.invalid/<n>/<name>.
func (h *FakeHost) UploadMedia(_ context.Context, file *connectors.Attachment) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.uploads = append(h.uploads, file)
	return fmt.Sprintf("https://media.invalid/%d/%s", len(h.uploads), file.Name), nil
}

// Uploads returns the files uploaded so far.
func (h *FakeHost) Uploads() []*connectors.Attachment {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.uploads)
}
