package connectortest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"switchboard/connectors"
)

func TestSuite(t *testing.T) {
	n, url := newNetwork(t)
	RunSuite(t, Harness{
		New:         func(*testing.T) connectors.Connector { return New("testnet", url) },
		Remote:      n.Remote(),
		MissingChat: "no-such-chat",
	})
}

// Every kind of network event becomes the right RemoteEvent.
func TestRemoteEvents(t *testing.T) {
	n, _, host := started(t)
	n.AddUser("bob", "")
	first := n.Post("general", "alice", "first")
	host.WaitEvent(t, withBody("general", "first"))

	var reaction connectors.MessageID
	cases := []struct {
		name string
		do   func()
		want func(e *connectors.RemoteEvent) bool
	}{
		{"rich message", func() {
			n.PostMessage("general", "alice", &connectors.Message{
				MsgType: event.MsgImage, Body: "cat.png", HTML: "<b>cat</b>",
				Mentions: []connectors.Mention{{Remote: "bob"}}, ReplyTo: first, ThreadRoot: first,
				Attachment: &connectors.Attachment{Name: "cat.png", MimeType: "image/png", Data: []byte("PNG")},
			})
		}, func(e *connectors.RemoteEvent) bool {
			m := e.Message
			return e.Type == connectors.EventMessage && m != nil && m.Body == "cat.png" &&
				strings.HasPrefix(string(e.ID), "m") && e.Sender == "alice" && e.SenderName == "Alice" && !e.Time.IsZero() &&
				m.MsgType == event.MsgImage && m.HTML == "<b>cat</b>" && m.ReplyTo == first && m.ThreadRoot == first &&
				len(m.Mentions) == 1 && m.Mentions[0].Remote == "bob" &&
				m.Attachment != nil && string(m.Attachment.Data) == "PNG" && m.Attachment.MimeType == "image/png" && m.Attachment.Size == 3
		}},
		{"edit", func() { n.Edit("general", first, "first, edited") }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventEdit && e.Target == first && strings.HasPrefix(string(e.ID), "e") &&
				e.Message != nil && e.Message.Body == "first, edited" && e.Sender == "alice"
		}},
		{"reaction", func() { reaction = n.React("general", first, "bob", "👍") }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventReaction && e.Target == first && e.ID == reaction && e.Text == "👍" && e.Sender == "bob"
		}},
		{"unreact", func() { n.Unreact("general", first, "bob", "👍") }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventUnreact && e.Target == first && e.ID == reaction && e.Text == "👍" && e.Sender == "bob"
		}},
		{"typing", func() { n.SetTyping("general", "bob", true) }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventTyping && e.Typing && e.Sender == "bob"
		}},
		{"read", func() { n.MarkRead("general", "bob", first) }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventRead && e.Target == first && e.Sender == "bob"
		}},
		{"join", func() { n.Join("general", "bob") }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventJoin && e.Sender == "bob"
		}},
		{"kick", func() { n.Kick("general", "bob", "alice", "spam") }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventLeave && e.Sender == "bob" && e.Kicker == "alice" && e.Reason == "spam"
		}},
		{"topic", func() { n.SetTopic("general", "alice", "new topic") }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventTopic && e.Text == "new topic" && e.Sender == "alice"
		}},
		{"chat name", func() { n.RenameChat("general", "Lobby") }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventName && e.Text == "Lobby" && e.Sender == ""
		}},
		{"profile", func() { n.Rename("alice", "Alicia") }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventProfile && e.Chat == "" && e.Sender == "alice" && e.Text == "Alicia" && e.SenderName == "Alicia"
		}},
		{"delete", func() { n.Delete("general", first) }, func(e *connectors.RemoteEvent) bool {
			return e.Type == connectors.EventDelete && e.Target == first && e.Sender == "alice"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.do()
			host.WaitEvent(t, tc.want)
		})
	}
	if inv := host.Invalid(); len(inv) > 0 {
		t.Errorf("invalid events: %v", inv)
	}
}

