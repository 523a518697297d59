package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors/irc"
	"switchboard/connectors/irc/ircfmt"
	"switchboard/connectors/irc/irctest"
	"switchboard/internal/config"
)

// TestIRCChannelBothWays: a configured channel is bridged at start; a
// Matrix user who joins its alias appears on IRC at once as their own nick,
// and text, notices, actions, formatting and mentions cross both ways
// without echoes. CR/LF in a Matrix message never reaches the wire as a
// command, long messages are split, and very long ones become a link.
func TestIRCChannelBothWays(t *testing.T) {
	forEachIRCServer(t, func(t *testing.T, kind irctest.Kind) {
		w := newIRCWorld(t, ircOptions{kind: kind})
		bob := w.ircUser("bob", "#chat")
		alice := w.newUser("alice")
		room := w.joinPortal(alice, "#chat", "alice[m]", bob)

		alice.waitEvent(room, "history visibility joined", func(e *event.Event) bool {
			return e.Type == event.StateHistoryVisibility && e.Content.AsHistoryVisibility().HistoryVisibility == event.HistoryVisibilityJoined
		})
		joinRule := alice.waitEvent(room, "join rule", func(e *event.Event) bool { return e.Type == event.StateJoinRules })
		if joinRule.Content.AsJoinRules().JoinRule != event.JoinRulePublic {
			t.Errorf("portal join rule %s, want public", joinRule.Content.AsJoinRules().JoinRule)
		}

		bob.Privmsg("#chat", "hello from IRC")
		got := alice.waitText(room, w.ircPuppet("bob"), "hello from IRC")
		if m := got.Content.AsMessage(); m.MsgType != event.MsgText || m.Body != "hello from IRC" {
			t.Errorf("IRC line arrived as %s %q", m.MsgType, m.Body)
		}
		profile, err := alice.c.GetProfile(context.Background(), w.ircPuppet("bob"))
		if err != nil || profile.DisplayName != "bob" {
			t.Errorf("puppet profile %+v, %v; want display name bob", profile, err)
		}

		alice.send(room, "hello from Matrix")
		bob.Expect(defaultWait, "alice's line", privmsgFrom("alice[m]", "#chat", "hello from Matrix"))

		bob.Send("NOTICE #chat :a notice")
		if m := alice.waitText(room, w.ircPuppet("bob"), "a notice").Content.AsMessage(); m.MsgType != event.MsgNotice {
			t.Errorf("NOTICE arrived as %s", m.MsgType)
		}
		bob.Send("PRIVMSG #chat :\x01ACTION waves\x01")
		if m := alice.waitText(room, w.ircPuppet("bob"), "waves").Content.AsMessage(); m.MsgType != event.MsgEmote || m.Body != "waves" {
			t.Errorf("ACTION arrived as %s %q", m.MsgType, m.Body)
		}
		if _, err := alice.c.SendMessageEvent(context.Background(), room, event.EventMessage,
			&event.MessageEventContent{MsgType: event.MsgEmote, Body: "dances"}); err != nil {
			t.Fatal(err)
		}
		bob.Expect(defaultWait, "alice's action", privmsgFrom("alice[m]", "#chat", "\x01ACTION dances\x01"))

		bob.Privmsg("#chat", "\x02bold\x02 and \x0304red")
		m := alice.waitText(room, w.ircPuppet("bob"), "bold and red").Content.AsMessage()
		if !strings.Contains(m.FormattedBody, "<b>bold</b>") || !strings.Contains(m.FormattedBody, "#ff0000") {
			t.Errorf("mIRC formatting became %q", m.FormattedBody)
		}
		alice.sendHTML(room, "strong it", "<b>strong</b> <i>it</i>")
		formatted := bob.Expect(defaultWait, "alice's formatting", privmsgFrom("alice[m]", "#chat", "it"))
		if _, html := ircfmt.ToMatrix(formatted.Last()); !strings.Contains(html, "<b>strong") || !strings.Contains(html, "<i>it</i>") {
			t.Errorf("formatting reached IRC as %q", formatted.Last())
		}

		bob.Privmsg("#chat", "alice[m]: ping")
		m = alice.waitText(room, w.ircPuppet("bob"), "ping").Content.AsMessage()
		if m.Mentions == nil || !m.Mentions.Has(alice.id) || !strings.Contains(m.FormattedBody, "matrix.to/#/"+string(alice.id)) {
			t.Errorf("nick: mention became mentions %+v, html %q", m.Mentions, m.FormattedBody)
		}
		alice.sendHTML(room, "bob: pong", `<a href="https://matrix.to/#/`+string(w.ircPuppet("bob"))+`">bob</a>: pong`)
		bob.Expect(defaultWait, "pill as nick", privmsgFrom("alice[m]", "#chat", "bob: pong"))

		// CR/LF inside a Matrix message are line breaks, never commands.
		alice.send(room, "one\r\nQUIT :bye\nJOIN #elsewhere")
		bob.Expect(defaultWait, "first line", privmsgFrom("alice[m]", "#chat", "one"))
		bob.Expect(defaultWait, "injected QUIT as text", privmsgFrom("alice[m]", "#chat", "QUIT :bye"))
		bob.Expect(defaultWait, "injected JOIN as text", privmsgFrom("alice[m]", "#chat", "JOIN #elsewhere"))
		bob.Privmsg("#chat", "still here?")
		alice.waitText(room, w.ircPuppet("bob"), "still here?")
		for _, line := range bob.Lines() {
			if strings.Contains(line, "QUIT") && !strings.Contains(line, "PRIVMSG") {
				t.Errorf("alice's connection quit: %q", line)
			}
		}

		// A long line is split at word boundaries into lines that fit.
		words := make([]string, 0, 300)
		for i := range 300 {
			words = append(words, "word"+string(rune('a'+i%26)))
		}
		long := strings.Join(words, " ")
		alice.send(room, long)
		var received []string
		for len(strings.Fields(strings.Join(received, " "))) < len(words) {
			msg := bob.Expect(defaultWait, "a piece of the long line", privmsgFrom("alice[m]", "#chat", "word"))
			if len(msg.Raw) > 512 {
				t.Errorf("line of %d bytes", len(msg.Raw))
			}
			received = append(received, msg.Last())
		}
		if got := strings.Join(strings.Fields(strings.Join(received, " ")), " "); got != long {
			t.Errorf("long line reassembled differs:\n%q\nwant\n%q", got, long)
		}

		// More lines than max_lines become a link to the whole text.
		many := strings.Repeat("a line of a long paste\n", 30)
		alice.send(room, many)
		link := bob.Expect(defaultWait, "the link to the paste", privmsgFrom("alice[m]", "#chat", "full message: http"))
		url := link.Last()[strings.Index(link.Last(), "http"):]
		url = strings.TrimSuffix(url, ")")
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.TrimSpace(string(body)) != strings.TrimSpace(many) {
			t.Errorf("paste at %s holds %q", url, body)
		}

		// Nothing echoed: alice's room has her line once and bob's once.
		settle()
		alice.sync(0)
		counts := map[string]int{}
		for _, e := range alice.all(room) {
			if msg := e.Content.AsMessage(); e.Type == event.EventMessage && msg != nil {
				counts[msg.Body]++
			}
		}
		if counts["hello from Matrix"] != 1 || counts["hello from IRC"] != 1 {
			t.Errorf("echoes: %d × hello from Matrix, %d × hello from IRC", counts["hello from Matrix"], counts["hello from IRC"])
		}
	})
}

