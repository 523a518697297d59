package bridge

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"
)

func TestPermissions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server string
		raw    map[string]string
		want   map[id.UserID]level
	}{
		{"nil: the bridge's own server may use it", "example.org", nil, map[id.UserID]level{
			"@alice:example.org":      levelUser,
			"@bob:other.org":          levelNone,
			"@eve:evil.example.org":   levelNone, // a subdomain is another server
			"@eve:example.org.evil":   levelNone,
			"@eve:example.org:8448":   levelNone, // another port is another server
			"not a user id":           levelNone,
			"@no-server":              levelNone,
			"@alice:EXAMPLE.ORG":      levelNone, // server names are compared as written
			"@someone:example.org/xx": levelNone,
		}},
		{"empty map is the default too", "example.org", map[string]string{}, map[id.UserID]level{
			"@alice:example.org": levelUser,
			"@bob:other.org":     levelNone,
		}},
		{"server name with a port", "localhost:8008", nil, map[id.UserID]level{
			"@alice:localhost:8008": levelUser,
			"@alice:localhost":      levelNone,
		}},
		{"star only: the default for the own server is gone", "example.org", map[string]string{"*": "relay"}, map[id.UserID]level{
			"@alice:example.org": levelRelay,
			"@bob:other.org":     levelRelay,
		}},
		{"mxid over server over star", "example.org", map[string]string{
			"*":                   "relay",
			"example.org":         "user",
			"@boss:example.org":   "admin",
			"@guest:example.org":  "relay", // a user entry wins even when lower
			"partner.org":         "admin",
			"@intern:partner.org": "user",
		}, map[id.UserID]level{
			"@alice:example.org":  levelUser,
			"@boss:example.org":   levelAdmin,
			"@guest:example.org":  levelRelay,
			"@ceo:partner.org":    levelAdmin,
			"@intern:partner.org": levelUser,
			"@bob:other.org":      levelRelay,
		}},
		{"no star: unlisted users get none", "example.org", map[string]string{"@admin:example.org": "admin", "friends.org": "user"}, map[id.UserID]level{
			"@admin:example.org": levelAdmin,
			"@alice:example.org": levelNone,
			"@bob:friends.org":   levelUser,
			"@carol:other.org":   levelNone,
		}},
		{"levels are case-insensitive", "example.org", map[string]string{"*": "RELAY", "example.org": "User", "@a:example.org": "aDmIn"}, map[id.UserID]level{
			"@a:example.org": levelAdmin,
			"@b:example.org": levelUser,
			"@c:other.org":   levelRelay,
		}},
		{"server key with a port", "example.org", map[string]string{"localhost:8008": "admin"}, map[id.UserID]level{
			"@a:localhost:8008": levelAdmin,
			"@a:localhost":      levelNone,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePermissions(tc.raw, tc.server)
			if err != nil {
				t.Fatal(err)
			}
			for user, want := range tc.want {
				if got := p.of(user); got != want {
					t.Errorf("of(%q) = %v, want %v", user, got, want)
				}
			}
		})
	}
}

func TestPermissionsUnknownLevel(t *testing.T) {
	for _, tc := range []struct {
		key, value string
	}{
		{"@alice:example.org", "superuser"},
		{"example.org", ""},
		{"*", "admin "}, // no trimming
		{"example.org", "users"},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			raw := map[string]string{"other.org": "user", tc.key: tc.value}
			_, err := parsePermissions(raw, "example.org")
			if err == nil {
				t.Fatalf("level %q accepted", tc.value)
			}
			msg := err.Error()
			for _, want := range []string{"bridges.permissions", `"` + tc.key + `"`, `"` + tc.value + `"`, "relay", "user", "admin"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %s", msg, want)
				}
			}
		})
	}
}

func TestLevelString(t *testing.T) {
	for l, want := range map[level]string{levelNone: "none", levelRelay: "relay", levelUser: "user", levelAdmin: "admin"} {
		if got := l.String(); got != want {
			t.Errorf("level(%d).String() = %q, want %q", int(l), got, want)
		}
	}
	if !(levelNone < levelRelay && levelRelay < levelUser && levelUser < levelAdmin) {
		t.Error("levels are not ordered by what they allow")
	}
}
