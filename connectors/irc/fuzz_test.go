package irc

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lrstanley/girc"

	"switchboard/connectors"
	"switchboard/connectors/connectortest"
)

// offlineNetwork is a network whose bot is not connected, for feeding it
// IRC lines by hand.
func offlineNetwork(t *testing.T) (*network, *connectortest.FakeHost) {
	t.Helper()
	c := testConnector(t)
	host := connectortest.NewFakeHost(t)
	host.Network = "irc"
	c.host, c.log = host, host.Log()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	t.Cleanup(c.cancel)
	n := c.networks["libera"]
	n.log = c.log
	n.bot = newConn(n, connOptions{nick: "switchboard", ident: "sb", realName: "bot", handle: n.handleBot})
	n.bot.channels["#chat"] = "#chat"
	n.ownNick(n.bot, "switchboard")
	return n, host
}

// drain hands what the handlers queued to the host, as the dispatcher
// would.
func drain(n *network) {
	var batch []*connectors.RemoteEvent
	for len(n.events) > 0 {
		batch = append(batch, <-n.events)
	}
	n.handOver(context.Background(), batch)
}

// FuzzIRCLine feeds arbitrary lines, as the server would send them, to the
// bot's handler: nothing panics, and what reaches the bridge is valid.
func FuzzIRCLine(f *testing.F) {
	for _, seed := range []string{
		":bob!b@h PRIVMSG #chat :hello",
		"@msgid=abc;time=2026-01-01T00:00:00.000Z :bob!b@h PRIVMSG #chat :\x02bold\x02 \x0304red",
		":bob!b@h PRIVMSG #chat :\x01ACTION waves\x01",
		":bob!b@h NOTICE #chat :notice",
		"@+draft/react=👍;+draft/reply=abc :bob!b@h TAGMSG #chat",
		"@+typing=active :bob!b@h TAGMSG #chat",
		":bob!b@h JOIN #chat",
		":bob!b@h PART #chat :bye",
		":op!o@h KICK #chat bob :out",
		":bob!b@h QUIT :a.example b.example",
		":bob!b@h NICK robert",
		":bob!b@h TOPIC #chat :new \x1ftopic",
		":bob!b@h REDACT #chat abc",
		":bob!b@h PRIVMSG switchboard :yes",
		":bob!b@h PRIVMSG #chat :bad \xff\xfe utf8",
		":bob!b@h PRIVMSG #chat :alice[m]: ping",
		":irc.test 366 switchboard #chat :End of /NAMES list.",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		n, host := offlineNetwork(t)
		e := girc.ParseEvent(line)
		if e == nil {
			return
		}
		n.handleBot(n.bot, e)
		drain(n)
		for _, evt := range host.Events() {
			checkRemoteEvent(t, evt)
		}
	})
}

func checkRemoteEvent(t *testing.T, evt *connectors.RemoteEvent) {
	t.Helper()
	if evt.Chat != "" {
		if _, ok := parseChat(evt.Chat); !ok {
			t.Errorf("event in unparsable chat %q", evt.Chat)
		}
	}
	if m := evt.Message; m != nil {
		if !utf8.ValidString(m.Body) || !utf8.ValidString(m.HTML) {
			t.Errorf("invalid UTF-8 in %+v", m)
		}
		if strings.ContainsAny(m.Body, "\x00\x01\x02\x03\x04\x0f\x11\x16\x1d\x1e\x1f") {
			t.Errorf("formatting codes left in body %q", m.Body)
		}
	}
	if !utf8.ValidString(evt.Text) || !utf8.ValidString(evt.Reason) {
		t.Errorf("invalid UTF-8 in text %q / reason %q", evt.Text, evt.Reason)
	}
}

// TestBotLinesBecomeEvents checks the conversions the fuzz test only
// keeps from crashing.
func TestBotLinesBecomeEvents(t *testing.T) {
	n, host := offlineNetwork(t)
	for _, line := range []string{
		"@msgid=m1 :Bob!b@h PRIVMSG #chat :\x02hi\x02 there",
		":bob!b@h PRIVMSG #chat :\x01ACTION waves\x01",
		":bob!b@h NOTICE #Chat :careful",
		":bob!b@h PRIVMSG #elsewhere :not bridged",
		":switchboard!s@h PRIVMSG #chat :the bot's own line",
		"@+draft/react=👍;+draft/reply=m1 :carol!c@h TAGMSG #chat",
		":bob!b@h TOPIC #chat :a \x02topic",
		":bob!b@h PART #chat :bye",
		":op!o@h KICK #chat carol :out",
	} {
		n.handleBot(n.bot, girc.ParseEvent(line))
	}
	drain(n)
	evts := host.Events()
	want := []struct {
		typ    connectors.EventType
		sender connectors.RemoteUserID
		check  func(*connectors.RemoteEvent) bool
	}{
		{connectors.EventMessage, "libera/bob", func(e *connectors.RemoteEvent) bool {
			return e.ID == "m1" && e.Message.Body == "hi there" && strings.Contains(e.Message.HTML, "<b>hi</b>") && e.SenderName == "Bob"
		}},
		{connectors.EventMessage, "libera/bob", func(e *connectors.RemoteEvent) bool {
			return e.Message.MsgType == "m.emote" && e.Message.Body == "waves" && strings.HasPrefix(string(e.ID), "sb-")
		}},
		{connectors.EventMessage, "libera/bob", func(e *connectors.RemoteEvent) bool {
			return e.Message.MsgType == "m.notice" && e.Chat == "libera/#chat"
		}},
		{connectors.EventReaction, "libera/carol", func(e *connectors.RemoteEvent) bool { return e.Target == "m1" && e.Text == "👍" }},
		{connectors.EventTopic, "libera/bob", func(e *connectors.RemoteEvent) bool { return e.Text == "a topic" }},
		{connectors.EventLeave, "libera/bob", func(e *connectors.RemoteEvent) bool { return e.Reason == "bye" }},
		{connectors.EventLeave, "libera/carol", func(e *connectors.RemoteEvent) bool { return e.Reason == "out" && e.Kicker == "libera/op" }},
	}
	if len(evts) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(evts), len(want), evts)
	}
	for i, w := range want {
		e := evts[i]
		if e.Type != w.typ || e.Sender != w.sender || !w.check(e) {
			t.Errorf("event %d: %+v (message %+v)", i, e, e.Message)
		}
	}
}
