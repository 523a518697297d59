package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors/connectortest"
	"switchboard/internal/database"
)

// newRoom creates a plain Matrix room with the bots invited.
func (u *user) newRoom(w *world, networks ...string) id.RoomID {
	u.t.Helper()
	var invite []id.UserID
	for _, n := range networks {
		invite = append(invite, w.bot(n))
	}
	resp, err := u.c.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{Preset: "public_chat", Invite: invite})
	if err != nil {
		u.t.Fatal(err)
	}
	for _, n := range networks {
		bot := w.bot(n)
		u.waitEvent(resp.RoomID, "bot joins", func(e *event.Event) bool {
			return e.Type == event.StateMember && e.GetStateKey() == string(bot) && e.Content.AsMember().Membership == event.MembershipJoin
		})
	}
	return resp.RoomID
}

// TestLinkCommand: `!testnet link <chat>` plumbs an existing room, needs
// power level 50, refuses a chat bridged elsewhere (naming the room), and
// unlink undoes it.
func TestLinkCommand(t *testing.T) {
	forEachSetup(t, func(t *testing.T, db *database.DB, hs string) {
		w := newWorld(t, db, worldOptions{relay: true, hs: hs}, "testnet")
		net := w.nets["testnet"]
		net.CreateChat("team", "Team", false)
		net.CreateChat("other", "Other", true)

		alice := w.newUser("alice")
		room := alice.newRoom(w, "testnet")
		other0 := alice.newRoom(w, "testnet")
		bob := w.newUser("bob")
		bob.join(string(room))

		if reply := bob.command(w, "testnet", room, "!testnet link team"); !strings.Contains(reply, "power level 50") {
			t.Errorf("link by a user without power: %q", reply)
		}
		if reply := alice.command(w, "testnet", room, "!testnet link nosuch"); !strings.Contains(reply, "no chat nosuch") {
			t.Errorf("link of an unknown chat: %q", reply)
		}
		if reply := alice.command(w, "testnet", other0, "!testnet link other"); !strings.Contains(reply, "give me power level 50") {
			t.Errorf("link without state power does not say so: %q", reply)
		}
		// With power to send state, the room gets the m.bridge event.
		var pl event.PowerLevelsEventContent
		if err := alice.c.StateEvent(context.Background(), room, event.StatePowerLevels, "", &pl); err != nil {
			t.Fatal(err)
		}
		if pl.Users == nil {
			pl.Users = map[id.UserID]int{}
		}
		pl.Users[w.bot("testnet")] = 50
		if _, err := alice.c.SendStateEvent(context.Background(), room, event.StatePowerLevels, "", &pl); err != nil {
			t.Fatal(err)
		}
		if reply := alice.command(w, "testnet", room, "!testnet link team"); !strings.Contains(reply, "now bridged to team") || strings.Contains(reply, "Note") {
			t.Fatalf("link: %q", reply)
		}
		alice.waitEvent(room, "m.bridge state", func(e *event.Event) bool {
			return e.Type == event.StateBridge && e.Content.AsBridge().Channel.ID == "team"
		})
		net.Post("team", "carol", "hello linked room")
		alice.waitText(room, w.puppet("testnet", "carol"), "hello linked room")
		alice.send(room, "hello team")
		net.WaitMessage(t, "team", func(m connectortest.StoredMessage) bool { return m.Body == "hello team" && m.RelayedFor == "alice" })

		other := alice.newRoom(w, "testnet")
		reply := alice.command(w, "testnet", other, "!testnet link team")
		if !strings.Contains(reply, "already bridged to another room") || !strings.Contains(reply, string(room)) {
			t.Errorf("second link of one chat: %q", reply)
		}
		if reply := alice.command(w, "testnet", room, "!testnet list"); !strings.Contains(reply, "team → "+string(room)) {
			t.Errorf("list: %q", reply)
		}
		if reply := alice.command(w, "testnet", room, "!testnet unlink"); !strings.Contains(reply, "no longer bridged") {
			t.Fatalf("unlink: %q", reply)
		}
		alice.send(room, "after unlink")
		if reply := alice.command(w, "testnet", other, "!testnet link team"); !strings.Contains(reply, "now bridged") {
			t.Fatalf("link after unlink: %q", reply)
		}
		net.Post("team", "carol", "marker after unlink")
		alice.waitText(other, w.puppet("testnet", "carol"), "marker after unlink")
		for _, m := range net.Messages("team") {
			if m.Body == "after unlink" {
				t.Error("a message sent after unlink reached the chat")
			}
		}
		if reply := alice.command(w, "testnet", room, "!testnet frobnicate"); !strings.Contains(reply, "Unknown command") {
			t.Errorf("unknown command: %q", reply)
		}
		if reply := alice.command(w, "testnet", room, "!testnet help"); !strings.Contains(reply, "link <chat>") || !strings.Contains(reply, "whoami") {
			t.Errorf("help lacks commands: %q", reply)
		}
	})
}

