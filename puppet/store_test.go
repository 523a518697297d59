package puppet_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
	"switchboard/puppet"
)

func newStore(t *testing.T, db *database.DB) *puppet.Store {
	t.Helper()
	if err := db.Migrate(context.Background(), puppet.Schema()); err != nil {
		t.Fatal(err)
	}
	return puppet.NewStore(db)
}

// at is a time the store keeps exactly (it stores unix milliseconds).
func at(ms int64) time.Time { return time.UnixMilli(1_700_000_000_000 + ms) }

// about says whether t is within the last minute (tests that run as long
// are broken anyway), to the millisecond the store keeps.
func about(t time.Time, since time.Time) bool {
	return !t.Before(since.Truncate(time.Millisecond)) && !t.After(time.Now())
}

func samePuppet(t *testing.T, got, want *puppet.Puppet) {
	t.Helper()
	if got == nil {
		t.Fatalf("got no puppet, want %+v", want)
	}
	if got.UpdatedAt.UnixMilli() != want.UpdatedAt.UnixMilli() {
		t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, want.UpdatedAt)
	}
	g, w := *got, *want
	g.UpdatedAt, w.UpdatedAt = time.Time{}, time.Time{}
	if g != w {
		t.Errorf("puppet = %+v, want %+v", g, w)
	}
}

func sameLogin(t *testing.T, got, want *puppet.Login) {
	t.Helper()
	if got == nil {
		t.Fatalf("got no login, want %s", want)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	if !bytes.Equal(got.Secret, want.Secret) {
		t.Errorf("%s: Secret differs from what was put", want)
	}
	g, w := *got, *want
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	g.Secret, w.Secret = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("login = %+v, want %+v", g.LogValue(), w.LogValue())
	}
}

func loginKeys(ls []*puppet.Login) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, string(l.UserID)+"|"+l.LoginID)
	}
	return out
}

func TestSchema(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		for range 2 {
			if err := db.Migrate(ctx, puppet.Schema()); err != nil {
				t.Fatal(err)
			}
		}
		for _, table := range []string{"bridge_puppet_version", "bridge_puppets", "bridge_logins", "bridge_users"} {
			if ok, err := db.TableExists(ctx, table); err != nil || !ok {
				t.Errorf("table %s exists = %v (err %v)", table, ok, err)
			}
		}
	})
}

func TestPuppets(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		start := time.Now()
		alice := &puppet.Puppet{Network: "irc", RemoteID: "libera/alice", UserID: "@irc_libera_alice:example.org",
			DisplayName: "alice (IRC)", AvatarURL: "mxc://example.org/a", AvatarHash: "sha256:aa", Registered: true}
		xalice := &puppet.Puppet{Network: "xmpp", RemoteID: "libera/alice", UserID: "@xmpp_alice:example.org"}
		for _, p := range []*puppet.Puppet{alice, xalice} {
			if err := s.Put(ctx, p); err != nil {
				t.Fatalf("Put(%s): %v", p.UserID, err)
			}
			if !about(p.UpdatedAt, start) {
				t.Errorf("Put set UpdatedAt = %v, want about now", p.UpdatedAt)
			}
		}

		for _, tt := range []struct {
			name, network, remoteID string
			want                    *puppet.Puppet
		}{
			{"present", "irc", "libera/alice", alice},
			{"same id, other network", "xmpp", "libera/alice", xalice},
			{"missing id", "irc", "libera/bob", nil},
			{"missing network", "slack", "libera/alice", nil},
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
				samePuppet(t, got, tt.want)
			})
		}

		for _, tt := range []struct {
			name   string
			userID id.UserID
			want   *puppet.Puppet
		}{
			{"irc ghost", "@irc_libera_alice:example.org", alice},
			{"xmpp ghost", "@xmpp_alice:example.org", xalice},
			{"not a ghost", "@alice:example.org", nil},
		} {
			t.Run("ByUserID/"+tt.name, func(t *testing.T) {
				got, err := s.ByUserID(ctx, tt.userID)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == nil {
					if got != nil {
						t.Fatalf("got %+v, want nil", got)
					}
					return
				}
				samePuppet(t, got, tt.want)
			})
		}

		t.Run("Put/overwrites", func(t *testing.T) {
			upd := *alice
			upd.DisplayName, upd.AvatarURL, upd.AvatarHash, upd.Registered = "Alice", "", "", false
			upd.UpdatedAt = at(0) // ignored: Put stamps now
			before := time.Now()
			if err := s.Put(ctx, &upd); err != nil {
				t.Fatal(err)
			}
			if !about(upd.UpdatedAt, before) {
				t.Errorf("UpdatedAt = %v, want about now", upd.UpdatedAt)
			}
			got, err := s.Get(ctx, "irc", "libera/alice")
			if err != nil {
				t.Fatal(err)
			}
			samePuppet(t, got, &upd)
			if other, _ := s.Get(ctx, "xmpp", "libera/alice"); other == nil || other.DisplayName != "" {
				t.Errorf("Put touched another network's puppet: %+v", other)
			}
		})

		t.Run("Put/ghost of another puppet", func(t *testing.T) {
			err := s.Put(ctx, &puppet.Puppet{Network: "irc", RemoteID: "libera/mallory", UserID: alice.UserID})
			if err == nil {
				t.Fatal("two puppets share a ghost")
			}
			if got, _ := s.Get(ctx, "irc", "libera/mallory"); got != nil {
				t.Errorf("failed Put wrote %+v", got)
			}
		})
	})
}