// A Matrix message keeps its form on the network; a retry with the same
// TxnID stores nothing new.
func TestSendMessage(t *testing.T) {
	n, c, _ := started(t)
	n.AddUser("bob", "")
	first := n.Post("general", "alice", "first")
	cl := relayClient(t, c)
	ctx := ctxFor(t)
	msg := &connectors.Message{
		MsgType: event.MsgFile, Body: "report.pdf", HTML: "<i>report</i>",
		Mentions: []connectors.Mention{{ID: "@bob:example.org", Remote: "bob"}, {ID: "@carol:example.org", Name: "Carol"}},
		ReplyTo:  first, ThreadRoot: first,
		Attachment: &connectors.Attachment{Name: "report.pdf", MimeType: "application/pdf", Data: []byte("%PDF")},
		Relayed:    &connectors.Sender{ID: "@carol:example.org"},
		TxnID:      "txn-1",
	}
	id, err := cl.SendMessage(ctx, "general", msg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := cl.SendMessage(ctx, "general", msg)
	if err != nil {
		t.Fatal(err)
	}
	if again != id {
		t.Errorf("retry with the same TxnID returned %q, first send %q", again, id)
	}
	msgs := n.Messages("general")
	if len(msgs) != 2 {
		t.Fatalf("network holds %d messages, want 2 (first + one send)", len(msgs))
	}
	got := msgs[1]
	if got.ID != id || got.Sender != BotUser || !got.Via.Bot || got.RelayedFor != "carol" ||
		got.MsgType != event.MsgFile || got.Body != "report.pdf" || got.HTML != "<i>report</i>" ||
		got.ReplyTo != first || got.ThreadRoot != first || got.IdempotencyKey != "txn-1" ||
		len(got.Mentions) != 1 || got.Mentions[0] != "bob" ||
		got.Attachment == nil || string(got.Attachment.Data) != "%PDF" || got.Attachment.MimeType != "application/pdf" {
		t.Errorf("stored %+v", got)
	}
	other, err := cl.SendMessage(ctx, "general", &connectors.Message{Body: "other", TxnID: "txn-2"})
	if err != nil || other == id {
		t.Errorf("a new TxnID: id %q (first %q), err %v", other, id, err)
	}
}

// Edit, delete, react, typing, read markers and topics reach the network.
func TestClientCapabilities(t *testing.T) {
	n, c, host := started(t)
	cl := relayClient(t, c)
	ctx := ctxFor(t)
	id, err := cl.SendMessage(ctx, "general", &connectors.Message{Body: "draft"})
	if err != nil {
		t.Fatal(err)
	}
	editID, err := cl.(connectors.Editor).EditMessage(ctx, "general", id, &connectors.Message{Body: "final"})
	if err != nil || editID == "" {
		t.Fatalf("EditMessage = %q, %v", editID, err)
	}
	if m, _ := n.Message(id); m.Body != "final" || m.Original != "draft" || len(m.Edits) != 1 || m.Edits[0].ID != editID {
		t.Errorf("after edit: %+v", m)
	}
	remote := n.Post("general", "alice", "react here")
	r := cl.(connectors.Reactor)
	rid, err := r.React(ctx, "general", remote, "a/b ..")
	if err != nil || rid == "" {
		t.Fatalf("React = %q, %v", rid, err)
	}
	if again, err := r.React(ctx, "general", remote, "a/b .."); err != nil || again != rid {
		t.Errorf("reacting twice = %q, %v; want %q", again, err, rid)
	}
	if rs := n.Reactions(remote); len(rs) != 1 || rs[0].Key != "a/b .." || rs[0].User != BotUser || rs[0].ID != rid {
		t.Errorf("reactions %+v", rs)
	}
	if err := r.Unreact(ctx, "general", remote, rid, "a/b .."); err != nil {
		t.Fatal(err)
	}
	if rs := n.Reactions(remote); len(rs) != 0 {
		t.Errorf("reactions after Unreact: %+v", rs)
	}
	if err := cl.(connectors.Typer).SetTyping(ctx, "general", true, time.Minute); err != nil {
		t.Fatal(err)
	}
	if ty := n.Typing("general"); len(ty) != 1 || ty[0] != BotUser {
		t.Errorf("typing %v", ty)
	}
	if err := cl.(connectors.ReadMarker).MarkRead(ctx, "general", remote); err != nil {
		t.Fatal(err)
	}
	if rd := n.Reads("general"); rd[BotUser] != remote {
		t.Errorf("reads %v", rd)
	}
	if err := cl.(connectors.TopicSetter).SetTopic(ctx, "general", "bridged"); err != nil {
		t.Fatal(err)
	}
	if n.Topic("general") != "bridged" {
		t.Errorf("topic %q", n.Topic("general"))
	}
	if err := cl.(connectors.Deleter).DeleteMessage(ctx, "general", id); err != nil {
		t.Fatal(err)
	}
	if m, _ := n.Message(id); !m.Deleted {
		t.Error("message not deleted")
	}
	// None of that comes back.
	barrier(t, n, host, "general")
	for _, e := range host.Events() {
		if e.Sender == BotUser {
			t.Errorf("the bot's own event was queued: %+v", e)
		}
	}
}

// The network's refusals map to the contract's errors.
func TestClientErrors(t *testing.T) {
	n, c, _ := started(t)
	cl := relayClient(t, c)
	ctx := ctxFor(t)
	n.CreateChat("private", "Private", false)

	_, err := cl.SendMessage(ctx, "general", &connectors.Message{Body: strings.Repeat("x", MaxBodyBytes+1)})
	if err == nil || errors.Is(err, connectors.ErrUnavailable) {
		t.Errorf("a too long message: %v, want a final error", err)
	}
	if ok, _ := connectors.Retryable(err); ok {
		t.Errorf("a too long message is retryable: %v", err)
	}
	_, err = cl.SendMessage(ctx, "general", &connectors.Message{Body: "big", Attachment: &connectors.Attachment{Name: "big", Data: make([]byte, MaxRequestBytes)}})
	var se *statusError
	if !errors.As(err, &se) || se.Status != 413 {
		t.Errorf("a request over the limit: %v, want 413", err)
	}
	if msgs := n.Messages("general"); len(msgs) != 0 {
		t.Errorf("refused messages were stored: %+v", msgs)
	}

	_, err = cl.SendMessage(ctx, "nowhere", &connectors.Message{Body: "hi"})
	if !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("send to an unknown chat: %v, want ErrNotFound", err)
	}
	_, err = cl.SendMessage(ctx, "Not/An/ID", &connectors.Message{Body: "hi"})
	if !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("send to a malformed chat id: %v, want ErrNotFound", err)
	}

	n.LimitNext(1, 1500*time.Millisecond)
	_, err = cl.SendMessage(ctx, "general", &connectors.Message{Body: "limited"})
	var re *connectors.RetryError
	if !errors.As(err, &re) || re.After != 2*time.Second {
		t.Errorf("rate limited: %v, want a RetryError after 2s", err)
	}
	if ok, after := connectors.Retryable(err); !ok || after != 2*time.Second {
		t.Errorf("Retryable(rate limited) = %v, %s", ok, after)
	}
	if _, err := cl.SendMessage(ctx, "general", &connectors.Message{Body: "after the limit"}); err != nil {
		t.Errorf("send after the limit: %v", err)
	}

	n.SetDown(true)
	_, err = cl.SendMessage(ctx, "general", &connectors.Message{Body: "down"})
	if !errors.Is(err, connectors.ErrUnavailable) {
		t.Errorf("send while down: %v, want ErrUnavailable", err)
	}
	n.SetDown(false)

	if _, err := c.ChatInfo(ctx, "nowhere"); !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("ChatInfo(nowhere) = %v", err)
	}
	if _, err := c.UserInfo(ctx, "nobody"); !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("UserInfo(nobody) = %v", err)
	}
	if _, err := c.UserInfo(ctx, "../x"); !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("UserInfo(../x) = %v", err)
	}
}

