package connectortest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"maunium.net/go/mautrix/event"

	"switchboard/connectors"
)

// Harness is what a connector gives RunSuite.
type Harness struct {
	// New returns a fresh connector for one test. The suite calls Start
	// with a FakeHost and Stop at cleanup.
	New func(t *testing.T) connectors.Connector
	// Remote drives the network's other side.
	Remote Remote
	// MissingChat is a chat id, in the connector's format, that the network
	// does not have; "" skips the ChatInfo-not-found case (for networks
	// where any chat exists once named, like IRC channels).
	MissingChat connectors.PortalID
}

// Remote drives the other side of a connector's network: its own users and
// its server. Methods fail t rather than return errors.
type Remote interface {
	// CreateChat creates a chat (name is a hint for people) and returns its
	// id in the connector's format. The suite then calls ChatInfo on it,
	// as the bridge does when it opens a portal; from then on the
	// connector's bot must hear the chat.
	CreateChat(t *testing.T, name string) connectors.PortalID
	// Post sends body to chat as the network's user called user ("alice")
	// and says how the connector should report it.
	Post(t *testing.T, chat connectors.PortalID, user, body string) Posted
	// WaitReceived waits until a message whose body contains text arrived
	// on the network in chat and returns how the network shows it.
	WaitReceived(t *testing.T, chat connectors.PortalID, text string) ReceivedMessage
	// SetDown takes the network away from the connector (down) or brings
	// it back. While down, Post still works: what the network's users
	// say meanwhile reaches the connector after. A network that cannot
	// simulate an outage calls t.Skip.
	SetDown(t *testing.T, down bool)
}

// Posted is a message a Remote posted, as the connector should report it.
type Posted struct {
	// ID is the message's id on the network; "" when the network gives
	// none (the suite then only checks that the event has one).
	ID connectors.MessageID
	// Sender is the RemoteUserID the event must carry.
	Sender connectors.RemoteUserID
}

// ReceivedMessage is a message as the network shows it.
type ReceivedMessage struct {
	// ID is its id on the network, "" when the network gives none.
	ID connectors.MessageID
	// Sender is the identity that sent it, as the network shows it: a
	// nick, a user id, the bot.
	Sender string
	// Body is its text as shown, a relay's "<name> " prefix included.
	Body string
	// RelayedFor is the relayed sender's name on networks with a place for
	// it (a webhook's name, the test network's relayed_for); "" otherwise.
	RelayedFor string
}

// Observer is a Remote that sees edits, deletions, reactions and topics;
// with one, the suite checks that those capabilities reach the network,
// without one only that the calls succeed.
type Observer interface {
	WaitEdited(t *testing.T, chat connectors.PortalID, id connectors.MessageID, text string)
	WaitDeleted(t *testing.T, chat connectors.PortalID, id connectors.MessageID)
	WaitReacted(t *testing.T, chat connectors.PortalID, id connectors.MessageID, key string)
	WaitTopic(t *testing.T, chat connectors.PortalID, topic string)
}

// Accounts is a Remote that makes accounts a Matrix user can log in with;
// with one, the suite checks LoginHandler and sending as oneself.
type Accounts interface {
	NewAccount(t *testing.T) Account
}

// Account is a user on the network a Matrix user can log in as.
type Account struct {
	// Remote is the account's RemoteUserID.
	Remote connectors.RemoteUserID
	// Shown is how the network shows it as a sender (ReceivedMessage.Sender).
	Shown string
	// LoginArgs are the arguments of the login command.
	LoginArgs []string
}

// RunSuite checks a connector against the contract in connectors/. Its
// cases run one after the other (the goroutine-leak check needs that), each
// with a fresh connector from h.New.
func RunSuite(t *testing.T, h Harness) {
	s := &suite{h: h}
	t.Run("Info", s.info)
	t.Run("StartStop", s.startStop)
	t.Run("ChatInfoMissing", s.chatInfoMissing)
	t.Run("RemoteMessage", s.remoteMessage)
	t.Run("DistinctIDs", s.distinctIDs)
	t.Run("Relay", s.relay)
	t.Run("NoEcho", s.noEcho)
	t.Run("NoIdentity", s.noIdentity)
	t.Run("Login", s.login)
	t.Run("Capabilities", s.capabilities)
	t.Run("Outage", s.outage)
}