// TestIRCHostileInput: invalid UTF-8, colour-code bombs and lines at the
// server's limit from IRC arrive as valid, bounded Matrix messages, and
// the bridge keeps working.
func TestIRCHostileInput(t *testing.T) {
	w := newIRCWorld(t, ircOptions{kind: irctest.InspIRCd})
	bob := w.ircUser("bob", "#chat")
	alice := w.newUser("alice")
	room := w.joinPortal(alice, "#chat", "alice[m]", bob)

	bob.Send("PRIVMSG #chat :bad \xff\xfe bytes")
	m := alice.waitText(room, w.ircPuppet("bob"), "bytes").Content.AsMessage()
	if !utf8.ValidString(m.Body) || !strings.HasPrefix(m.Body, "bad ") {
		t.Errorf("invalid UTF-8 arrived as %q", m.Body)
	}
	bomb := strings.Repeat("\x0304,12\x02\x1d\x1f\x0f", 40) + "boom" // 400 bytes: fits a line
	bob.Send("PRIVMSG #chat :" + bomb)
	m = alice.waitText(room, w.ircPuppet("bob"), "boom").Content.AsMessage()
	if m.Body != "boom" || len(m.FormattedBody) > 200 {
		t.Errorf("colour bomb arrived as body %q, html of %d bytes", m.Body, len(m.FormattedBody))
	}
	full := strings.Repeat("x", 400)
	bob.Send("PRIVMSG #chat :" + full)
	alice.waitText(room, w.ircPuppet("bob"), full[:300])
	bob.Privmsg("#chat", "after the storm")
	alice.waitText(room, w.ircPuppet("bob"), "after the storm")
}

