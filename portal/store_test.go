package portal_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
	"switchboard/portal"
)

func newStore(t *testing.T, db *database.DB) *portal.Store {
	t.Helper()
	if err := db.Migrate(context.Background(), portal.Schema()); err != nil {
		t.Fatal(err)
	}
	return portal.NewStore(db)
}

// at is a time the store keeps exactly (it stores unix milliseconds).
func at(ms int64) time.Time { return time.UnixMilli(1_700_000_000_000 + ms) }

func remoteIDs(ps []*portal.Portal) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.RemoteID)
	}
	return out
}

func messageIDs(ms []*portal.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Chat+"|"+m.RemoteID)
	}
	return out
}

func samePortal(t *testing.T, got, want *portal.Portal) {
	t.Helper()
	if got == nil {
		t.Fatalf("got no portal, want %+v", want)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	g, w := *got, *want
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	if g != w {
		t.Errorf("portal = %+v, want %+v", g, w)
	}
}

func sameMessage(t *testing.T, got, want *portal.Message) {
	t.Helper()
	if got == nil {
		t.Fatalf("got no message, want %+v", want)
	}
	if !got.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", got.Timestamp, want.Timestamp)
	}
	g, w := *got, *want
	g.Timestamp, w.Timestamp = time.Time{}, time.Time{}
	if g != w {
		t.Errorf("message = %+v, want %+v", g, w)
	}
}

func TestSchema(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		for range 2 {
			if err := db.Migrate(ctx, portal.Schema()); err != nil {
				t.Fatal(err)
			}
		}
		for _, table := range []string{"bridge_portal_version", "bridge_portals", "bridge_messages"} {
			if ok, err := db.TableExists(ctx, table); err != nil || !ok {
				t.Errorf("table %s exists = %v (err %v)", table, ok, err)
			}
		}
	})
}

