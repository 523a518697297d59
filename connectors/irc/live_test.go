package irc

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/connectors"
	"switchboard/connectors/connectortest"
	"switchboard/connectors/irc/irctest"
	"switchboard/internal/config"
)

// liveConnector runs the connector against a real IRC server with a fake
// bridge host.
func liveConnector(t *testing.T, srv *irctest.Server, adjust ...func(*NetworkConfig)) (*Connector, *connectortest.FakeHost) {
	t.Helper()
	s := NewSection()
	s.Enabled = true
	s.Networks = []NetworkConfig{{ID: "test", Server: srv.Addr, BotNick: "switchboard", Flood: Flood{LinesPerSecond: 0, Burst: 1}}}
	for _, fn := range adjust {
		fn(&s.Networks[0])
	}
	c, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	host := connectortest.NewFakeHost(t)
	host.Network = "irc"
	if err := c.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return c, host
}

// TestChatInfoOfAChannel: the bot joins to describe a channel: its topic,
// whether it is public, and who is in it.
func TestChatInfoOfAChannel(t *testing.T) {
	for _, kind := range []irctest.Kind{irctest.InspIRCd, irctest.Ngircd} {
		t.Run(string(kind), func(t *testing.T) {
			srv := irctest.Start(t, irctest.Options{Kind: kind})
			bob := irctest.Dial(t, srv.Addr, "bob")
			bob.Join("#info")
			bob.Send("TOPIC #info :the topic")
			bob.Expect(10*time.Second, "topic set", irctest.Command("TOPIC"))
			bob.Join("#secret")
			bob.Send("MODE #secret +k key")
			bob.Expect(10*time.Second, "key set", irctest.Command("MODE"))

			c, _ := liveConnector(t, srv)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			info, err := c.ChatInfo(ctx, "test/#info")
			if err != nil {
				t.Fatal(err)
			}
			if info.Topic != "the topic" || !info.Public || info.HistoryVisibility != "joined" || len(info.Members) != 1 || info.Members[0] != "test/bob" {
				t.Errorf("ChatInfo = %+v", info)
			}
			if _, err := c.ChatInfo(ctx, "test/#secret"); err == nil {
				t.Error("ChatInfo of a keyed channel the bot cannot join succeeded")
			}
		})
	}
}

// TestIdleConnectionsClose: a Matrix user's connection quits after
// idle_timeout without a message from them, and is remembered as idle so a
// restart does not reopen it.
func TestIdleConnectionsClose(t *testing.T) {
	srv := irctest.Start(t, irctest.Options{Kind: irctest.Ngircd})
	watcher := irctest.Dial(t, srv.Addr, "watcher")
	watcher.Join("#idle")
	c, host := liveConnector(t, srv, func(n *NetworkConfig) { n.IdleTimeout = config.Duration(2 * time.Second) })
	ctx := context.Background()
	client, err := c.ClientFor(ctx, &connectors.MatrixUser{ID: "@sleepy:example.org", DisplayName: "sleepy"})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.(connectors.MemberSyncer).JoinChat(ctx, "test/#idle"); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(20*time.Second, "sleepy joins", irctest.Joined("sleepy[m]", "#idle"))
	watcher.Expect(20*time.Second, "sleepy quits idle", func(m *irctest.Message) bool {
		return m.Command == "QUIT" && m.Nick() == "sleepy[m]" && strings.Contains(m.Last(), "Idle")
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		logins, _ := host.Logins(ctx)
		if len(logins) == 1 && strings.Contains(string(logins[0].Secret), `"idle":true`) &&
			strings.Contains(string(logins[0].Secret), "#idle") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored login %+v", logins)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPacingKeepsBelowFakelag: with the server's flood penalties on, a
// burst of lines from Matrix is paced by flood.lines_per_second and all of
// it arrives, in order, without the connection being dropped for flooding.
func TestPacingKeepsBelowFakelag(t *testing.T) {
	srv := irctest.Start(t, irctest.Options{Kind: irctest.Ngircd, Fakelag: true})
	watcher := irctest.Dial(t, srv.Addr, "watcher")
	watcher.Join("#paced")
	c, _ := liveConnector(t, srv, func(n *NetworkConfig) { n.Flood, n.MaxLines = Flood{LinesPerSecond: 2, Burst: 5}, 20 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := c.ClientFor(ctx, &connectors.MatrixUser{ID: "@chatty:example.org", DisplayName: "chatty"})
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]string, 15)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d", i)
	}
	began := time.Now()
	if _, err := client.SendMessage(ctx, "test/#paced", &connectors.Message{MsgType: "m.text", Body: strings.Join(lines, "\n")}); err != nil {
		t.Fatal(err)
	}
	// 15 lines with a burst of 5 at 2 a second: the last 10 wait 5 s.
	if took := time.Since(began); took < 4*time.Second {
		t.Errorf("15 lines went out in %v: not paced", took)
	}
	for _, line := range lines {
		watcher.Expect(30*time.Second, line, irctest.Privmsg("chatty[m]", "#paced", line))
	}
	watcher.ExpectNone(time.Second, "chatty dropped for flooding", irctest.Quit("chatty[m]"))
}