type suite struct{ h Harness }

// unique returns text with a random suffix, so that waits never match an
// earlier run's messages.
func unique(text string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return text + " " + hex.EncodeToString(b)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*DefaultWait)
	t.Cleanup(cancel)
	return ctx
}

// start starts a fresh connector with a FakeHost, stops it at cleanup, and
// waits until the bot's connection is CONNECTED. Every event queued must
// keep the contract.
func (s *suite) start(t *testing.T) (connectors.Connector, *FakeHost) {
	t.Helper()
	conn := s.h.New(t)
	host := NewFakeHost(t)
	host.Network = conn.Info().Name
	runCtx, cancel := context.WithCancel(context.Background())
	if err := conn.Start(runCtx, host); err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, stopCancel := context.WithTimeout(context.Background(), DefaultWait)
		defer stopCancel()
		if err := conn.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		cancel()
		for _, err := range host.Invalid() {
			t.Errorf("queued an event that breaks the contract: %v", err)
		}
	})
	waitConnected(t, host, 0)
	return conn, host
}

func waitConnected(t *testing.T, host *FakeHost, from int) {
	t.Helper()
	host.WaitState(t, from, func(st connectors.State) bool {
		return st.UserID == "" && st.Event == connectors.StateConnected
	})
}

// chat creates a chat and opens it, as the bridge does.
func (s *suite) chat(t *testing.T, conn connectors.Connector, name string) connectors.PortalID {
	t.Helper()
	chat := s.h.Remote.CreateChat(t, name)
	if _, err := conn.ChatInfo(testContext(t), chat); err != nil {
		t.Fatalf("ChatInfo(%q) of a chat just created: %v", chat, err)
	}
	return chat
}

// waitMessage waits for an EventMessage in chat whose body contains text.
func waitMessage(t *testing.T, host *FakeHost, chat connectors.PortalID, text string) *connectors.RemoteEvent {
	t.Helper()
	return host.WaitEvent(t, func(e *connectors.RemoteEvent) bool {
		return e.Type == connectors.EventMessage && e.Chat == chat && e.Message != nil && strings.Contains(e.Message.Body, text)
	})
}

// countMessages counts accepted EventMessages in chat whose body contains text.
func countMessages(host *FakeHost, chat connectors.PortalID, text string) int {
	n := 0
	for _, e := range host.Events() {
		if e.Type == connectors.EventMessage && e.Chat == chat && e.Message != nil && strings.Contains(e.Message.Body, text) {
			n++
		}
	}
	return n
}

// barrier posts a marker from the remote side and waits until it is queued:
// whatever the connector would have queued before it (an echo) is queued by
// then.
func (s *suite) barrier(t *testing.T, host *FakeHost, chat connectors.PortalID) {
	t.Helper()
	marker := unique("barrier")
	s.h.Remote.Post(t, chat, "barrier", marker)
	waitMessage(t, host, chat, marker)
}

var infoName = regexp.MustCompile(`^[a-z0-9]+$`)

func (s *suite) info(t *testing.T) {
	info := s.h.New(t).Info()
	if !infoName.MatchString(info.Name) {
		t.Errorf("Info().Name = %q, want ^[a-z0-9]+$", info.Name)
	}
	if info.DisplayName == "" {
		t.Error("Info().DisplayName is empty")
	}
}

func (s *suite) startStop(t *testing.T) {
	conn := s.h.New(t)
	host := NewFakeHost(t)
	host.Network = conn.Info().Name
	before := goleak.IgnoreCurrent()
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := conn.Start(runCtx, host); err != nil {
		t.Fatalf("Start: %v", err)
	}
	waitConnected(t, host, 0)
	ctx, stopCancel := context.WithTimeout(context.Background(), DefaultWait)
	defer stopCancel()
	if err := conn.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := conn.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	goleak.VerifyNone(t, before)
}