func TestLogins(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		const alice, bob = id.UserID("@alice:example.org"), id.UserID("@bob:example.org")
		logins := []*puppet.Login{
			{Network: "slack", UserID: bob, LoginID: "T1", RemoteID: "U2", Name: "work", Secret: []byte("xoxc-bob"), State: "CONNECTED", CreatedAt: at(30)},
			{Network: "slack", UserID: alice, LoginID: "T2", RemoteID: "U9", Name: "hobby", Secret: []byte{0, 1, 2, 255, 0}, CreatedAt: at(20)},
			{Network: "slack", UserID: alice, LoginID: "T1", RemoteID: "U1", Name: "work", Secret: []byte("xoxc-alice"), State: "BAD_CREDENTIALS", StateMessage: "token revoked", CreatedAt: at(10)},
			{Network: "irc", UserID: alice, LoginID: "libera", RemoteID: "alice", Secret: []byte("hunter2"), CreatedAt: at(5)},
		}
		for _, l := range logins {
			if err := s.PutLogin(ctx, l); err != nil {
				t.Fatalf("PutLogin(%s): %v", l, err)
			}
		}

		for _, tt := range []struct {
			name    string
			network string
			userID  id.UserID // "" for Logins
			want    []*puppet.Login
		}{
			{"all of a network, oldest first", "slack", "", []*puppet.Login{logins[2], logins[1], logins[0]}},
			{"all of another network", "irc", "", []*puppet.Login{logins[3]}},
			{"no logins", "discord", "", nil},
			{"a user's, oldest first", "slack", alice, []*puppet.Login{logins[2], logins[1]}},
			{"another user's", "slack", bob, []*puppet.Login{logins[0]}},
			{"a user's on another network", "irc", alice, []*puppet.Login{logins[3]}},
			{"a user without logins there", "irc", bob, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var got []*puppet.Login
				var err error
				if tt.userID == "" {
					got, err = s.Logins(ctx, tt.network)
				} else {
					got, err = s.UserLogins(ctx, tt.network, tt.userID)
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("got %v, want %v", loginKeys(got), loginKeys(tt.want))
				}
				for i := range got {
					sameLogin(t, got[i], tt.want[i])
				}
			})
		}

		t.Run("PutLogin/upsert keeps created_at", func(t *testing.T) {
			upd := &puppet.Login{Network: "slack", UserID: alice, LoginID: "T1", RemoteID: "U1b", Name: "job",
				Secret: []byte("xoxc-new"), State: "CONNECTED", CreatedAt: at(999)}
			if err := s.PutLogin(ctx, upd); err != nil {
				t.Fatal(err)
			}
			if !upd.CreatedAt.Equal(at(10)) {
				t.Errorf("PutLogin set CreatedAt = %v, want the stored %v", upd.CreatedAt, at(10))
			}
			got, err := s.UserLogins(ctx, "slack", alice)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("UserLogins = %v, want 2 logins", loginKeys(got))
			}
			sameLogin(t, got[0], upd)
		})

		t.Run("PutLogin/new login at now, nil secret", func(t *testing.T) {
			before := time.Now()
			l := &puppet.Login{Network: "irc", UserID: bob, LoginID: "oftc"}
			if err := s.PutLogin(ctx, l); err != nil {
				t.Fatal(err)
			}
			if !about(l.CreatedAt, before) {
				t.Errorf("CreatedAt = %v, want about now", l.CreatedAt)
			}
			got, err := s.UserLogins(ctx, "irc", bob)
			if err != nil || len(got) != 1 {
				t.Fatalf("UserLogins = %v, %v", loginKeys(got), err)
			}
			if len(got[0].Secret) != 0 {
				t.Errorf("Secret = %d bytes, want none", len(got[0].Secret))
			}
			if got[0].CreatedAt.UnixMilli() != l.CreatedAt.UnixMilli() {
				t.Errorf("stored CreatedAt = %v, want %v", got[0].CreatedAt, l.CreatedAt)
			}
		})

		t.Run("SetLoginState", func(t *testing.T) {
			if err := s.SetLoginState(ctx, "slack", bob, "T1", "TRANSIENT_DISCONNECT", "reconnecting in 5s"); err != nil {
				t.Fatal(err)
			}
			got, err := s.UserLogins(ctx, "slack", bob)
			if err != nil || len(got) != 1 {
				t.Fatalf("UserLogins = %v, %v", loginKeys(got), err)
			}
			want := *logins[0]
			want.State, want.StateMessage = "TRANSIENT_DISCONNECT", "reconnecting in 5s"
			sameLogin(t, got[0], &want)

			err = s.SetLoginState(ctx, "slack", bob, "T9", "CONNECTED", "")
			if !errors.Is(err, puppet.ErrLoginNotFound) {
				t.Errorf("state of a missing login: err = %v, want ErrLoginNotFound", err)
			}
		})

		t.Run("DeleteLogin", func(t *testing.T) {
			if err := s.DeleteLogin(ctx, "slack", alice, "T2"); err != nil {
				t.Fatal(err)
			}
			got, err := s.UserLogins(ctx, "slack", alice)
			if err != nil {
				t.Fatal(err)
			}
			if keys := loginKeys(got); !reflect.DeepEqual(keys, []string{"@alice:example.org|T1"}) {
				t.Errorf("after DeleteLogin: %v", keys)
			}
			if err := s.DeleteLogin(ctx, "slack", alice, "T2"); err != nil {
				t.Errorf("deleting a missing login: %v", err)
			}
			if got, _ := s.UserLogins(ctx, "slack", bob); len(got) != 1 {
				t.Errorf("DeleteLogin touched another user: %v", loginKeys(got))
			}
		})
	})
}