// TestIRCRelay: with per-user connections off, the bot speaks for Matrix
// users as "<nick> text".
func TestIRCRelay(t *testing.T) {
	forEachIRCServer(t, func(t *testing.T, kind irctest.Kind) {
		w := newIRCWorld(t, ircOptions{kind: kind, world: worldOptions{relay: true},
			network: func(n *irc.NetworkConfig) { n.PerUserConnections = new(false) }})
		bob := w.ircUser("bob", "#chat")
		alice := w.newUser("alice")
		room := alice.join(w.ircAlias("#chat"))
		alice.send(room, "relayed hello")
		bob.Expect(defaultWait, "relayed line", privmsgFrom("switchboard", "#chat", "<alice[m]> relayed hello"))
		if _, err := alice.c.SendMessageEvent(context.Background(), room, event.EventMessage,
			&event.MessageEventContent{MsgType: event.MsgEmote, Body: "waves"}); err != nil {
			t.Fatal(err)
		}
		bob.Expect(defaultWait, "relayed action", privmsgFrom("switchboard", "#chat", "* alice[m] waves"))
		bob.Privmsg("#chat", "hi relay")
		alice.waitText(room, w.ircPuppet("bob"), "hi relay")
		bob.ExpectNone(500e6, "a connection of alice's own", func(m *irctest.Message) bool {
			return m.Command == "JOIN" && strings.HasPrefix(m.Nick(), "alice")
		})
	})
}

// TestIRCNickCollision: a Matrix user whose nick is taken gets it with a
// suffix; the IRC user with the nick stays a puppet.
func TestIRCNickCollision(t *testing.T) {
	w := newIRCWorld(t, ircOptions{kind: irctest.InspIRCd})
	impostor := w.ircUser("alice[m]", "#chat")
	alice := w.newUser("alice")
	room := w.joinPortal(alice, "#chat", "alice[m]_", impostor)
	alice.send(room, "the real alice")
	impostor.Expect(defaultWait, "line from the suffixed nick", privmsgFrom("alice[m]_", "#chat", "the real alice"))
	impostor.Privmsg("#chat", "I have the nick")
	alice.waitText(room, w.ircPuppet("alice[m]"), "I have the nick")
}