func (s *suite) chatInfoMissing(t *testing.T) {
	if s.h.MissingChat == "" {
		t.Skip("the harness names no missing chat")
	}
	conn, _ := s.start(t)
	_, err := conn.ChatInfo(testContext(t), s.h.MissingChat)
	if !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("ChatInfo(%q) = %v, want ErrNotFound", s.h.MissingChat, err)
	}
}

func (s *suite) remoteMessage(t *testing.T) {
	conn, host := s.start(t)
	chat := s.chat(t, conn, "remote message")
	text := unique("hello from the network")
	p := s.h.Remote.Post(t, chat, "alice", text)
	ev := waitMessage(t, host, chat, text)
	if ev.ID == "" {
		t.Error("message event without ID")
	}
	if p.ID != "" && ev.ID != p.ID {
		t.Errorf("event ID = %q, want the network's %q", ev.ID, p.ID)
	}
	if ev.Sender != p.Sender {
		t.Errorf("event Sender = %q, want %q", ev.Sender, p.Sender)
	}
	if ev.Message.MsgType == "" {
		t.Error("message without MsgType")
	}
}

func (s *suite) distinctIDs(t *testing.T) {
	conn, host := s.start(t)
	chat := s.chat(t, conn, "distinct ids")
	a, b := unique("first"), unique("second")
	s.h.Remote.Post(t, chat, "alice", a)
	s.h.Remote.Post(t, chat, "alice", b)
	ea, eb := waitMessage(t, host, chat, a), waitMessage(t, host, chat, b)
	if ea.ID == eb.ID {
		t.Errorf("two messages share the ID %q", ea.ID)
	}
}

// relayed sends text through the relay as "Relay Tester" and returns its id.
func relayed(t *testing.T, conn connectors.Connector, chat connectors.PortalID, text string) (connectors.Client, connectors.MessageID) {
	t.Helper()
	ctx := testContext(t)
	cl, err := conn.Relay(ctx)
	if err != nil {
		t.Skipf("no relay: %v", err)
	}
	id, err := cl.SendMessage(ctx, chat, &connectors.Message{
		MsgType: event.MsgText,
		Body:    text,
		Relayed: &connectors.Sender{ID: "@relaytester:example.org", DisplayName: "Relay Tester"},
		TxnID:   unique("txn"),
	})
	if err != nil {
		t.Fatalf("relay SendMessage: %v", err)
	}
	return cl, id
}

func (s *suite) relay(t *testing.T) {
	conn, _ := s.start(t)
	chat := s.chat(t, conn, "relay")
	text := unique("relayed hello")
	_, id := relayed(t, conn, chat, text)
	got := s.h.Remote.WaitReceived(t, chat, text)
	if !strings.Contains(got.Body, "Relay Tester") && !strings.Contains(got.RelayedFor, "Relay Tester") {
		t.Errorf("relayed message shows as %+v: the sender's name \"Relay Tester\" is missing", got)
	}
	if id != "" && got.ID != "" && id != got.ID {
		t.Errorf("SendMessage returned %q, the network has %q", id, got.ID)
	}
}

func (s *suite) noEcho(t *testing.T) {
	conn, host := s.start(t)
	chat := s.chat(t, conn, "no echo")
	text := unique("not an echo")
	relayed(t, conn, chat, text)
	s.h.Remote.WaitReceived(t, chat, text)
	s.barrier(t, host, chat)
	if n := countMessages(host, chat, text); n != 0 {
		t.Errorf("the relay's own message was queued back %d times", n)
	}
}

