package irc

import (
	"context"
	"testing"
	"time"

	"switchboard/connectors/connectortest"
	"switchboard/connectors/irc/irctest"
)

// liveConnector runs the connector against a real IRC server with a fake
// bridge host.
func liveConnector(t *testing.T, srv *irctest.Server) (*Connector, *connectortest.FakeHost) {
	t.Helper()
	s := NewSection()
	s.Enabled = true
	s.Networks = []NetworkConfig{{ID: "test", Server: srv.Addr, BotNick: "switchboard", Flood: Flood{LinesPerSecond: 0, Burst: 1}}}
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