func TestPortals(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		hub := id.RoomID("!hub:example.org")
		portals := []*portal.Portal{
			{Network: "irc", RemoteID: "libera/#zz", RoomID: hub, Name: "zz", CreatedAt: at(1)},
			{Network: "irc", RemoteID: "libera/#go-nuts", RoomID: hub, Name: "Go nuts", Topic: "gophers",
				AvatarURL: "mxc://example.org/abc", Relay: true, Plumbed: true, CreatedAt: at(2)},
			{Network: "irc", RemoteID: "libera/alice", RoomID: "!dm:example.org", Direct: true, CreatedAt: at(3)},
			{Network: "xmpp", RemoteID: "go@muc.example.org", RoomID: hub, CreatedAt: at(4)},
		}
		for _, p := range portals {
			if err := s.Insert(ctx, p); err != nil {
				t.Fatalf("Insert(%s): %v", p.RemoteID, err)
			}
		}

		for _, tt := range []struct {
			name, network, remoteID string
			want                    *portal.Portal
		}{
			{"present", "irc", "libera/#go-nuts", portals[1]},
			{"other network", "xmpp", "go@muc.example.org", portals[3]},
			{"missing id", "irc", "libera/#nope", nil},
			{"id of another network", "xmpp", "libera/#go-nuts", nil},
		} {
			t.Run("Get/"+tt.name, func(t *testing.T) {
				got, err := s.Get(ctx, tt.network, tt.remoteID)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == nil {
					if got != nil {
						t.Fatalf("got %+v, want nil", got)
					}
					return
				}
				samePortal(t, got, tt.want)
			})
		}

		for _, tt := range []struct {
			name    string
			network string
			room    id.RoomID
			want    []string
		}{
			{"hub, ordered by remote id", "irc", hub, []string{"libera/#go-nuts", "libera/#zz"}},
			{"hub, other network", "xmpp", hub, []string{"go@muc.example.org"}},
			{"direct chat", "irc", "!dm:example.org", []string{"libera/alice"}},
			{"no portal", "irc", "!none:example.org", []string{}},
		} {
			t.Run("ByRoom/"+tt.name, func(t *testing.T) {
				got, err := s.ByRoom(ctx, tt.network, tt.room)
				if err != nil {
					t.Fatal(err)
				}
				if ids := remoteIDs(got); !reflect.DeepEqual(ids, tt.want) {
					t.Errorf("ByRoom = %v, want %v", ids, tt.want)
				}
			})
		}

		for _, tt := range []struct {
			network string
			want    []string
		}{
			{"irc", []string{"libera/#go-nuts", "libera/#zz", "libera/alice"}},
			{"xmpp", []string{"go@muc.example.org"}},
			{"slack", []string{}},
		} {
			t.Run("All/"+tt.network, func(t *testing.T) {
				got, err := s.All(ctx, tt.network)
				if err != nil {
					t.Fatal(err)
				}
				if ids := remoteIDs(got); !reflect.DeepEqual(ids, tt.want) {
					t.Errorf("All = %v, want %v", ids, tt.want)
				}
				if len(got) > 0 && got[0].RemoteID == "libera/#go-nuts" {
					samePortal(t, got[0], portals[1])
				}
			})
		}

		t.Run("Insert/exists names the room", func(t *testing.T) {
			err := s.Insert(ctx, &portal.Portal{Network: "irc", RemoteID: "libera/#go-nuts", RoomID: "!other:example.org"})
			if !errors.Is(err, portal.ErrExists) {
				t.Fatalf("err = %v, want ErrExists", err)
			}
			var exists *portal.ExistsError
			if !errors.As(err, &exists) || exists.RoomID != hub {
				t.Fatalf("err = %#v, want an *ExistsError naming %s", err, hub)
			}
			if !strings.Contains(err.Error(), string(hub)) || !strings.Contains(err.Error(), "libera/#go-nuts") {
				t.Errorf("error %q does not name the chat and its room", err)
			}
			got, _ := s.Get(ctx, "irc", "libera/#go-nuts")
			samePortal(t, got, portals[1])
		})

		t.Run("Insert/sets CreatedAt", func(t *testing.T) {
			before := time.Now().Truncate(time.Millisecond)
			p := &portal.Portal{Network: "slack", RemoteID: "T1/C1", RoomID: "!slack:example.org"}
			if err := s.Insert(ctx, p); err != nil {
				t.Fatal(err)
			}
			if p.CreatedAt.Before(before) || p.CreatedAt.After(time.Now()) {
				t.Errorf("CreatedAt = %v, want about now", p.CreatedAt)
			}
			got, err := s.Get(ctx, "slack", "T1/C1")
			if err != nil {
				t.Fatal(err)
			}
			if got.CreatedAt.UnixMilli() != p.CreatedAt.UnixMilli() {
				t.Errorf("stored CreatedAt = %v, want %v", got.CreatedAt, p.CreatedAt)
			}
		})

		t.Run("Update", func(t *testing.T) {
			upd := &portal.Portal{Network: "irc", RemoteID: "libera/#zz", RoomID: "!moved:example.org",
				Name: "ZZ", Topic: "sleep", AvatarURL: "mxc://example.org/zz", Relay: true, Plumbed: true, Direct: true,
				CreatedAt: at(999)}
			if err := s.Update(ctx, upd); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "irc", "libera/#zz")
			if err != nil {
				t.Fatal(err)
			}
			want := *upd
			want.CreatedAt = at(1) // kept
			samePortal(t, got, &want)
			if ids, _ := s.ByRoom(ctx, "irc", hub); !reflect.DeepEqual(remoteIDs(ids), []string{"libera/#go-nuts"}) {
				t.Errorf("hub after moving #zz away = %v", remoteIDs(ids))
			}
			// Back to all false: booleans round-trip both ways.
			upd.Relay, upd.Plumbed, upd.Direct = false, false, false
			if err := s.Update(ctx, upd); err != nil {
				t.Fatal(err)
			}
			got, _ = s.Get(ctx, "irc", "libera/#zz")
			if got.Relay || got.Plumbed || got.Direct {
				t.Errorf("flags after clearing = %+v", got)
			}
		})

		t.Run("Update/missing", func(t *testing.T) {
			err := s.Update(ctx, &portal.Portal{Network: "irc", RemoteID: "libera/#nope", RoomID: hub})
			if !errors.Is(err, portal.ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
			if got, _ := s.Get(ctx, "irc", "libera/#nope"); got != nil {
				t.Errorf("Update created %+v", got)
			}
		})

		t.Run("Delete", func(t *testing.T) {
			if err := s.Delete(ctx, "irc", "libera/alice"); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(ctx, "irc", "libera/alice"); err != nil || got != nil {
				t.Errorf("after Delete: %+v, %v", got, err)
			}
			if err := s.Delete(ctx, "irc", "libera/alice"); err != nil {
				t.Errorf("deleting a missing portal: %v", err)
			}
			if got, _ := s.Get(ctx, "xmpp", "go@muc.example.org"); got == nil {
				t.Error("Delete removed another network's portal")
			}
			// The chat may be bridged again.
			if err := s.Insert(ctx, &portal.Portal{Network: "irc", RemoteID: "libera/alice", RoomID: "!dm2:example.org"}); err != nil {
				t.Errorf("Insert after Delete: %v", err)
			}
		})
	})
}