// TestPermissions: users below relay are ignored, relay users are relayed
// but may not link, and the bot refuses invites from them.
func TestPermissions(t *testing.T) {
	forEachSetup(t, func(t *testing.T, db *database.DB, hs string) {
		perms := map[string]string{"*": "relay", "@admin:" + serverName: "admin", "@nobody:" + serverName: "relay"}
		w := newWorld(t, db, worldOptions{relay: true, hs: hs, permissions: perms}, "testnet")
		net := w.nets["testnet"]
		net.CreateChat("general", "General", true)
		admin := w.newUser("admin")
		guest := w.newUser("guest")
		room := admin.join(w.alias("testnet", "general"))
		guest.join(w.alias("testnet", "general"))

		guest.send(room, "relayed guest line")
		net.WaitMessage(t, "general", func(m connectortest.StoredMessage) bool {
			return m.Body == "relayed guest line" && m.RelayedFor == "guest"
		})
		if reply := guest.command(w, "testnet", room, "!testnet link other"); !strings.Contains(reply, "needs the user permission") {
			t.Errorf("link by a relay-level user: %q", reply)
		}
		if reply := admin.command(w, "testnet", room, "!testnet status"); !strings.Contains(reply, "bridged chats") {
			t.Errorf("status: %q", reply)
		}
	})
}

// TestMultiNetworkRoom: one Matrix room linked to chats on two networks,
// each its own appservice. A line from either network reaches the other as
// the sender's puppet, relayed, and never echoes back; a Matrix user's line
// reaches both; edits follow.
func TestMultiNetworkRoom(t *testing.T) {
	forEachSetup(t, func(t *testing.T, db *database.DB, hs string) {
		w := newWorld(t, db, worldOptions{relay: true, hs: hs}, "testa", "testb")
		na, nb := w.nets["testa"], w.nets["testb"]
		na.CreateChat("lobby", "Lobby A", true)
		nb.CreateChat("lobby", "Lobby B", true)
		alice := w.newUser("alice")
		room := alice.newRoom(w, "testa", "testb")
		alice.command(w, "testa", room, "!testa link lobby")
		alice.command(w, "testb", room, "!testb link lobby")

		idA := na.Post("lobby", "anna", "hi from A")
		alice.waitText(room, w.puppet("testa", "anna"), "hi from A")
		gotB := nb.WaitMessage(t, "lobby", func(m connectortest.StoredMessage) bool { return m.Body == "hi from A" })
		if gotB.RelayedFor != "Anna" {
			t.Errorf("on B the line is relayed for %q, want the puppet's name Anna", gotB.RelayedFor)
		}
		nb.Post("lobby", "bert", "hi from B")
		alice.waitText(room, w.puppet("testb", "bert"), "hi from B")
		na.WaitMessage(t, "lobby", func(m connectortest.StoredMessage) bool { return m.Body == "hi from B" && m.RelayedFor == "Bert" })

		alice.send(room, "hi from Matrix")
		na.WaitMessage(t, "lobby", func(m connectortest.StoredMessage) bool { return m.Body == "hi from Matrix" })
		nb.WaitMessage(t, "lobby", func(m connectortest.StoredMessage) bool { return m.Body == "hi from Matrix" })

		na.Edit("lobby", idA, "hi from A, edited")
		nb.WaitMessage(t, "lobby", func(m connectortest.StoredMessage) bool { return m.ID == gotB.ID && m.Body == "hi from A, edited" })

		// Nothing echoed: each network has its own line once, the other's
		// once, and Matrix's once.
		for name, n := range map[string]*connectortest.Network{"A": na, "B": nb} {
			counts := map[string]int{}
			for _, m := range n.Messages("lobby") {
				counts[m.Original]++
			}
			for _, body := range []string{"hi from A", "hi from B", "hi from Matrix"} {
				if counts[body] != 1 {
					t.Errorf("network %s has %q %d times: %v", name, body, counts[body], bodies(n.Messages("lobby")))
				}
			}
		}
	})
}

