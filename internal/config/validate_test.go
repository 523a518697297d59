package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"switchboard/internal/database"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg.yaml")
	if err := os.WriteFile(reg, []byte("id: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable.yaml")
	if err := os.WriteFile(unreadable, []byte("id: x\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yaml")

	tests := []struct {
		name   string
		change func(c *Config)
		want   string // "" means valid
	}{
		{"defaults", func(c *Config) {}, ""},

		// server_name
		{"server name missing", func(c *Config) { c.ServerName = "" },
			`config: server_name: missing; set the Matrix server name, such as example.org`},
		{"server name with a space", func(c *Config) { c.ServerName = "foo bar" },
			`config: server_name: "foo bar" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name DNS", func(c *Config) { c.ServerName = "matrix.example.org" }, ""},
		{"server name with port", func(c *Config) { c.ServerName = "example.org:8448" }, ""},
		{"server name IPv4", func(c *Config) { c.ServerName = "192.0.2.1" }, ""},
		{"server name IPv4 with port", func(c *Config) { c.ServerName = "192.0.2.1:8448" }, ""},
		{"server name IPv6", func(c *Config) { c.ServerName = "[2001:db8::1]" }, ""},
		{"server name IPv6 with port", func(c *Config) { c.ServerName = "[::1]:8448" }, ""},
		{"server name port 0", func(c *Config) { c.ServerName = "example.org:0" },
			`config: server_name: "example.org:0" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name port too large", func(c *Config) { c.ServerName = "example.org:65536" },
			`config: server_name: "example.org:65536" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name empty port", func(c *Config) { c.ServerName = "example.org:" },
			`config: server_name: "example.org:" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name two ports", func(c *Config) { c.ServerName = "example.org:80:80" },
			`config: server_name: "example.org:80:80" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name IPv6 without brackets", func(c *Config) { c.ServerName = "::1" },
			`config: server_name: "::1" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name IPv4 in brackets", func(c *Config) { c.ServerName = "[192.0.2.1]" },
			`config: server_name: "[192.0.2.1]" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name unclosed bracket", func(c *Config) { c.ServerName = "[::1" },
			`config: server_name: "[::1" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name empty label", func(c *Config) { c.ServerName = "example..org" },
			`config: server_name: "example..org" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name underscore", func(c *Config) { c.ServerName = "my_host.org" },
			`config: server_name: "my_host.org" is not a valid server name; use a DNS name such as example.org, optionally with :port`},
		{"server name with scheme", func(c *Config) { c.ServerName = "https://example.org" },
			`config: server_name: "https://example.org" is not a valid server name; use a DNS name such as example.org, optionally with :port`},

		// data_dir
		{"data dir empty", func(c *Config) { c.DataDir = "" },
			`config: data_dir: empty; set the directory Switchboard keeps its data in, such as ./data`},

		// database.uri
		{"database sqlite absolute", func(c *Config) { c.Database.URI = "sqlite:///var/lib/sb/sb.db" }, ""},
		{"database scheme in upper case", func(c *Config) { c.Database.URI = "SQLite://./sb.db" }, ""},
		{"database postgres", func(c *Config) { c.Database.URI = "postgres://sb:pw@db:5432/sb?sslmode=disable" }, ""},
		{"database postgresql", func(c *Config) { c.Database.URI = "postgresql://sb@db/sb" }, ""},
		{"database postgres socket in query", func(c *Config) { c.Database.URI = "postgres:///sb?host=/run/postgresql" }, ""},
		{"database empty", func(c *Config) { c.Database.URI = "" },
			`config: database.uri: empty; use sqlite://PATH or postgres://user:pass@host:port/db?sslmode=disable`},
		{"database unknown scheme", func(c *Config) { c.Database.URI = "mysql://sb:s3cret@db/sb" },
			`config: database.uri: unknown scheme "mysql"; use sqlite://PATH or postgres://user:pass@host:port/db?sslmode=disable`},
		{"database sqlite without slashes", func(c *Config) { c.Database.URI = "sqlite:sb.db" },
			`config: database.uri: sqlite:sb.db: malformed; use sqlite://PATH, e.g. sqlite://./data/switchboard.db`},
		{"database postgres without slashes", func(c *Config) { c.Database.URI = "postgres:sb:s3cret@db" },
			`config: database.uri: postgres:xxxxx@db: malformed; use postgres://user:pass@host:port/db?sslmode=disable`},
		{"database postgres unparsable", func(c *Config) { c.Database.URI = "postgres://sb:s3cret@db:port/sb" },
			`config: database.uri: postgres://sb:xxxxx@db:port/sb: not a valid PostgreSQL URI (invalid port); use postgres://user:pass@host:port/db?sslmode=disable`},

		// listen
		{"listen client all interfaces", func(c *Config) { c.Listen.Client = ":8008" }, ""},
		{"listen client IPv6", func(c *Config) { c.Listen.Client = "[::1]:8008" }, ""},
		{"listen client host name", func(c *Config) { c.Listen.Client = "localhost:8008" }, ""},
		{"listen client any port", func(c *Config) { c.Listen.Client = "127.0.0.1:0" }, ""},
		{"listen client missing", func(c *Config) { c.Listen.Client = "" },
			`config: listen.client: missing; use 127.0.0.1:8008`},
		{"listen client port alone", func(c *Config) { c.Listen.Client = "8008" },
			`config: listen.client: "8008" is not host:port; use 127.0.0.1:8008`},
		{"listen client named port", func(c *Config) { c.Listen.Client = "127.0.0.1:http" },
			`config: listen.client: "127.0.0.1:http": port "http" is not a number from 0 to 65535; use 127.0.0.1:8008`},
		{"listen client port too large", func(c *Config) { c.Listen.Client = "127.0.0.1:65536" },
			`config: listen.client: "127.0.0.1:65536": port "65536" is not a number from 0 to 65535; use 127.0.0.1:8008`},
		{"listen client bad host", func(c *Config) { c.Listen.Client = "my host:8008" },
			`config: listen.client: "my host:8008": "my host" is not a host name or IP address; use 127.0.0.1:8008`},
		{"listen federation on", func(c *Config) { c.Listen.Federation = "0.0.0.0:8448" }, ""},
		{"listen federation bad", func(c *Config) { c.Listen.Federation = "8448" },
			`config: listen.federation: "8448" is not host:port; use 0.0.0.0:8448, or leave it empty to turn federation off`},
		{"listen federation same as client", func(c *Config) { c.Listen.Federation = "127.0.0.1:8008" },
			`config: listen.federation: "127.0.0.1:8008" is also listen.client; use another port, such as 8448`},
		{"listen both on any port", func(c *Config) { c.Listen.Client, c.Listen.Federation = "127.0.0.1:0", "127.0.0.1:0" }, ""},

		// appservices
		{"appservice readable", func(c *Config) { c.Appservices = []string{reg} }, ""},
		{"appservice empty", func(c *Config) { c.Appservices = []string{reg, " "} },
			`config: appservices[1]: empty; give the path of an appservice registration file, or remove the entry`},
		{"appservice missing", func(c *Config) { c.Appservices = []string{missing} },
			`config: appservices[0]: ` + missing + `: no such file; list the registration files the homeserver should load`},
		{"appservice directory", func(c *Config) { c.Appservices = []string{dir} },
			`config: appservices[0]: ` + dir + `: is a directory; list registration files, not directories`},
		{"appservice twice", func(c *Config) { c.Appservices = []string{reg, filepath.Join(dir, ".", "reg.yaml")} },
			`config: appservices[1]: ` + filepath.Join(dir, "reg.yaml") + ` is also appservices[0]; list each registration file once`},

		// log
		{"log level", func(c *Config) { c.Log.Level = "verbose" },
			`config: log.level: "verbose" is not a log level; use debug, info, warn or error`},
		{"log level upper case", func(c *Config) { c.Log.Level = "INFO" },
			`config: log.level: "INFO" is not a log level; use debug, info, warn or error`},
		{"log format", func(c *Config) { c.Log.Format = "xml" },
			`config: log.format: "xml" is not a log format; use text or json`},
		{"media size", func(c *Config) { c.Media.MaxUploadBytes = 0 },
			`config: media.max_upload_bytes: 0 is not a size; use a number of bytes above 0, such as 52428800 (50 MiB)`},
		{"login rate", func(c *Config) { c.RateLimits.Login.PerSecond = 0 },
			`config: rate_limits.login.per_second: 0 must be above 0; to turn limits off set rate_limits.enabled: false`},
		{"register burst", func(c *Config) { c.RateLimits.Register.Burst = 0 },
			`config: rate_limits.register.burst: 0 must be at least 1`},

		// homeserver.url
		{"homeserver url unset", func(c *Config) { c.Homeserver.URL = "" }, ""},
		{"homeserver url http", func(c *Config) { c.Homeserver.URL = "http://127.0.0.1:8008" }, ""},
		{"homeserver url https with path", func(c *Config) { c.Homeserver.URL = "https://example.org/matrix/" }, ""},
		{"homeserver url IPv6", func(c *Config) { c.Homeserver.URL = "http://[::1]:8008" }, ""},
		{"homeserver url upper-case scheme", func(c *Config) { c.Homeserver.URL = "HTTPS://matrix.example.org" }, ""},
		{"homeserver url without scheme", func(c *Config) { c.Homeserver.URL = "matrix.example.org" },
			`config: homeserver.url: "matrix.example.org" is not an absolute http or https URL; use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org`},
		{"homeserver url host:port", func(c *Config) { c.Homeserver.URL = "127.0.0.1:8008" },
			`config: homeserver.url: "127.0.0.1:8008" is not an absolute http or https URL; use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org`},
		{"homeserver url other scheme", func(c *Config) { c.Homeserver.URL = "ftp://matrix.example.org" },
			`config: homeserver.url: "ftp://matrix.example.org" is not an absolute http or https URL; use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org`},
		{"homeserver url without host", func(c *Config) { c.Homeserver.URL = "http:///_matrix" },
			`config: homeserver.url: "http:///_matrix" is not an absolute http or https URL; use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org`},
		{"homeserver url port without host", func(c *Config) { c.Homeserver.URL = "http://:8008" },
			`config: homeserver.url: "http://:8008": "" is not a host name or IP address; use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org`},
		{"homeserver url bad host", func(c *Config) { c.Homeserver.URL = "http://my_host:8008" },
			`config: homeserver.url: "http://my_host:8008": "my_host" is not a host name or IP address; use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org`},
		{"homeserver url query", func(c *Config) { c.Homeserver.URL = "https://example.org/?x=1" },
			`config: homeserver.url: "https://example.org/?x=1" has a query or fragment, which the API paths cannot follow; remove it, and use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org`},
		{"homeserver url password", func(c *Config) { c.Homeserver.URL = "https://me:s3cret@example.org" },
			`config: homeserver.url: "https://me:xxxxx@example.org" holds a user name or password; remove it, and use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org`},

		// appservice
		{"appservice listen all interfaces", func(c *Config) { c.Appservice.Listen = "0.0.0.0:29300" }, ""},
		{"appservice listen without host", func(c *Config) { c.Appservice.Listen = ":29300" }, ""},
		{"appservice listen missing", func(c *Config) { c.Appservice.Listen = "" },
			`config: appservice.listen: missing; use 127.0.0.1:29300`},
		{"appservice listen port alone", func(c *Config) { c.Appservice.Listen = "29300" },
			`config: appservice.listen: "29300" is not host:port; use 127.0.0.1:29300`},
		{"appservice listen URL", func(c *Config) { c.Appservice.Listen = "http://127.0.0.1:29300" },
			`config: appservice.listen: "http://127.0.0.1:29300" is not host:port; use 127.0.0.1:29300`},
		{"appservice url", func(c *Config) { c.Appservice.URL = "http://bridges:29300" }, ""},
		{"appservice url without scheme", func(c *Config) { c.Appservice.URL = "bridges:29300" },
			`config: appservice.url: "bridges:29300" is not an absolute http or https URL; use the address the homeserver reaches appservice.listen at, such as http://127.0.0.1:29300, or leave it empty for http://<appservice.listen>`},
	}
	if os.Geteuid() != 0 { // root reads any file
		tests = append(tests, struct {
			name   string
			change func(c *Config)
			want   string
		}{"appservice unreadable", func(c *Config) { c.Appservices = []string{unreadable} },
			`config: appservices[0]: ` + unreadable + `: permission denied; make it readable by the user running Switchboard`})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			tt.change(c)
			err := c.Validate(testOptions())
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("Validate error:\n got %v\nwant %s", err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("Validate error %T is not an *Error", err)
			}
		})
	}
}

