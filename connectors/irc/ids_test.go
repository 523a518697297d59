package irc

import (
	"testing"

	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
)

func testConnector(t *testing.T) *Connector {
	t.Helper()
	c, err := New(validSection())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPuppetLocalparts(t *testing.T) {
	c := testConnector(t)
	tests := []struct {
		nick, want string
	}{
		{"bob", "irc_libera_bob"},
		{"Bob", "irc_libera_bob"},
		{"bob[away]", "irc_libera_bob=7baway=7d"}, // IRC's own lower case: [ is {
		{"b|x^_-", "irc_libera_b=7cx=7e_-"},
		{"`tick", "irc_libera_=60tick"},
	}
	for _, tc := range tests {
		user := remoteUser("libera", tc.nick)
		got := c.PuppetLocalpart(user)
		if got != tc.want {
			t.Errorf("PuppetLocalpart(%q) = %q, want %q", tc.nick, got, tc.want)
		}
		back, ok := c.ParsePuppetLocalpart(got)
		if !ok || back != user {
			t.Errorf("ParsePuppetLocalpart(%q) = %q, %v; want %q", got, back, ok, user)
		}
	}
	for _, bad := range []string{"irc_oftc_bob", "irc_libera_", "irc_libera_9bob", "irc_libera_BOB", "xmpp_bob", "irc_libera_=zz"} {
		if u, ok := c.ParsePuppetLocalpart(bad); ok {
			t.Errorf("ParsePuppetLocalpart(%q) = %q, want not ours", bad, u)
		}
	}
}

func TestAliasLocalparts(t *testing.T) {
	c := testConnector(t)
	chat := channelChat("libera", "#Go-Nuts")
	if got := c.AliasLocalpart(chat); got != "irc_libera_#go-nuts" {
		t.Errorf("AliasLocalpart = %q", got)
	}
	back, ok := c.ParseAliasLocalpart("irc_libera_#go-nuts")
	if !ok || back != chat {
		t.Errorf("ParseAliasLocalpart = %q, %v", back, ok)
	}
	for _, bad := range []string{"irc_libera_go-nuts", "irc_libera_#Go", "irc_oftc_#go", "irc_libera_#a b", "irc_libera_#"} {
		if p, ok := c.ParseAliasLocalpart(bad); ok {
			t.Errorf("ParseAliasLocalpart(%q) = %q, want refused", bad, p)
		}
	}
}

func TestChatIDs(t *testing.T) {
	dm := directChat("libera", "Bob", id.UserID("@alice:example.org"))
	if dm != "libera/bob/@alice:example.org" {
		t.Errorf("direct chat id %q", dm)
	}
	ref, ok := parseChat(dm)
	if !ok || ref.nick != "bob" || ref.user != "@alice:example.org" || ref.channel != "" {
		t.Errorf("parseChat(%q) = %+v, %v", dm, ref, ok)
	}
	ref, ok = parseChat("libera/#a/b")
	if !ok || ref.channel != "#a/b" {
		t.Errorf("a channel with a slash: %+v, %v", ref, ok)
	}
	for _, bad := range []connectors.PortalID{"libera", "libera/", "libera/bob", "libera/bob/alice", "libera/#a b"} {
		if ref, ok := parseChat(bad); ok {
			t.Errorf("parseChat(%q) = %+v, want refused", bad, ref)
		}
	}
}

func TestParseChatRef(t *testing.T) {
	c := testConnector(t)
	if chat, err := c.ParseChatRef([]string{"#Chat"}); err != nil || chat != "libera/#chat" {
		t.Errorf("one network, channel only: %q, %v", chat, err)
	}
	if chat, err := c.ParseChatRef([]string{"libera", "#chat"}); err != nil || chat != "libera/#chat" {
		t.Errorf("network and channel: %q, %v", chat, err)
	}
	for _, bad := range [][]string{{"oftc", "#chat"}, {"libera", "chat"}, {}, {"a", "b", "c"}} {
		if _, err := c.ParseChatRef(bad); err == nil {
			t.Errorf("ParseChatRef(%q) accepted", bad)
		}
	}
}