func (s *suite) noIdentity(t *testing.T) {
	conn, _ := s.start(t)
	_, err := conn.ClientFor(testContext(t), &connectors.MatrixUser{ID: "@nobody:example.org", DisplayName: "Nobody"})
	if !errors.Is(err, connectors.ErrNoIdentity) {
		t.Errorf("ClientFor a user without logins = %v, want ErrNoIdentity", err)
	}
}

// loggedIn logs a new account in and returns its client, or skips.
func (s *suite) loggedIn(t *testing.T, conn connectors.Connector, host *FakeHost) (connectors.Client, Account) {
	t.Helper()
	acc, ok := s.h.Remote.(Accounts)
	lh, ok2 := conn.(connectors.LoginHandler)
	if !ok || !ok2 {
		t.Skip("needs a LoginHandler and a Remote with Accounts")
	}
	ctx := testContext(t)
	a := acc.NewAccount(t)
	mu := &connectors.MatrixUser{ID: "@suite-login:example.org", DisplayName: "Suite Login"}
	login, err := lh.Login(ctx, mu, a.LoginArgs)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if login.ID == "" {
		t.Error("Login returned a login without ID")
	}
	switch login.UserID {
	case "":
		login.UserID = mu.ID
	case mu.ID:
	default:
		t.Errorf("Login returned a login of %s for %s", login.UserID, mu.ID)
	}
	if err := host.SaveLogin(ctx, login); err != nil {
		t.Fatal(err)
	}
	mu.Logins = []*connectors.Login{login}
	cl, err := conn.ClientFor(ctx, mu)
	if err != nil {
		t.Fatalf("ClientFor a logged-in user: %v", err)
	}
	return cl, a
}

func (s *suite) login(t *testing.T) {
	conn, host := s.start(t)
	cl, a := s.loggedIn(t, conn, host)
	chat := s.chat(t, conn, "login")
	if ms, ok := cl.(connectors.MemberSyncer); ok {
		if err := ms.JoinChat(testContext(t), chat); err != nil {
			t.Fatalf("JoinChat: %v", err)
		}
	}
	text := unique("as myself")
	if _, err := cl.SendMessage(testContext(t), chat, &connectors.Message{MsgType: event.MsgText, Body: text}); err != nil {
		t.Fatalf("SendMessage as the login: %v", err)
	}
	if got := s.h.Remote.WaitReceived(t, chat, text); got.Sender != a.Shown {
		t.Errorf("the login's message shows as sent by %q, want %q", got.Sender, a.Shown)
	}
	s.barrier(t, host, chat)
	if n := countMessages(host, chat, text); n != 0 {
		t.Errorf("the login's own message was queued back %d times", n)
	}
	if ms, ok := cl.(connectors.MemberSyncer); ok {
		if err := ms.LeaveChat(testContext(t), chat, "suite done"); err != nil {
			t.Errorf("LeaveChat: %v", err)
		}
	}
}