func TestUsers(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		users := []*puppet.User{
			{Network: "irc", UserID: "@alice:example.org", ManagementRoom: "!alice-irc:example.org"},
			{Network: "slack", UserID: "@alice:example.org", ManagementRoom: "!alice-slack:example.org"},
			{Network: "irc", UserID: "@bob:example.org"},
			{Network: "irc", UserID: "@carol:example.org"},
		}
		for _, u := range users {
			if err := s.PutUser(ctx, u); err != nil {
				t.Fatalf("PutUser(%s %s): %v", u.Network, u.UserID, err)
			}
		}

		for _, tt := range []struct {
			name    string
			network string
			userID  id.UserID
			want    *puppet.User
		}{
			{"with a room", "irc", "@alice:example.org", users[0]},
			{"other network", "slack", "@alice:example.org", users[1]},
			{"without a room", "irc", "@bob:example.org", users[2]},
			{"unknown user", "irc", "@dave:example.org", nil},
			{"unknown on network", "slack", "@bob:example.org", nil},
		} {
			t.Run("User/"+tt.name, func(t *testing.T) {
				got, err := s.User(ctx, tt.network, tt.userID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("User = %+v, want %+v", got, tt.want)
				}
			})
		}

		for _, tt := range []struct {
			name    string
			network string
			room    id.RoomID
			want    *puppet.User
		}{
			{"irc room", "irc", "!alice-irc:example.org", users[0]},
			{"slack room", "slack", "!alice-slack:example.org", users[1]},
			{"room of another network", "slack", "!alice-irc:example.org", nil},
			{"unknown room", "irc", "!nope:example.org", nil},
			{"empty room matches nobody", "irc", "", nil},
		} {
			t.Run("UserByManagementRoom/"+tt.name, func(t *testing.T) {
				got, err := s.UserByManagementRoom(ctx, tt.network, tt.room)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("UserByManagementRoom = %+v, want %+v", got, tt.want)
				}
			})
		}

		t.Run("PutUser/overwrites", func(t *testing.T) {
			upd := &puppet.User{Network: "irc", UserID: "@alice:example.org", ManagementRoom: "!new:example.org"}
			if err := s.PutUser(ctx, upd); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.User(ctx, "irc", "@alice:example.org"); !reflect.DeepEqual(got, upd) {
				t.Errorf("User = %+v, want %+v", got, upd)
			}
			if got, _ := s.UserByManagementRoom(ctx, "irc", "!alice-irc:example.org"); got != nil {
				t.Errorf("old room still finds %+v", got)
			}
			if got, _ := s.UserByManagementRoom(ctx, "irc", "!new:example.org"); !reflect.DeepEqual(got, upd) {
				t.Errorf("new room finds %+v, want %+v", got, upd)
			}
			if got, _ := s.User(ctx, "slack", "@alice:example.org"); !reflect.DeepEqual(got, users[1]) {
				t.Errorf("PutUser touched another network: %+v", got)
			}
		})
	})
}