// TestIRCMembership: IRC joins, parts, quits, kicks and nick changes move
// puppets; a Matrix user leaving the room parts the channel.
func TestIRCMembership(t *testing.T) {
	w := newIRCWorld(t, ircOptions{kind: irctest.InspIRCd})
	watcher := w.ircUser("watcher", "#chat")
	alice := w.newUser("alice")
	room := w.joinPortal(alice, "#chat", "alice[m]", watcher)

	carol := w.ircUser("carol", "#chat")
	alice.waitMember(room, w.ircPuppet("carol"), event.MembershipJoin)
	carol.Send("NICK caroline")
	alice.waitMember(room, w.ircPuppet("caroline"), event.MembershipJoin)
	alice.waitMember(room, w.ircPuppet("carol"), event.MembershipLeave)
	carol.Send("PART #chat :bye all")
	leave := alice.waitMember(room, w.ircPuppet("caroline"), event.MembershipLeave)
	if !strings.Contains(leave.Content.AsMember().Reason, "bye all") {
		t.Errorf("part reason %q", leave.Content.AsMember().Reason)
	}
	dave := w.ircUser("dave", "#chat")
	alice.waitMember(room, w.ircPuppet("dave"), event.MembershipJoin)
	dave.Send("QUIT :gone fishing")
	leave = alice.waitMember(room, w.ircPuppet("dave"), event.MembershipLeave)
	if !strings.Contains(leave.Content.AsMember().Reason, "gone fishing") {
		t.Errorf("quit reason %q", leave.Content.AsMember().Reason)
	}

	if _, err := alice.c.LeaveRoom(context.Background(), room); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(defaultWait, "alice parts", func(m *irctest.Message) bool {
		return m.Command == "PART" && m.Nick() == "alice[m]"
	})
}

// TestIRCTopic: topics cross both ways.
func TestIRCTopic(t *testing.T) {
	forEachIRCServer(t, func(t *testing.T, kind irctest.Kind) {
		w := newIRCWorld(t, ircOptions{kind: kind, network: func(n *irc.NetworkConfig) { n.LinkConsent = "none" }})
		bob := w.ircUser("bob", "#topics") // first in: op
		bob.Send("MODE #topics -t")
		bob.Send("TOPIC #topics :the first topic")
		bob.Expect(defaultWait, "topic set", func(m *irctest.Message) bool { return m.Command == "TOPIC" })
		alice := w.newUser("alice")
		room := w.joinPortal(alice, "#topics", "alice[m]", bob)
		alice.waitEvent(room, "topic at creation", func(e *event.Event) bool {
			return e.Type == event.StateTopic && e.Content.AsTopic().Topic == "the first topic"
		})
		bob.Send("TOPIC #topics :changed on IRC")
		alice.waitEvent(room, "topic from IRC", func(e *event.Event) bool {
			return e.Type == event.StateTopic && e.Content.AsTopic().Topic == "changed on IRC"
		})

		// Portal rooms keep room power with the bridge; a room of one's own
		// linked to a channel lets its admins set the topic.
		bob.Join("#topics2")
		bob.Send("MODE #topics2 -t")
		own := alice.roomWithBot(w.world, "irc")
		if answer := alice.command(w.world, "irc", own, "!irc link test #topics2"); !strings.Contains(answer, "Checking") {
			t.Errorf("link answered %q", answer)
		}
		alice.waitEvent(own, "linked", func(e *event.Event) bool {
			m := e.Content.AsMessage()
			return e.Sender == w.bot("irc") && m != nil && strings.Contains(m.Body, "now bridged")
		})
		if _, err := alice.c.SendStateEvent(context.Background(), own, event.StateTopic, "",
			&event.TopicEventContent{Topic: "changed on Matrix"}); err != nil {
			t.Fatal(err)
		}
		bob.Expect(defaultWait, "topic from Matrix", func(m *irctest.Message) bool {
			return m.Command == "TOPIC" && m.Nick() == "alice[m]" && m.Last() == "changed on Matrix"
		})
	})
}

