package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lrstanley/girc"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/irc"
	"switchboard/connectors/irc/irctest"
	"switchboard/internal/database/dbtest"
)

// reconnectWait bounds waits for connections to come back after the IRC
// server restarted: reconnects back off (1 s, 2 s, 4 s, ... with jitter)
// while the server is still starting, longer on a loaded machine.
const reconnectWait = 60 * time.Second

// ircNet is the IRC network id the tests configure.
const ircNet = "test"

// ircWorld is the built-in homeserver with the IRC bridge, pointed at a
// real IRC server.
type ircWorld struct {
	*world
	srv *irctest.Server
}

// ircOptions shape an IRC world.
type ircOptions struct {
	kind irctest.Kind
	// network adjusts bridges.irc.networks[0].
	network func(*irc.NetworkConfig)
	world   worldOptions
}

// newIRCWorld starts an IRC server of kind and the bridge to it, with
// pacing off (the test servers have no flood limits) and #chat bridged at
// start.
func newIRCWorld(t *testing.T, o ircOptions) *ircWorld {
	t.Helper()
	srv := irctest.Start(t, irctest.Options{Kind: o.kind})
	cfg := irc.NetworkConfig{ID: ircNet, Name: "Test IRC", Server: srv.Addr, BotNick: "switchboard",
		Channels: []string{"#chat"}, Flood: irc.Flood{LinesPerSecond: 0, Burst: 1}, LinkConsent: "ops"}
	if o.network != nil {
		o.network(&cfg)
	}
	section := irc.NewSection()
	section.Enabled = true
	section.Networks = []irc.NetworkConfig{cfg}
	opts := o.world
	opts.connectors = map[string]func() connectors.Connector{"irc": func() connectors.Connector {
		c, err := irc.New(section)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}}
	w := newWorld(t, dbtest.SQLite(t), opts, "irc")
	return &ircWorld{world: w, srv: srv}
}

// forEachIRCServer runs fn against InspIRCd (full IRCv3) and ngircd (plain
// IRC, where the fallbacks are used).
func forEachIRCServer(t *testing.T, fn func(t *testing.T, kind irctest.Kind)) {
	for _, kind := range []irctest.Kind{irctest.InspIRCd, irctest.Ngircd} {
		t.Run(string(kind), func(t *testing.T) { fn(t, kind) })
	}
}

func (w *ircWorld) ircAlias(channel string) string {
	return "#irc_" + ircNet + "_" + strings.ToLower(channel) + ":" + serverName
}

func (w *ircWorld) ircPuppet(nick string) id.UserID {
	return id.NewUserID("irc_"+ircNet+"_"+connectors.EscapeLocalpart(girc.ToRFC1459(nick)), serverName)
}

// ircUser connects a raw IRC client that joins channel.
func (w *ircWorld) ircUser(nick, channel string, caps ...string) *irctest.Client {
	w.t.Helper()
	c := irctest.Dial(w.t, w.srv.Addr, nick, caps...)
	if channel != "" {
		c.Join(channel)
	}
	return c
}

// joinPortal has u join channel's portal and waits until their own IRC
// connection is in the channel, as seen by watcher.
func (w *ircWorld) joinPortal(u *user, channel, nick string, watcher *irctest.Client) id.RoomID {
	w.t.Helper()
	room := u.join(w.ircAlias(channel))
	if watcher != nil {
		watcher.Expect(defaultWait, nick+" joins "+channel, func(m *irctest.Message) bool {
			return m.Command == "JOIN" && strings.EqualFold(m.Nick(), nick) && strings.EqualFold(m.Params[0], channel)
		})
	}
	return room
}

// privmsgFrom matches a PRIVMSG from nick to target whose text holds text.
func privmsgFrom(nick, target, text string) func(*irctest.Message) bool {
	return func(m *irctest.Message) bool {
		return m.Command == "PRIVMSG" && strings.EqualFold(m.Nick(), nick) && len(m.Params) == 2 &&
			strings.EqualFold(m.Params[0], target) && strings.Contains(m.Params[1], text)
	}
}

// waitMember waits for user's membership in room to become membership.
func (u *user) waitMember(room id.RoomID, who id.UserID, membership event.Membership) *event.Event {
	u.t.Helper()
	return u.waitEvent(room, string(who)+" "+string(membership), func(e *event.Event) bool {
		return e.Type == event.StateMember && e.GetStateKey() == string(who) && e.Content.AsMember().Membership == membership
	})
}

// sendHTML sends a formatted message.
func (u *user) sendHTML(room id.RoomID, body, html string) id.EventID {
	u.t.Helper()
	resp, err := u.c.SendMessageEvent(context.Background(), room, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: body, Format: event.FormatHTML, FormattedBody: html})
	if err != nil {
		u.t.Fatalf("send: %v", err)
	}
	return resp.EventID
}

// settle gives the bridge a moment to act on something that should have no
// effect, before a test checks that it had none.
func settle() { time.Sleep(500 * time.Millisecond) }

// waitInvite syncs until u is invited to a room they have not seen, and
// returns it.
func (u *user) waitInvite() id.RoomID {
	u.t.Helper()
	u.mu.Lock()
	seen := map[id.RoomID]bool{}
	for r := range u.invite {
		seen[r] = true
	}
	u.mu.Unlock()
	deadline := time.Now().Add(defaultWait)
	for time.Now().Before(deadline) {
		u.sync(time.Second)
		u.mu.Lock()
		for r := range u.invite {
			if !seen[r] {
				u.mu.Unlock()
				return r
			}
		}
		u.mu.Unlock()
	}
	u.t.Fatal("no invite")
	return ""
}

// roomWithBot creates a room of u's own and invites network's bot, for the
// link command.
func (u *user) roomWithBot(w *world, network string) id.RoomID {
	u.t.Helper()
	resp, err := u.c.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "Linked",
		Invite: []id.UserID{w.bot(network)}})
	if err != nil {
		u.t.Fatal(err)
	}
	u.waitMember(resp.RoomID, w.bot(network), event.MembershipJoin)
	return resp.RoomID
}

// waitBotIn waits until the bridge's bot is in channel, asking the server
// for the channel's names until it is listed (a JOIN seen before the
// watcher joined is not in the watcher's lines).
func waitBotIn(t *testing.T, c *irctest.Client, channel string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c.Send("NAMES " + channel)
		m, err := c.Wait(5*time.Second, func(m *irctest.Message) bool {
			return m.Command == "353" && len(m.Params) > 3 && strings.EqualFold(m.Params[2], channel)
		})
		if err == nil && slices.Contains(strings.Fields(strings.NewReplacer("@", "", "+", "").Replace(m.Last())), "switchboard") {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the bot is not back in %s after %v", channel, timeout)
}

// hasMembership reports whether events hold who's membership change to m.
func hasMembership(events []*event.Event, who id.UserID, m event.Membership) bool {
	for _, e := range events {
		if e.Type == event.StateMember && e.GetStateKey() == string(who) && e.Content.AsMember().Membership == m {
			return true
		}
	}
	return false
}