func (s *suite) capabilities(t *testing.T) {
	conn, host := s.start(t)
	chat := s.chat(t, conn, "capabilities")
	ctx := testContext(t)
	cl, err := conn.Relay(ctx)
	if err != nil {
		t.Skipf("no relay: %v", err)
	}
	obs, _ := s.h.Remote.(Observer)

	// sent sends text through the relay and returns its id, or skips.
	sent := func(t *testing.T, text string) connectors.MessageID {
		t.Helper()
		_, id := relayed(t, conn, chat, text)
		if id == "" {
			t.Skip("the network gives sent messages no ids")
		}
		return id
	}
	t.Run("Edit", func(t *testing.T) {
		ed, ok := cl.(connectors.Editor)
		if !ok {
			t.Skip("not an Editor")
		}
		id := sent(t, unique("before edit"))
		text := unique("after edit")
		if _, err := ed.EditMessage(ctx, chat, id, &connectors.Message{MsgType: event.MsgText, Body: text}); err != nil {
			t.Fatalf("EditMessage: %v", err)
		}
		if obs != nil {
			obs.WaitEdited(t, chat, id, text)
		}
		s.barrier(t, host, chat)
		for _, e := range host.Events() {
			if e.Type == connectors.EventEdit && e.Target == id {
				t.Errorf("the relay's own edit was queued back: %+v", e)
			}
		}
	})
	t.Run("Delete", func(t *testing.T) {
		del, ok := cl.(connectors.Deleter)
		if !ok {
			t.Skip("not a Deleter")
		}
		id := sent(t, unique("to delete"))
		if err := del.DeleteMessage(ctx, chat, id); err != nil {
			t.Fatalf("DeleteMessage: %v", err)
		}
		if obs != nil {
			obs.WaitDeleted(t, chat, id)
		}
	})
	// A message from the network, for reactions and read markers.
	text := unique("react to me")
	s.h.Remote.Post(t, chat, "alice", text)
	target := waitMessage(t, host, chat, text).ID
	t.Run("React", func(t *testing.T) {
		r, ok := cl.(connectors.Reactor)
		if !ok {
			t.Skip("not a Reactor")
		}
		rid, err := r.React(ctx, chat, target, "👍")
		if err != nil {
			t.Fatalf("React: %v", err)
		}
		if obs != nil {
			obs.WaitReacted(t, chat, target, "👍")
		}
		if err := r.Unreact(ctx, chat, target, rid, "👍"); err != nil {
			t.Errorf("Unreact: %v", err)
		}
	})
	t.Run("Typing", func(t *testing.T) {
		ty, ok := cl.(connectors.Typer)
		if !ok {
			t.Skip("not a Typer")
		}
		if err := ty.SetTyping(ctx, chat, true, 5*time.Second); err != nil {
			t.Errorf("SetTyping(true): %v", err)
		}
		if err := ty.SetTyping(ctx, chat, false, 0); err != nil {
			t.Errorf("SetTyping(false): %v", err)
		}
	})
	t.Run("ReadMarker", func(t *testing.T) {
		rm, ok := cl.(connectors.ReadMarker)
		if !ok {
			t.Skip("not a ReadMarker")
		}
		if err := rm.MarkRead(ctx, chat, target); err != nil {
			t.Errorf("MarkRead: %v", err)
		}
	})
	t.Run("Topic", func(t *testing.T) {
		ts, ok := cl.(connectors.TopicSetter)
		if !ok {
			t.Skip("not a TopicSetter")
		}
		topic := unique("a topic")
		if err := ts.SetTopic(ctx, chat, topic); err != nil {
			t.Fatalf("SetTopic: %v", err)
		}
		if obs != nil {
			obs.WaitTopic(t, chat, topic)
		}
	})
}

func (s *suite) outage(t *testing.T) {
	conn, host := s.start(t)
	chat := s.chat(t, conn, "outage")
	ctx := testContext(t)
	cl, err := conn.Relay(ctx)
	if err != nil {
		t.Skipf("no relay: %v", err)
	}

	mark := len(host.States())
	s.h.Remote.SetDown(t, true)
	up := false
	t.Cleanup(func() {
		if !up {
			s.h.Remote.SetDown(t, false)
		}
	})
	host.WaitState(t, mark, func(st connectors.State) bool {
		return st.UserID == "" && st.Event == connectors.StateTransientDisconnect
	})
	_, err = cl.SendMessage(ctx, chat, &connectors.Message{MsgType: event.MsgText, Body: unique("while down"), TxnID: unique("txn")})
	if ok, _ := connectors.Retryable(err); !ok {
		t.Errorf("SendMessage while the network is down = %v, want a retryable error", err)
	}
	text := unique("posted while down")
	s.h.Remote.Post(t, chat, "alice", text)

	mark = len(host.States())
	s.h.Remote.SetDown(t, false)
	up = true
	waitConnected(t, host, mark)
	waitMessage(t, host, chat, text)
	s.barrier(t, host, chat)
	if n := countMessages(host, chat, text); n != 1 {
		t.Errorf("the message posted while down was queued %d times, want once", n)
	}
}