// TestIRCEdits: a Matrix edit reaches IRC as a sed-style correction.
func TestIRCEdits(t *testing.T) {
	forEachIRCServer(t, func(t *testing.T, kind irctest.Kind) {
		w := newIRCWorld(t, ircOptions{kind: kind})
		bob := w.ircUser("bob", "#chat")
		alice := w.newUser("alice")
		room := w.joinPortal(alice, "#chat", "alice[m]", bob)
		orig := alice.send(room, "the quick brwn fox")
		bob.Expect(defaultWait, "original", privmsgFrom("alice[m]", "#chat", "brwn"))
		edit := &event.MessageEventContent{MsgType: event.MsgText, Body: "* the quick brown fox"}
		edit.SetEdit(orig)
		edit.NewContent = &event.MessageEventContent{MsgType: event.MsgText, Body: "the quick brown fox"}
		if _, err := alice.c.SendMessageEvent(context.Background(), room, event.EventMessage, edit); err != nil {
			t.Fatal(err)
		}
		bob.Expect(defaultWait, "correction", privmsgFrom("alice[m]", "#chat", "s/brwn/brown/"))
	})
}

// TestIRCDirectMessages: a private message to a Matrix user's nick opens a
// direct room with the sender's puppet, and a Matrix user who invites a
// puppet to a direct room reaches the nick privately.
func TestIRCDirectMessages(t *testing.T) {
	forEachIRCServer(t, func(t *testing.T, kind irctest.Kind) {
		w := newIRCWorld(t, ircOptions{kind: kind})
		bob := w.ircUser("bob", "#chat")
		alice := w.newUser("alice")
		w.joinPortal(alice, "#chat", "alice[m]", bob)

		bob.Privmsg("alice[m]", "psst, private")
		dm := alice.waitInvite()
		if _, err := alice.c.JoinRoom(context.Background(), string(dm), nil); err != nil {
			t.Fatal(err)
		}
		alice.waitText(dm, w.ircPuppet("bob"), "psst, private")
		alice.send(dm, "private answer")
		bob.Expect(defaultWait, "private answer", privmsgFrom("alice[m]", "bob", "private answer"))

		// Started from Matrix: invite carol's puppet to a direct room.
		carol := w.ircUser("carol", "")
		resp, err := alice.c.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{Preset: "trusted_private_chat",
			Invite: []id.UserID{w.ircPuppet("carol")}, IsDirect: true})
		if err != nil {
			t.Fatal(err)
		}
		alice.waitMember(resp.RoomID, w.ircPuppet("carol"), event.MembershipJoin)
		alice.send(resp.RoomID, "hi carol, from Matrix")
		carol.Expect(defaultWait, "private line from Matrix", privmsgFrom("alice[m]", "carol", "hi carol, from Matrix"))
		carol.Privmsg("alice[m]", "hi alice")
		alice.waitText(resp.RoomID, w.ircPuppet("carol"), "hi alice")
	})
}

// TestIRCOutageAndRestart: while the IRC server is down Matrix messages
// wait, and reach IRC once each, in order, when it is back; a bridge
// restart quits its users' connections gracefully and brings them back
// into their channels without waiting for them to speak.
func TestIRCOutageAndRestart(t *testing.T) {
	w := newIRCWorld(t, ircOptions{kind: irctest.InspIRCd})
	bob := w.ircUser("bob", "#chat")
	alice := w.newUser("alice")
	room := w.joinPortal(alice, "#chat", "alice[m]", bob)
	alice.send(room, "before the outage")
	bob.Expect(defaultWait, "line before the outage", privmsgFrom("alice[m]", "#chat", "before the outage"))

	w.srv.Stop()
	for _, text := range []string{"queued 1", "queued 2", "queued 3"} {
		alice.send(room, text)
	}
	w.srv.Restart(t)
	back := w.ircUser("bob", "#chat")
	for _, text := range []string{"queued 1", "queued 2", "queued 3"} {
		back.Expect(reconnectWait, text, privmsgFrom("alice[m]", "#chat", text))
	}
	waitBotIn(t, back, "#chat", reconnectWait)
	back.Privmsg("#chat", "welcome back")
	alice.waitText(room, w.ircPuppet("bob"), "welcome back")
	settle()
	seen := map[string]int{}
	for _, line := range back.Lines() {
		if m, err := irctest.ParseLine(line); err == nil && m.Command == "PRIVMSG" && strings.HasPrefix(m.Last(), "queued") {
			seen[m.Last()]++
		}
	}
	for _, text := range []string{"queued 1", "queued 2", "queued 3"} {
		if seen[text] != 1 {
			t.Errorf("%q reached IRC %d times, want once", text, seen[text])
		}
	}

	w.stopBridge("irc")
	back.Expect(defaultWait, "graceful quit", func(m *irctest.Message) bool { return m.Command == "QUIT" && m.Nick() == "alice[m]" })
	w.startBridge("irc")
	back.Expect(reconnectWait, "alice's connection back in #chat", func(m *irctest.Message) bool {
		return m.Command == "JOIN" && m.Nick() == "alice[m]" && strings.EqualFold(m.Params[0], "#chat")
	})
	back.Privmsg("#chat", "after the restart")
	alice.waitText(room, w.ircPuppet("bob"), "after the restart")
}

