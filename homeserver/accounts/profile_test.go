package accounts

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

type profileChange struct {
	user                   id.UserID
	displayName, avatarURL string
}

func TestProfile(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		var (
			mu      sync.Mutex
			changes []profileChange
		)
		s := newServer(t, db, func(o *Options) {
			o.OnProfileChange = func(ctx context.Context, userID id.UserID, displayName, avatarURL string) {
				mu.Lock()
				defer mu.Unlock()
				changes = append(changes, profileChange{userID, displayName, avatarURL})
			}
		})
		ctx := context.Background()
		alice := s.register(t, "alice", "correct horse")
		bob := s.register(t, "bob", "correct horse")

		// The display name starts as the localpart.
		if name, err := bob.GetDisplayName(ctx, alice.UserID); err != nil || name.DisplayName != "alice" {
			t.Errorf("initial display name %+v %v", name, err)
		}
		if err := alice.SetDisplayName(ctx, "Alice Liddell"); err != nil {
			t.Fatal(err)
		}
		if name, err := bob.GetDisplayName(ctx, alice.UserID); err != nil || name.DisplayName != "Alice Liddell" {
			t.Errorf("display name %+v %v", name, err)
		}
		avatar := id.ContentURI{Homeserver: testServer, FileID: "abcdef"}
		if err := alice.SetAvatarURL(ctx, avatar); err != nil {
			t.Fatal(err)
		}
		profile, err := bob.GetProfile(ctx, alice.UserID)
		if err != nil || profile.DisplayName != "Alice Liddell" || profile.AvatarURL != avatar {
			t.Errorf("profile %+v %v", profile, err)
		}
		if got, err := alice.GetAvatarURL(ctx, alice.UserID); err != nil || got != avatar {
			t.Errorf("avatar %v %v", got, err)
		}
		// Setting the same name again changes nothing and tells nobody.
		if err := alice.SetDisplayName(ctx, "Alice Liddell"); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		want := []profileChange{
			{alice.UserID, "Alice Liddell", ""},
			{alice.UserID, "Alice Liddell", avatar.String()},
		}
		if len(changes) != len(want) || changes[0] != want[0] || changes[1] != want[1] {
			t.Errorf("OnProfileChange calls %+v, want %+v", changes, want)
		}
		mu.Unlock()
		if name, url, err := s.Profile(ctx, alice.UserID); err != nil || name != "Alice Liddell" || url != avatar.String() {
			t.Errorf("Profile() = %q %q %v", name, url, err)
		}
		if _, _, err := s.Profile(ctx, "@nobody:example.org"); !errors.Is(err, ErrUnknownUser) {
			t.Errorf("Profile of nobody: %v", err)
		}

		// Only yourself.
		r := s.do(t, "PUT", "/_matrix/client/v3/profile/@alice:example.org/displayname", bob.AccessToken, map[string]any{"displayname": "hacked"})
		wantStatus(t, "set someone else's name", r, 403, "M_FORBIDDEN")
		r = s.do(t, "PUT", "/_matrix/client/v3/profile/@alice:example.org/displayname", "", map[string]any{"displayname": "x"})
		wantStatus(t, "set without token", r, 401, "M_MISSING_TOKEN")
		// Unknown users.
		for _, path := range []string{"/@nobody:example.org", "/@nobody:example.org/displayname", "/@alice:other.org", "/garbage/avatar_url"} {
			r = s.do(t, "GET", "/_matrix/client/v3/profile"+path, "", nil)
			wantStatus(t, "GET profile"+path, r, 404, "M_NOT_FOUND")
		}
		// Validation.
		r = s.do(t, "PUT", "/_matrix/client/v3/profile/@alice:example.org/avatar_url", alice.AccessToken, map[string]any{"avatar_url": "https://example.org/a.png"})
		wantStatus(t, "http avatar", r, 400, "M_INVALID_PARAM")
		r = s.do(t, "PUT", "/_matrix/client/v3/profile/@alice:example.org/displayname", alice.AccessToken, map[string]any{"displayname": strings.Repeat("n", 257)})
		wantStatus(t, "long name", r, 400, "M_INVALID_PARAM")
		r = s.do(t, "PUT", "/_matrix/client/v3/profile/@alice:example.org/displayname", alice.AccessToken, map[string]any{"displayname": 42})
		wantStatus(t, "number as name", r, 400, "M_BAD_JSON")
		// Clearing a field: it is then not found.
		r = s.do(t, "PUT", "/_matrix/client/v3/profile/@alice:example.org/avatar_url", alice.AccessToken, map[string]any{"avatar_url": nil})
		wantStatus(t, "clear avatar", r, 200, "")
		r = s.do(t, "GET", "/_matrix/client/v3/profile/@alice:example.org/avatar_url", "", nil)
		wantStatus(t, "cleared avatar", r, 404, "M_NOT_FOUND")
		r = s.do(t, "GET", "/_matrix/client/v3/profile/@alice:example.org", "", nil)
		if _, has := r.body["avatar_url"]; r.status != 200 || has || r.body["displayname"] != "Alice Liddell" {
			t.Errorf("profile after clearing the avatar: %s", r.raw)
		}
	})
}