func TestChatAndUserInfo(t *testing.T) {
	n, c, _ := started(t)
	n.SetTopic("general", "", "all things")
	n.Join("general", "alice")
	n.Join("general", "bob")
	ctx := ctxFor(t)
	info, err := c.ChatInfo(ctx, "general")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "General" || info.Topic != "all things" || !info.Public || len(info.Members) != 2 || info.Members[0] != "alice" {
		t.Errorf("ChatInfo = %+v", info)
	}
	ui, err := c.UserInfo(ctx, "bob")
	if err != nil || ui.DisplayName != "Bob" {
		t.Errorf("UserInfo(bob) = %+v, %v", ui, err)
	}
}

// A connector killed between Queue and ack gets the event again on restart;
// the bridge's dedup drops it. What is posted while no connector runs
// arrives after.
func TestRedeliveryAfterRestart(t *testing.T) {
	n, url := newNetwork(t)
	n.CreateChat("general", "General", true)
	host := NewFakeHost(t)

	held := make(chan struct{})
	host.SetQueueHook(func(ctx context.Context, e *connectors.RemoteEvent) error {
		if e.Message != nil && e.Message.Body == "hold" {
			close(held)
			<-ctx.Done() // persisted, but the connector dies before its ack
		}
		return nil
	})
	first := New("testnet", url)
	host.Network = "testnet"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := first.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	id := n.Post("general", "alice", "hold")
	<-held
	if err := first.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Acked() >= n.LastSeq() {
		t.Fatalf("acked %d of %d: the held event was acked", n.Acked(), n.LastSeq())
	}
	host.SetQueueHook(nil)
	n.Post("general", "alice", "while stopped")

	startConnector(t, New("testnet", url), host)
	host.WaitEvent(t, withBody("general", "while stopped"))
	host.WaitFor(t, "the held event dropped as a duplicate", func() bool {
		for _, e := range host.Dropped() {
			if e.ID == id {
				return true
			}
		}
		return false
	})
	if got := countMessages(host, "general", "hold"); got != 1 {
		t.Errorf("the held event was accepted %d times", got)
	}
	n.WaitFor(t, 0, "the ack to catch up", func(s Snapshot) bool { return s.Acked() == s.LastSeq() })
}