// TestIRCLinkConsent: linking a Matrix room to a channel needs a channel
// operator's yes, asked in private by the bot; a no refuses.
func TestIRCLinkConsent(t *testing.T) {
	w := newIRCWorld(t, ircOptions{kind: irctest.InspIRCd})
	bob := w.ircUser("bob", "#ops") // first in: op
	alice := w.newUser("alice")
	room := alice.roomWithBot(w.world, "irc")

	answer := alice.command(w.world, "irc", room, "!irc link test #ops")
	if !strings.Contains(answer, "consent") {
		t.Errorf("link answered %q, want a note that consent is asked", answer)
	}
	ask := bob.Expect(defaultWait, "consent question", privmsgFrom("switchboard", "bob", "wants to bridge #ops"))
	if !strings.Contains(ask.Last(), string(room)) || !strings.Contains(ask.Last(), "alice") {
		t.Errorf("question %q does not name the room and the user", ask.Last())
	}
	bob.Privmsg("switchboard", "yes")
	alice.waitEvent(room, "link result", func(e *event.Event) bool {
		m := e.Content.AsMessage()
		return e.Sender == w.bot("irc") && m != nil && strings.Contains(m.Body, "now bridged to test/#ops")
	})
	bob.Privmsg("#ops", "linked hello")
	alice.waitText(room, w.ircPuppet("bob"), "linked hello")

	bob.Join("#ops2")
	other := alice.roomWithBot(w.world, "irc")
	alice.command(w.world, "irc", other, "!irc link test #ops2")
	bob.Expect(defaultWait, "second question", privmsgFrom("switchboard", "bob", "#ops2"))
	bob.Privmsg("switchboard", "no")
	alice.waitEvent(other, "refusal", func(e *event.Event) bool {
		m := e.Content.AsMessage()
		return e.Sender == w.bot("irc") && m != nil && strings.Contains(m.Body, "refused")
	})
}