func TestValidateBridges(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		opts *Options // nil means testOptions()
		want string
	}{
		{
			name: "section valid",
			doc:  "bridges:\n  irc:\n    networks:\n      - {id: a, server: a:6697}\n  xmpp: {jid: a@b}\n  slack: {token: t}\n",
		},
		{
			name: "error with a path relative to the section",
			doc:  "bridges:\n  irc:\n    networks:\n      - {id: a, server: a:6697}\n      - {id: b}\n",
			want: `config: bridges.irc.networks[1].server: missing; set host:port`,
		},
		{
			name: "plain error",
			doc:  "bridges:\n  xmpp: {}\n",
			want: `config: bridges.xmpp: jid: missing; set user@host`,
		},
		{
			name: "error with the full path",
			doc:  "bridges:\n  slack: {}\n",
			want: `config: bridges.slack.token: missing; paste the bot token`,
		},
		{
			name: "null section is validated",
			doc:  "bridges:\n  xmpp:\n",
			want: `config: bridges.xmpp: jid: missing; set user@host`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			if tt.opts != nil {
				opts = *tt.opts
			}
			_, err := Parse([]byte(tt.doc), "switchboard.yaml", opts)
			if tt.want == "" {
				if err != nil {
					t.Errorf("Parse: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}

	t.Run("section of a network not built in", func(t *testing.T) {
		c := defaultConfig()
		c.Bridges = Bridges{"irc": yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}}
		err := c.Validate(Options{})
		want := `config: bridges.irc: no connector for this network is built into Switchboard yet`
		if err == nil || err.Error() != want {
			t.Errorf("Validate error:\n got %v\nwant %s", err, want)
		}
	})
}

func TestSectionError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("broken"), "config: bridges.irc: broken"},
		{&Error{Path: "", Problem: "p"}, "config: bridges.irc: p"},
		{&Error{Path: "nick", Problem: "p"}, "config: bridges.irc.nick: p"},
		{&Error{Path: "[0]", Problem: "p"}, "config: bridges.irc[0]: p"},
		{&Error{Path: "bridges.irc", Problem: "p"}, "config: bridges.irc: p"},
		{&Error{Path: "bridges.irc.nick", Problem: "p"}, "config: bridges.irc.nick: p"},
		{&Error{Path: "bridges.ircx", Problem: "p"}, "config: bridges.irc.bridges.ircx: p"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := sectionError("bridges.irc", tt.err).Error(); got != tt.want {
				t.Errorf("sectionError(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

// TestNoPasswordInErrors feeds database URIs with a password through every
// path that reports one.
func TestNoPasswordInErrors(t *testing.T) {
	const password = "s3cret"
	uris := []string{
		"mysql://sb:s3cret@db/sb",
		"postgres://sb:s3cret@/sb",
		"postgres://sb:s3cret@db:port/sb",
		"postgres://sb:s3cret@db /sb",
		"postgres://sb:s3cret%zz@db/sb",
		"postgres://sb:s3c/ret@/sb",
		"postgres://sb:s3cret@db@/sb",
		"postgresql://sb:s3cret@:5432",
		"postgres:sb:s3cret@",
		"postgres:///sb?password=s3cret",
		"postgres://%zz/sb?sslmode=disable&password=s3cret",
		"host=db user=sb password=s3cret",
		"sb:s3cret@db/sb",
		"s3cret",
	}
	for _, uri := range uris {
		t.Run(uri, func(t *testing.T) {
			for _, via := range []string{"file", "env"} {
				doc, env := "database:\n  uri: '"+uri+"'\n", map[string]string(nil)
				if via == "env" {
					doc, env = "", map[string]string{"SWITCHBOARD_DATABASE_URI": uri}
				}
				_, err := Parse([]byte(doc), "switchboard.yaml", Options{LookupEnv: envMap(env)})
				if err == nil {
					continue
				}
				if strings.Contains(err.Error(), "s3c") {
					t.Errorf("error from %s shows the password: %v", via, err)
				}
			}
			if uri == password {
				return // nothing marks it as a password
			}
			if got := database.Redact(uri); strings.Contains(got, password) {
				t.Errorf("database.Redact(%q) = %q", uri, got)
			}
		})
	}
}

func TestDatabaseRedact(t *testing.T) {
	tests := []struct{ uri, want string }{
		{"postgres://sb:pw@db:5432/sb?sslmode=disable", "postgres://sb:xxxxx@db:5432/sb?sslmode=disable"},
		{"postgres://sb@db/sb", "postgres://sb@db/sb"},
		{"postgres://db/sb?password=pw&sslmode=disable", "postgres://db/sb?password=xxxxx&sslmode=disable"},
		{"sqlite:///var/lib/sb.db", "sqlite:///var/lib/sb.db"},
		{"postgres:sb:pw@db", "postgres:xxxxx@db"},
		{"sb:pw@db/sb", "sb:xxxxx@db/sb"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			if got := database.Redact(tt.uri); got != tt.want {
				t.Errorf("Redact = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDatabaseURIErrorsNameTheKey: the URI rules themselves belong to the
// database package (and are tested there); config reports each problem as
// an *Error on database.uri without the password.
func TestDatabaseURIErrorsNameTheKey(t *testing.T) {
	for _, uri := range []string{
		"./data/sb.db", "host=db password=s3cret", "sqlite://", "sqlite://./sb.db?_pragma=x",
		"sqlite://:memory:", "postgres:sb:s3cret@db", "postgres://sb:s3cret@db:port/sb",
	} {
		t.Run(uri, func(t *testing.T) {
			_, err := Parse(nil, "", Options{LookupEnv: envMap(map[string]string{"SWITCHBOARD_DATABASE_URI": uri})})
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.Path != "database.uri" {
				t.Fatalf("err = %v, want an *Error on database.uri", err)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %q", err)
			}
		})
	}
}