func TestMessages(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		const (
			alice = id.UserID("@alice:example.org")
			bob   = id.UserID("@irc_bob:example.org")
			hub   = id.RoomID("!hub:example.org")
		)
		msgs := []*portal.Message{
			// A Matrix message carried to two IRC channels and one XMPP MUC.
			{Network: "irc", Chat: "libera/#b", RemoteID: "m1", RoomID: hub, EventID: "$e1", Sender: alice, Kind: portal.KindMessage, Timestamp: at(10)},
			{Network: "irc", Chat: "libera/#a", RemoteID: "m1", RoomID: hub, EventID: "$e1", Sender: alice, Kind: portal.KindMessage, Timestamp: at(11)},
			{Network: "xmpp", Chat: "go@muc", RemoteID: "x1", RoomID: hub, EventID: "$e1", Sender: alice, Kind: portal.KindMessage, Timestamp: at(12)},
			// Reactions and an edit to it on #a.
			{Network: "irc", Chat: "libera/#a", RemoteID: "r2", RoomID: hub, EventID: "$e2", Sender: bob, Kind: portal.KindReaction, Target: "m1", Key: "👍", Timestamp: at(30)},
			{Network: "irc", Chat: "libera/#a", RemoteID: "r1", RoomID: hub, EventID: "$e3", Sender: bob, Kind: portal.KindReaction, Target: "m1", Key: "👍", Timestamp: at(20)},
			{Network: "irc", Chat: "libera/#a", RemoteID: "r3", RoomID: hub, EventID: "$e4", Sender: alice, Kind: portal.KindReaction, Target: "m1", Key: "🎉", Timestamp: at(40)},
			{Network: "irc", Chat: "libera/#a", RemoteID: "ed1", RoomID: hub, EventID: "$e5", Sender: bob, Kind: portal.KindEdit, Target: "m1", Timestamp: at(50)},
			// A Matrix message split into two lines of one channel.
			{Network: "irc", Chat: "libera/#a", RemoteID: "s2", RoomID: hub, EventID: "$e6", Sender: alice, Kind: portal.KindMessage, Timestamp: at(61)},
			{Network: "irc", Chat: "libera/#a", RemoteID: "s1", RoomID: hub, EventID: "$e6", Sender: alice, Kind: portal.KindMessage, Timestamp: at(60)},
		}
		for _, m := range msgs {
			if err := s.PutMessage(ctx, m); err != nil {
				t.Fatalf("PutMessage(%s %s): %v", m.Chat, m.RemoteID, err)
			}
		}

		t.Run("PutMessage/existing is left as is", func(t *testing.T) {
			dup := *msgs[1]
			dup.EventID, dup.Sender, dup.Timestamp = "$other", bob, at(99)
			if err := s.PutMessage(ctx, &dup); err != nil {
				t.Fatalf("second PutMessage: %v", err)
			}
			got, err := s.MessageByRemote(ctx, "irc", "libera/#a", "m1")
			if err != nil {
				t.Fatal(err)
			}
			sameMessage(t, got, msgs[1])
		})

		t.Run("PutMessage/sets Timestamp", func(t *testing.T) {
			before := time.Now().Truncate(time.Millisecond)
			m := &portal.Message{Network: "irc", Chat: "libera/#c", RemoteID: "now", RoomID: hub, EventID: "$now", Sender: alice, Kind: portal.KindMessage}
			if err := s.PutMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			if m.Timestamp.Before(before) || m.Timestamp.After(time.Now()) {
				t.Errorf("Timestamp = %v, want about now", m.Timestamp)
			}
		})

		for _, tt := range []struct {
			name, network, chat, remoteID string
			want                          *portal.Message
		}{
			{"message", "irc", "libera/#b", "m1", msgs[0]},
			{"same id, other chat", "irc", "libera/#a", "m1", msgs[1]},
			{"reaction", "irc", "libera/#a", "r2", msgs[3]},
			{"edit", "irc", "libera/#a", "ed1", msgs[6]},
			{"missing id", "irc", "libera/#a", "nope", nil},
			{"missing chat", "irc", "libera/#z", "m1", nil},
			{"other network", "xmpp", "libera/#a", "m1", nil},
		} {
			t.Run("MessageByRemote/"+tt.name, func(t *testing.T) {
				got, err := s.MessageByRemote(ctx, tt.network, tt.chat, tt.remoteID)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == nil {
					if got != nil {
						t.Fatalf("got %+v, want nil", got)
					}
					return
				}
				sameMessage(t, got, tt.want)
			})
		}

		for _, tt := range []struct {
			name    string
			network string
			event   id.EventID
			want    []string
		}{
			{"one per chat, ordered by chat", "irc", "$e1", []string{"libera/#a|m1", "libera/#b|m1"}},
			{"other network", "xmpp", "$e1", []string{"go@muc|x1"}},
			{"split message, in time order", "irc", "$e6", []string{"libera/#a|s1", "libera/#a|s2"}},
			{"reaction", "irc", "$e2", []string{"libera/#a|r2"}},
			{"missing", "irc", "$nope", []string{}},
		} {
			t.Run("MessagesByEvent/"+tt.name, func(t *testing.T) {
				got, err := s.MessagesByEvent(ctx, tt.network, tt.event)
				if err != nil {
					t.Fatal(err)
				}
				if ids := messageIDs(got); !reflect.DeepEqual(ids, tt.want) {
					t.Errorf("MessagesByEvent = %v, want %v", ids, tt.want)
				}
			})
		}

		for _, tt := range []struct {
			name                  string
			network, chat, target string
			sender                id.UserID
			key                   string
			want                  *portal.Message
		}{
			{"oldest of two", "irc", "libera/#a", "m1", bob, "👍", msgs[4]},
			{"other sender's key", "irc", "libera/#a", "m1", alice, "🎉", msgs[5]},
			{"key of another sender", "irc", "libera/#a", "m1", alice, "👍", nil},
			{"other key", "irc", "libera/#a", "m1", bob, "🎉", nil},
			{"other target", "irc", "libera/#a", "s1", bob, "👍", nil},
			{"other chat", "irc", "libera/#b", "m1", bob, "👍", nil},
			{"other network", "xmpp", "libera/#a", "m1", bob, "👍", nil},
			{"an edit is no reaction", "irc", "libera/#a", "m1", bob, "", nil},
		} {
			t.Run("ReactionByKey/"+tt.name, func(t *testing.T) {
				got, err := s.ReactionByKey(ctx, tt.network, tt.chat, tt.target, tt.sender, tt.key)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == nil {
					if got != nil {
						t.Fatalf("got %+v, want nil", got)
					}
					return
				}
				sameMessage(t, got, tt.want)
			})
		}

		t.Run("DeleteMessage", func(t *testing.T) {
			if err := s.DeleteMessage(ctx, "irc", "libera/#a", "r1"); err != nil {
				t.Fatal(err)
			}
			if got, err := s.MessageByRemote(ctx, "irc", "libera/#a", "r1"); err != nil || got != nil {
				t.Errorf("after DeleteMessage: %+v, %v", got, err)
			}
			// The other 👍 is now the one found.
			got, err := s.ReactionByKey(ctx, "irc", "libera/#a", "m1", bob, "👍")
			if err != nil {
				t.Fatal(err)
			}
			sameMessage(t, got, msgs[3])
			if err := s.DeleteMessage(ctx, "irc", "libera/#a", "r1"); err != nil {
				t.Errorf("deleting a missing line: %v", err)
			}
			if got, _ := s.MessageByRemote(ctx, "irc", "libera/#b", "m1"); got == nil {
				t.Error("DeleteMessage removed a line of another chat")
			}
		})

		t.Run("DeleteMessagesByEvent", func(t *testing.T) {
			if err := s.DeleteMessagesByEvent(ctx, "irc", "$e1"); err != nil {
				t.Fatal(err)
			}
			if got, err := s.MessagesByEvent(ctx, "irc", "$e1"); err != nil || len(got) != 0 {
				t.Errorf("after DeleteMessagesByEvent: %v, %v", messageIDs(got), err)
			}
			if got, _ := s.MessagesByEvent(ctx, "xmpp", "$e1"); len(got) != 1 {
				t.Errorf("DeleteMessagesByEvent touched another network: %v", messageIDs(got))
			}
			if got, _ := s.MessageByRemote(ctx, "irc", "libera/#a", "r2"); got == nil {
				t.Error("DeleteMessagesByEvent removed a line of another event")
			}
			if err := s.DeleteMessagesByEvent(ctx, "irc", "$e1"); err != nil {
				t.Errorf("deleting missing lines: %v", err)
			}
		})
	})
}