// TestIRCTagsAndFallbacks: on a server with client tags, replies and
// reactions cross both ways as +draft/reply and +draft/react; on one
// without, a reply names the nick and a reaction is an action.
func TestIRCTagsAndFallbacks(t *testing.T) {
	t.Run("inspircd", func(t *testing.T) {
		w := newIRCWorld(t, ircOptions{kind: irctest.InspIRCd})
		bob := w.ircUser("bob", "#chat", "message-tags", "echo-message", "server-time")
		alice := w.newUser("alice")
		room := w.joinPortal(alice, "#chat", "alice[m]", bob)

		mine := alice.send(room, "react to me")
		line := bob.Expect(defaultWait, "alice's line", privmsgFrom("alice[m]", "#chat", "react to me"))
		msgid := line.Tags["msgid"]
		if msgid == "" {
			t.Fatalf("no msgid on %q", line.Raw)
		}
		bob.Send("@+draft/react=👍;+draft/reply=" + msgid + " TAGMSG #chat")
		reaction := alice.waitEvent(room, "reaction from IRC", func(e *event.Event) bool { return e.Type == event.EventReaction })
		if r := reaction.Content.AsReaction(); r.RelatesTo.EventID != mine || r.RelatesTo.Key != "👍" {
			t.Errorf("reaction %+v, want 👍 on %s", r.RelatesTo, mine)
		}
		bob.Send("@+draft/reply=" + msgid + " PRIVMSG #chat :replying to you")
		reply := alice.waitText(room, w.ircPuppet("bob"), "replying to you")
		if got := reply.Content.AsMessage().RelatesTo.GetReplyTo(); got != mine {
			t.Errorf("reply relates to %q, want %s", got, mine)
		}

		bob.Privmsg("#chat", "bob's own line")
		echo := bob.Expect(defaultWait, "bob's echo", privmsgFrom("bob", "#chat", "bob's own line"))
		theirs := alice.waitText(room, w.ircPuppet("bob"), "bob's own line").ID
		if _, err := alice.c.SendReaction(context.Background(), room, theirs, "🎉"); err != nil {
			t.Fatal(err)
		}
		bob.Expect(defaultWait, "reaction as a tag", func(m *irctest.Message) bool {
			return m.Command == "TAGMSG" && m.Nick() == "alice[m]" && m.Tags["+draft/react"] == "🎉" && m.Tags["+draft/reply"] == echo.Tags["msgid"]
		})
		content := &event.MessageEventContent{MsgType: event.MsgText, Body: "answering bob"}
		content.SetReply(&event.Event{ID: theirs, RoomID: room, Sender: w.ircPuppet("bob")})
		if _, err := alice.c.SendMessageEvent(context.Background(), room, event.EventMessage, content); err != nil {
			t.Fatal(err)
		}
		got := bob.Expect(defaultWait, "reply with tag", privmsgFrom("alice[m]", "#chat", "answering bob"))
		if got.Tags["+draft/reply"] != echo.Tags["msgid"] || !strings.HasPrefix(got.Last(), "bob: ") {
			t.Errorf("reply arrived as %q", got.Raw)
		}
	})
	t.Run("ngircd", func(t *testing.T) {
		w := newIRCWorld(t, ircOptions{kind: irctest.Ngircd})
		bob := w.ircUser("bob", "#chat")
		alice := w.newUser("alice")
		room := w.joinPortal(alice, "#chat", "alice[m]", bob)
		bob.Privmsg("#chat", "plain server line")
		theirs := alice.waitText(room, w.ircPuppet("bob"), "plain server line").ID
		content := &event.MessageEventContent{MsgType: event.MsgText, Body: "answering bob"}
		content.SetReply(&event.Event{ID: theirs, RoomID: room, Sender: w.ircPuppet("bob")})
		if _, err := alice.c.SendMessageEvent(context.Background(), room, event.EventMessage, content); err != nil {
			t.Fatal(err)
		}
		bob.Expect(defaultWait, "reply naming the nick", privmsgFrom("alice[m]", "#chat", "bob: answering bob"))
		if _, err := alice.c.SendReaction(context.Background(), room, theirs, "👍"); err != nil {
			t.Fatal(err)
		}
		bob.Expect(defaultWait, "reaction as an action", privmsgFrom("alice[m]", "#chat", "\x01ACTION reacted with 👍 to bob\x01"))
	})
}

// TestIRCCommands: whois and nick from the management room; storepass is
// refused (and redacted) in a shared room.
func TestIRCCommands(t *testing.T) {
	w := newIRCWorld(t, ircOptions{kind: irctest.InspIRCd})
	bob := w.ircUser("bob", "#chat")
	alice := w.newUser("alice")
	room := w.joinPortal(alice, "#chat", "alice[m]", bob)
	manage := alice.dm(w.world, "irc")

	if answer := alice.command(w.world, "irc", manage, "whois bob"); !strings.Contains(answer, "bob") || !strings.Contains(answer, "user:") {
		t.Errorf("whois answered %q", answer)
	}
	if answer := alice.command(w.world, "irc", manage, "whois nosuchnick"); !strings.Contains(answer, "no nosuchnick") {
		t.Errorf("whois of nobody answered %q", answer)
	}
	if answer := alice.command(w.world, "irc", manage, "nick alice_m"); !strings.Contains(answer, "alice_m") {
		t.Errorf("nick answered %q", answer)
	}
	bob.Expect(defaultWait, "nick change", func(m *irctest.Message) bool {
		return m.Command == "NICK" && m.Nick() == "alice[m]" && m.Last() == "alice_m"
	})
	alice.send(room, "new name")
	bob.Expect(defaultWait, "line under the new nick", privmsgFrom("alice_m", "#chat", "new name"))

	if answer := alice.command(w.world, "irc", room, "!irc storepass hunter2"); !strings.Contains(answer, "management room") {
		t.Errorf("storepass in a shared room answered %q", answer)
	}
	if answer := alice.command(w.world, "irc", manage, "raw PRIVMSG #chat :raw line"); !strings.Contains(answer, "admins") {
		t.Errorf("raw by a non-admin answered %q", answer)
	}
}