// Queue failing holds the stream at that event: it is retried, never skipped.
func TestQueueFailureRetries(t *testing.T) {
	n, url := newNetwork(t)
	n.CreateChat("general", "General", true)
	host := NewFakeHost(t)
	failures := 2
	host.SetQueueHook(func(_ context.Context, e *connectors.RemoteEvent) error {
		if e.Message != nil && e.Message.Body == "flaky" && failures > 0 {
			failures--
			return errors.New("database busy")
		}
		return nil
	})
	startConnector(t, New("testnet", url), host)
	n.Post("general", "alice", "flaky")
	n.Post("general", "alice", "after")
	host.WaitEvent(t, withBody("general", "after"))
	var bodies []string
	for _, e := range host.Events() {
		if e.Type == connectors.EventMessage {
			bodies = append(bodies, e.Message.Body)
		}
	}
	if strings.Join(bodies, ",") != "flaky,after" {
		t.Errorf("queued %v, want flaky then after", bodies)
	}
}

func TestLogin(t *testing.T) {
	n, c, host := started(t)
	n.AddUser("alice", "s3cret")
	ctx := ctxFor(t)
	mu := &connectors.MatrixUser{ID: "@alice:example.org", DisplayName: "Alice M"}

	for _, args := range [][]string{{"alice", "wrong-pass"}, {"nobody", "s3cret"}, {"alice"}} {
		_, err := c.Login(ctx, mu, args)
		if err == nil {
			t.Fatalf("Login(%q) succeeded", args)
		}
		if len(args) == 2 && strings.Contains(err.Error(), args[1]) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	login, err := c.Login(ctx, mu, []string{"alice", "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if login.UserID != mu.ID || login.ID != "alice" || login.RemoteUser != "alice" || len(login.Secret) == 0 || !strings.Contains(login.Name, "alice") {
		t.Errorf("login = %+v", login)
	}
	if err := host.SaveLogin(ctx, login); err != nil {
		t.Fatal(err)
	}
	mu.Logins = []*connectors.Login{login}

	reply, err := c.Commands()[0].Run(ctx, &connectors.CommandCall{User: mu})
	if err != nil || !strings.Contains(reply, "alice (Alice)") {
		t.Errorf("whoami = %q, %v", reply, err)
	}
	reply, err = c.Commands()[0].Run(ctx, &connectors.CommandCall{User: &connectors.MatrixUser{ID: "@bob:example.org"}})
	if err != nil || !strings.Contains(reply, "not logged in") {
		t.Errorf("whoami without login = %q, %v", reply, err)
	}

	cl, err := c.ClientFor(ctx, mu)
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.SendMessage(ctx, "general", &connectors.Message{Body: "as alice", Relayed: &connectors.Sender{ID: mu.ID}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := n.Message(id)
	if m.Sender != "alice" || m.Via.Client != "testnet" || m.Via.Session == "" || m.Via.Bot || m.RelayedFor != "" {
		t.Errorf("stored %+v", m)
	}
	if !slicesContains(n.Members("general"), "alice") {
		t.Error("sending to a public chat did not join it")
	}
	barrier(t, n, host, "general")
	for _, e := range host.Events() {
		if e.Sender == "alice" {
			t.Errorf("alice's own event through the connector was queued: %+v", e)
		}
	}

	// A password change ends the session: the connector hears of it.
	mark := len(host.States())
	n.SetPassword("alice", "changed")
	host.WaitState(t, mark, func(s connectors.State) bool {
		return s.Event == connectors.StateBadCredentials && s.UserID == mu.ID && s.Login == "alice"
	})
	_, err = cl.SendMessage(ctx, "general", &connectors.Message{Body: "again"})
	if ok, _ := connectors.Retryable(err); err == nil || ok {
		t.Errorf("send with an ended session: %v, want a final error", err)
	}

	// Logout ends the token.
	login2, err := c.Login(ctx, mu, []string{"alice", "changed"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx, login2); err != nil {
		t.Fatal(err)
	}
	if err := c.call(ctx, string(login2.Secret), "GET", "/whoami", nil, nil, nil); !errors.Is(err, errBadToken) {
		t.Errorf("whoami after logout: %v", err)
	}
	host.WaitState(t, 0, func(s connectors.State) bool { return s.Event == connectors.StateLoggedOut && s.UserID == mu.ID })
}

func slicesContains(s []connectors.RemoteUserID, v connectors.RemoteUserID) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// At start (and each reconnect) stored logins are checked.
func TestLoginStatesAtStart(t *testing.T) {
	n, url := newNetwork(t)
	n.AddUser("alice", "pw")
	c := New("testnet", url)
	host := NewFakeHost(t)
	ctx := ctxFor(t)
	good, err := c.Login(ctx, &connectors.MatrixUser{ID: "@alice:example.org"}, []string{"alice", "pw"})
	if err != nil {
		t.Fatal(err)
	}
	bad := &connectors.Login{UserID: "@bob:example.org", ID: "bob", RemoteUser: "bob", Secret: []byte("revoked")}
	for _, l := range []*connectors.Login{good, bad} {
		if err := host.SaveLogin(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	startConnector(t, c, host)
	host.WaitState(t, 0, func(s connectors.State) bool {
		return s.UserID == "@alice:example.org" && s.Event == connectors.StateConnected
	})
	host.WaitState(t, 0, func(s connectors.State) bool {
		return s.UserID == "@bob:example.org" && s.Event == connectors.StateBadCredentials
	})
}

func TestBadBotToken(t *testing.T) {
	_, url := newNetwork(t)
	c := FromSection("testnet", &Section{URL: url, BotToken: "wrong"})
	host := NewFakeHost(t)
	host.Network = "testnet"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	host.WaitState(t, 0, func(s connectors.State) bool { return s.UserID == "" && s.Event == connectors.StateBadCredentials })
}

// Down at start: CONNECTING, TRANSIENT_DISCONNECT, then CONNECTED.
func TestStartWhileDown(t *testing.T) {
	n, url := newNetwork(t)
	n.SetDown(true)
	c := New("testnet", url)
	host := NewFakeHost(t)
	host.Network = "testnet"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	host.WaitState(t, 0, func(s connectors.State) bool { return s.Event == connectors.StateTransientDisconnect })
	n.SetDown(false)
	waitConnected(t, host, 0)
	var events []connectors.StateEvent
	for _, s := range host.States() {
		events = append(events, s.Event)
	}
	want := []connectors.StateEvent{connectors.StateConnecting, connectors.StateTransientDisconnect, connectors.StateConnected}
	if len(events) != 3 || events[0] != want[0] || events[1] != want[1] || events[2] != want[2] {
		t.Errorf("states %v, want %v", events, want)
	}
}

func TestStartStopEdges(t *testing.T) {
	_, url := newNetwork(t)
	c := New("testnet", url)
	if err := c.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
	host := NewFakeHost(t)
	startConnector(t, c, host)
	if err := c.Start(context.Background(), host); err == nil {
		t.Error("a second Start succeeded")
	}
}

func TestMemberSyncer(t *testing.T) {
	n, c, host := started(t)
	n.AddUser("alice", "pw")
	n.CreateChat("private", "Private", false)
	ctx := ctxFor(t)
	mu := &connectors.MatrixUser{ID: "@alice:example.org"}
	login, err := c.Login(ctx, mu, []string{"alice", "pw"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Logins = []*connectors.Login{login}
	cl, _ := c.ClientFor(ctx, mu)
	ms := cl.(connectors.MemberSyncer)
	if err := ms.JoinChat(ctx, "general"); err != nil {
		t.Fatal(err)
	}
	if !slicesContains(n.Members("general"), "alice") {
		t.Errorf("members %v", n.Members("general"))
	}
	if err := ms.JoinChat(ctx, "private"); err == nil || errors.Is(err, connectors.ErrUnavailable) {
		t.Errorf("join a private chat: %v, want a final error", err)
	}
	if err := ms.LeaveChat(ctx, "general", "bye"); err != nil {
		t.Fatal(err)
	}
	if slicesContains(n.Members("general"), "alice") {
		t.Errorf("members after leave %v", n.Members("general"))
	}
	barrier(t, n, host, "general")
	for _, e := range host.Events() {
		if e.Sender == "alice" {
			t.Errorf("alice's own join or leave was queued: %+v", e)
		}
	}
}

func TestParseChatRef(t *testing.T) {
	c := New("testnet", "http://127.0.0.1:1")
	for _, tc := range []struct {
		args []string
		want connectors.PortalID
		ok   bool
	}{
		{[]string{"general"}, "general", true},
		{[]string{"dev=ops+1"}, "dev=ops+1", true},
		{[]string{"General"}, "", false},
		{[]string{"a/b"}, "", false},
		{[]string{"general", "extra"}, "", false},
		{nil, "", false},
	} {
		got, err := c.ParseChatRef(tc.args)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseChatRef(%q) = %q, %v", tc.args, got, err)
		}
	}
}

func TestSectionValidate(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8090", true},
		{"https://net.example.org/base", true},
		{"", false},
		{"127.0.0.1:8090", false},
		{"ftp://127.0.0.1", false},
		{"http://", false},
		{"http://user:pw@127.0.0.1", false},
	} {
		err := (&Section{URL: tc.url}).Validate()
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v", tc.url, err)
		}
	}
	c := FromSection("testa", &Section{URL: "http://127.0.0.1:8090/", BotToken: "tok"})
	if c.Info().Name != "testa" || c.Info().DisplayName != "Test network testa" || c.url != "http://127.0.0.1:8090" || c.botToken != "tok" {
		t.Errorf("FromSection: %+v", c.Info())
	}
}

func TestNoIDMapper(t *testing.T) {
	var c connectors.Connector = New("testnet", "http://127.0.0.1:1")
	if _, ok := c.(connectors.IDMapper); ok {
		t.Error("the test connector must leave ids to the bridge")
	}
}