// TestOneRoomTwoChatsOfOneNetwork: a room linked to two chats of the same
// network carries each chat's lines to the other through the one bridge.
func TestOneRoomTwoChatsOfOneNetwork(t *testing.T) {
	forEachSetup(t, func(t *testing.T, db *database.DB, hs string) {
		w := newWorld(t, db, worldOptions{relay: true, hs: hs}, "testnet")
		net := w.nets["testnet"]
		net.CreateChat("east", "East", true)
		net.CreateChat("west", "West", true)
		alice := w.newUser("alice")
		room := alice.newRoom(w, "testnet")
		alice.command(w, "testnet", room, "!testnet link east")
		alice.command(w, "testnet", room, "!testnet link west")

		net.Post("east", "erin", "from the east")
		alice.waitText(room, w.puppet("testnet", "erin"), "from the east")
		net.WaitMessage(t, "west", func(m connectortest.StoredMessage) bool { return m.Body == "from the east" && m.RelayedFor == "Erin" })
		alice.send(room, "to both")
		net.WaitMessage(t, "east", func(m connectortest.StoredMessage) bool { return m.Body == "to both" })
		net.WaitMessage(t, "west", func(m connectortest.StoredMessage) bool { return m.Body == "to both" })
		for _, m := range net.Messages("east") {
			if m.Body == "from the east" && m.RelayedFor != "" {
				t.Error("the east line echoed back into east")
			}
		}
		if n := len(net.Messages("east")); n != 2 {
			t.Errorf("east has %d messages, want 2: %v", n, bodies(net.Messages("east")))
		}
	})
}

// TestRestartResumes: what happens while the bridge is down (lines on the
// network, messages on Matrix) is delivered once, in order, after it
// starts again.
func TestRestartResumes(t *testing.T) {
	forEachSetup(t, func(t *testing.T, db *database.DB, hs string) {
		w := newWorld(t, db, worldOptions{relay: true, hs: hs}, "testnet")
		net := w.nets["testnet"]
		net.CreateChat("general", "General", true)
		alice := w.newUser("alice")
		room := alice.join(w.alias("testnet", "general"))
		alice.send(room, "before")
		net.WaitMessages(t, "general", 1, defaultWait)

		w.stopBridge("testnet")
		const n = 5
		for i := range n {
			net.Post("general", "dave", fmt.Sprintf("while down %d", i))
			alice.send(room, fmt.Sprintf("matrix while down %d", i))
		}
		w.startBridge("testnet")

		for i := range n {
			alice.waitText(room, w.puppet("testnet", "dave"), fmt.Sprintf("while down %d", i))
		}
		var fromMatrix []string
		net.WaitFor(t, defaultWait, "Matrix lines after restart", func(s connectortest.Snapshot) bool {
			fromMatrix = fromMatrix[:0]
			for _, m := range s.Messages("general") {
				if strings.HasPrefix(m.Body, "matrix while down") {
					fromMatrix = append(fromMatrix, m.Body)
				}
			}
			return len(fromMatrix) >= n
		})
		for i, body := range fromMatrix {
			if want := fmt.Sprintf("matrix while down %d", i); body != want || i >= n {
				t.Errorf("after restart, Matrix line %d is %q, want %q (all %v)", i, body, want, fromMatrix)
			}
		}
		var got []string
		for _, e := range alice.all(room) {
			if m := e.Content.AsMessage(); e.Type == event.EventMessage && e.Sender == w.puppet("testnet", "dave") {
				got = append(got, m.Body)
			}
		}
		if len(got) != n {
			t.Errorf("Matrix got %d lines from the network, want %d: %v", len(got), n, got)
		}
	})
}