// TestIRCNetsplitNoLeaveFlood: when the IRC server restarts (a netsplit
// for everyone), the users who come back within netsplit_grace never
// leave the Matrix room; one who stays away leaves once it has passed.
func TestIRCNetsplitNoLeaveFlood(t *testing.T) {
	w := newIRCWorld(t, ircOptions{kind: irctest.InspIRCd, network: func(n *irc.NetworkConfig) {
		n.NetsplitGrace = config.Duration(20 * time.Second)
	}})
	bob := w.ircUser("bob", "#chat")
	carol := w.ircUser("carol", "#chat")
	dave := w.ircUser("dave", "#chat")
	alice := w.newUser("alice")
	room := w.joinPortal(alice, "#chat", "alice[m]", bob)
	for _, nick := range []string{"bob", "carol", "dave"} {
		alice.waitMember(room, w.ircPuppet(nick), event.MembershipJoin)
	}
	_, _ = carol, dave

	w.srv.Restart(t)
	back := w.ircUser("bob", "#chat")
	w.ircUser("carol", "#chat")
	waitBotIn(t, back, "#chat", reconnectWait)
	back.Privmsg("#chat", "we are back")
	alice.waitText(room, w.ircPuppet("bob"), "we are back")

	// dave never returns: he leaves once the grace has passed, and only he.
	deadline := time.Now().Add(reconnectWait)
	for !hasMembership(alice.all(room), w.ircPuppet("dave"), event.MembershipLeave) {
		if time.Now().After(deadline) {
			t.Fatal("dave never shown leaving")
		}
		alice.sync(time.Second)
	}
	for _, e := range alice.all(room) {
		if e.Type == event.StateMember && e.Content.AsMember().Membership == event.MembershipLeave &&
			(e.GetStateKey() == string(w.ircPuppet("bob")) || e.GetStateKey() == string(w.ircPuppet("carol"))) {
			t.Errorf("%s was shown leaving in the netsplit", e.GetStateKey())
		}
	}
}

// TestIRCMediaAsLinks: a file sent on Matrix reaches IRC as a link anyone
// can open.
func TestIRCMediaAsLinks(t *testing.T) {
	w := newIRCWorld(t, ircOptions{kind: irctest.Ngircd})
	bob := w.ircUser("bob", "#chat")
	alice := w.newUser("alice")
	room := w.joinPortal(alice, "#chat", "alice[m]", bob)
	data := []byte("not really a png")
	up, err := alice.c.UploadBytesWithName(context.Background(), data, "image/png", "cat.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.SendMessageEvent(context.Background(), room, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgImage, Body: "cat.png", URL: up.ContentURI.CUString(), Info: &event.FileInfo{MimeType: "image/png", Size: len(data)}}); err != nil {
		t.Fatal(err)
	}
	line := bob.Expect(defaultWait, "link to the file", privmsgFrom("alice[m]", "#chat", "cat.png http"))
	link := line.Last()[strings.Index(line.Last(), "http"):]
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(got) != string(data) {
		t.Errorf("GET %s: %d %q", link, resp.StatusCode, got)
	}
}
