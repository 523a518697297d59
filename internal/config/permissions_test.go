package config

import (
	"errors"
	"maps"
	"testing"
)

func TestPermissions(t *testing.T) {
	noBridges := Options{LookupEnv: envMap(nil)}
	tests := []struct {
		name string
		doc  string
		opts Options
		want map[string]string
	}{
		{
			name: "default",
			doc:  "server_name: example.org\n",
			opts: noBridges,
			want: map[string]string{"example.org": "user"},
		},
		{
			name: "default follows server_name",
			doc:  "server_name: example.org:8448\nbridges:\n  permissions:\n",
			opts: noBridges,
			want: map[string]string{"example.org:8448": "user"},
		},
		{
			name: "empty is the default",
			doc:  "server_name: example.org\nbridges:\n  permissions: {}\n",
			opts: noBridges,
			want: map[string]string{"example.org": "user"},
		},
		{
			name: "without any connector",
			doc:  "bridges:\n  permissions:\n    \"*\": relay\n    example.org: user\n    \"@admin:example.org\": admin\n",
			opts: noBridges,
			want: map[string]string{"*": "relay", "example.org": "user", "@admin:example.org": "admin"},
		},
		{
			name: "next to network sections",
			doc:  "bridges:\n  xmpp: {jid: a@b}\n  permissions: {\"@a:b.org\": admin}\n",
			opts: testOptions(),
			want: map[string]string{"@a:b.org": "admin"},
		},
		{
			name: "server names and user ids of every form",
			doc: "bridges:\n  permissions:\n    \"[::1]:8448\": user\n    192.0.2.1: relay\n    localhost: admin\n" +
				"    \"@Old.Style_User!:example.org\": user\n    \"@bot:[2001:db8::1]:8448\": relay\n",
			opts: noBridges,
			want: map[string]string{"[::1]:8448": "user", "192.0.2.1": "relay", "localhost": "admin", "@Old.Style_User!:example.org": "user", "@bot:[2001:db8::1]:8448": "relay"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.doc, tt.opts)
			got := c.Permissions()
			if !maps.Equal(got, tt.want) {
				t.Errorf("Permissions = %v, want %v", got, tt.want)
			}
			if _, ok := c.Bridges[permissionsKey]; ok {
				t.Error("Bridges holds permissions, which is not a network")
			}
			got["@intruder:evil.org"] = "admin"
			if c.Permissions()["@intruder:evil.org"] != "" {
				t.Error("changing the map Permissions returned changed the configuration")
			}
		})
	}
}

func TestPermissionsErrors(t *testing.T) {
	const keyFix = `use "*" for everyone, a server name such as example.org, or a user id such as @admin:example.org`
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{
			name: "unknown level",
			doc:  "bridges:\n  permissions:\n    \"@x:y\": superuser\n",
			want: `config: bridges.permissions["@x:y"]: "superuser" is not a permission level; use relay, user or admin`,
		},
		{
			name: "level in upper case",
			doc:  "bridges:\n  permissions:\n    example.org: Admin\n",
			want: `config: bridges.permissions["example.org"]: "Admin" is not a permission level; use relay, user or admin`,
		},
		{
			name: "no level",
			doc:  "bridges:\n  permissions:\n    example.org:\n",
			want: `config: bridges.permissions["example.org"]: "" is not a permission level; use relay, user or admin`,
		},
		{
			name: "level given a list",
			doc:  "bridges:\n  permissions:\n    example.org: [user]\n",
			want: `config: bridges.permissions["example.org"]: expected a string, got a list`,
		},
		{
			name: "permissions given a list",
			doc:  "bridges:\n  permissions: [\"@a:b\"]\n",
			want: `config: bridges.permissions: expected a mapping, got a list`,
		},
		{
			name: "key that is neither",
			doc:  "bridges:\n  permissions:\n    \"all users\": user\n",
			want: `config: bridges.permissions["all users"]: "all users" is not "*", a server name or a Matrix user id; ` + keyFix,
		},
		{
			name: "key with a scheme",
			doc:  "bridges:\n  permissions:\n    \"https://example.org\": user\n",
			want: `config: bridges.permissions["https://example.org"]: "https://example.org" is not "*", a server name or a Matrix user id; ` + keyFix,
		},
		{
			name: "user id without server",
			doc:  "bridges:\n  permissions:\n    \"@admin\": admin\n",
			want: `config: bridges.permissions["@admin"]: "@admin" is not a Matrix user id; use @localpart:server, such as @admin:example.org`,
		},
		{
			name: "user id without localpart",
			doc:  "bridges:\n  permissions:\n    \"@:example.org\": admin\n",
			want: `config: bridges.permissions["@:example.org"]: "@:example.org" is not a Matrix user id; use @localpart:server, such as @admin:example.org`,
		},
		{
			name: "user id with a space",
			doc:  "bridges:\n  permissions:\n    \"@a b:example.org\": admin\n",
			want: `config: bridges.permissions["@a b:example.org"]: "@a b:example.org" is not a Matrix user id; use @localpart:server, such as @admin:example.org`,
		},
		{
			name: "wildcard server",
			doc:  "bridges:\n  permissions:\n    \"*.example.org\": user\n",
			want: `config: bridges.permissions["*.example.org"]: "*.example.org" is not "*", a server name or a Matrix user id; ` + keyFix,
		},
		{
			name: "first problem in sorted order",
			doc:  "bridges:\n  permissions:\n    z.org: bad\n    a.org: worse\n",
			want: `config: bridges.permissions["a.org"]: "worse" is not a permission level; use relay, user or admin`,
		},
		{
			name: "duplicate entry",
			doc:  "bridges:\n  permissions:\n    a.org: user\n    a.org: admin\n",
			want: `config: bridges.permissions["a.org"]: duplicate key`,
		},
		{
			name: "given twice",
			doc:  "bridges:\n  permissions: {}\n  permissions: {}\n",
			want: `config: bridges.permissions: duplicate key`,
		},
		{
			name: "misspelt",
			doc:  "bridges:\n  permisions:\n    a.org: user\n",
			want: `config: bridges.permisions: unknown network (did you mean "permissions"?)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, opts := range []Options{testOptions(), {LookupEnv: envMap(nil)}} {
				_, err := Parse([]byte(tt.doc), "switchboard.yaml", opts)
				if err == nil || err.Error() != tt.want {
					t.Errorf("Parse error (%d connectors):\n got %v\nwant %s", len(opts.Bridges), err, tt.want)
				}
				var ce *Error
				if !errors.As(err, &ce) {
					t.Errorf("Parse error %T is not an *Error", err)
				}
			}
		})
	}

	t.Run("a connector named permissions", func(t *testing.T) {
		opts := testOptions()
		opts.Bridges["permissions"] = func() any { return &xmppTest{} }
		_, err := Parse(nil, "", opts)
		want := `config: bridges.permissions: a connector is registered under the name permissions, which bridges.permissions owns (a Switchboard bug)`
		if err == nil || err.Error() != want {
			t.Errorf("Parse error:\n got %v\nwant %s", err, want)
		}
	})
}

func TestAppserviceURL(t *testing.T) {
	tests := []struct{ listen, url, want string }{
		{"127.0.0.1:29300", "", "http://127.0.0.1:29300"},
		{"127.0.0.1:29300", "https://bridges.example.org/irc", "https://bridges.example.org/irc"},
		{"bridges.internal:29300", "", "http://bridges.internal:29300"},
		{"[::1]:29300", "", "http://[::1]:29300"},
		{":29300", "", "http://127.0.0.1:29300"},
		{"0.0.0.0:29300", "", "http://127.0.0.1:29300"},
		{"[::]:29300", "", "http://[::1]:29300"},
	}
	for _, tt := range tests {
		t.Run(tt.listen+" "+tt.url, func(t *testing.T) {
			c := defaultConfig()
			c.Appservice = Appservice{Listen: tt.listen, URL: tt.url}
			if err := c.Validate(testOptions()); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := c.AppserviceURL(); got != tt.want {
				t.Errorf("AppserviceURL = %q, want %q", got, tt.want)
			}
		})
	}
}
