package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// valueAt reads the value at a key path such as "listen.client".
func valueAt(t *testing.T, c *Config, key string) string {
	t.Helper()
	v := reflect.ValueOf(c).Elem()
next:
	for name := range strings.SplitSeq(key, ".") {
		for i := range v.NumField() {
			tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if tag == name {
				v = v.Field(i)
				continue next
			}
		}
		t.Fatalf("no key %s in Config", key)
	}
	return fmt.Sprint(v.Interface())
}

func TestEnvOverridesEveryKey(t *testing.T) {
	// A valid value for each override, different from both the default and
	// the file below.
	values := map[string]string{
		"SWITCHBOARD_SERVER_NAME":          "env.example.org",
		"SWITCHBOARD_DATA_DIR":             "/srv/env",
		"SWITCHBOARD_PUBLIC_URL":           "https://env.example.org",
		"SWITCHBOARD_DATABASE_URI":         "postgres://env@db/env",
		"SWITCHBOARD_LISTEN_CLIENT":        "[::1]:7000",
		"SWITCHBOARD_LISTEN_FEDERATION":    "0.0.0.0:7448",
		"SWITCHBOARD_REGISTRATION_ENABLED": "true",
		"SWITCHBOARD_LOG_LEVEL":            "error",
		"SWITCHBOARD_LOG_FORMAT":           "json",
		"SWITCHBOARD_HOMESERVER_URL":       "https://env.example.org",
		"SWITCHBOARD_APPSERVICE_LISTEN":    "0.0.0.0:7300",
		"SWITCHBOARD_APPSERVICE_URL":       "http://env-bridges:7300",
	}
	file := `
server_name: file.example.org
data_dir: /srv/file
public_url: https://file.example.org
database:
  uri: postgres://file@db/file
listen:
  client: 127.0.0.1:6000
  federation: 0.0.0.0:6448
registration:
  enabled: false
log:
  level: warn
  format: text
homeserver:
  url: https://file.example.org
appservice:
  listen: 127.0.0.1:6300
  url: http://file-bridges:6300
`
	if len(values) != len(EnvOverrides()) {
		t.Fatalf("test has values for %d variables, EnvOverrides lists %d", len(values), len(EnvOverrides()))
	}
	for _, o := range EnvOverrides() {
		t.Run(o.Name, func(t *testing.T) {
			value, ok := values[o.Name]
			if !ok {
				t.Fatalf("no test value for %s", o.Name)
			}
			opts := Options{LookupEnv: envMap(map[string]string{o.Name: value})}
			for _, doc := range []string{"", file} {
				c := mustParse(t, doc, opts)
				if got := valueAt(t, c, o.Key); got != value {
					t.Errorf("with %s=%s and a file %v: %s = %q", o.Name, value, doc != "", o.Key, got)
				}
			}
		})
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		env   map[string]string
		check func(c *Config) string // returns what is wrong, or ""
	}{
		{
			name: "data_dir moves the default database",
			env:  map[string]string{"SWITCHBOARD_DATA_DIR": "/var/lib/sb"},
			check: func(c *Config) string {
				return expect(c.Database.URI, "sqlite://"+filepath.FromSlash("/var/lib/sb/switchboard.db"))
			},
		},
		{
			name: "data_dir from the file moves the default database",
			doc:  "data_dir: state\n",
			check: func(c *Config) string {
				return expect(c.Database.URI, "sqlite://"+filepath.FromSlash("./state/switchboard.db"))
			},
		},
		{
			name: "data_dir leaves an explicit database alone",
			doc:  "database:\n  uri: sqlite:///db/sb.db\n",
			env:  map[string]string{"SWITCHBOARD_DATA_DIR": "/var/lib/sb"},
			check: func(c *Config) string {
				return expect(c.Database.URI, "sqlite:///db/sb.db")
			},
		},
		{
			name: "empty database uri means the default",
			doc:  "database:\n  uri: postgres://sb@db/sb\n",
			env:  map[string]string{"SWITCHBOARD_DATABASE_URI": ""},
			check: func(c *Config) string {
				return expect(c.Database.URI, "sqlite://"+filepath.FromSlash("./data/switchboard.db"))
			},
		},
		{
			name: "empty federation turns it off",
			doc:  "listen:\n  federation: 0.0.0.0:8448\n",
			env:  map[string]string{"SWITCHBOARD_LISTEN_FEDERATION": ""},
			check: func(c *Config) string {
				return expect(c.Listen.Federation, "")
			},
		},
		{
			name: "registration from 1",
			env:  map[string]string{"SWITCHBOARD_REGISTRATION_ENABLED": "1"},
			check: func(c *Config) string {
				return expect(fmt.Sprint(c.Registration.Enabled), "true")
			},
		},
		{
			name: "registration false beats the file",
			doc:  "registration:\n  enabled: true\n",
			env:  map[string]string{"SWITCHBOARD_REGISTRATION_ENABLED": "false"},
			check: func(c *Config) string {
				return expect(fmt.Sprint(c.Registration.Enabled), "false")
			},
		},
		{
			name: "empty homeserver url unsets the file's",
			doc:  "homeserver:\n  url: https://matrix.example.org\n",
			env:  map[string]string{"SWITCHBOARD_HOMESERVER_URL": ""},
			check: func(c *Config) string {
				return expect(c.Homeserver.URL, "")
			},
		},
		{
			name: "empty appservice url derives it from listen",
			doc:  "appservice:\n  url: http://bridges:29300\n",
			env:  map[string]string{"SWITCHBOARD_APPSERVICE_URL": "", "SWITCHBOARD_APPSERVICE_LISTEN": "127.0.0.1:4000"},
			check: func(c *Config) string {
				return expect(c.AppserviceURL(), "http://127.0.0.1:4000")
			},
		},
		{
			name: "unset variables leave the file alone",
			doc:  "log:\n  level: debug\n",
			env:  map[string]string{"SWITCHBOARD_LOG_FORMAT": "json"},
			check: func(c *Config) string {
				return expect(c.Log.Level+" "+c.Log.Format, "debug json")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.doc, Options{LookupEnv: envMap(tt.env)})
			if problem := tt.check(c); problem != "" {
				t.Error(problem)
			}
		})
	}
}

func expect(got, want string) string {
	if got != want {
		return fmt.Sprintf("got %q, want %q", got, want)
	}
	return ""
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{
			name: "registration not a bool",
			env:  map[string]string{"SWITCHBOARD_REGISTRATION_ENABLED": "maybe"},
			want: `config: SWITCHBOARD_REGISTRATION_ENABLED: "maybe" is not true or false`,
		},
		{
			name: "registration empty",
			env:  map[string]string{"SWITCHBOARD_REGISTRATION_ENABLED": ""},
			want: `config: SWITCHBOARD_REGISTRATION_ENABLED: "" is not true or false`,
		},
		{
			name: "server name empty",
			env:  map[string]string{"SWITCHBOARD_SERVER_NAME": ""},
			want: `config: SWITCHBOARD_SERVER_NAME: set but empty; unset it to use server_name from the file, or give a value`,
		},
		{
			name: "log level empty",
			env:  map[string]string{"SWITCHBOARD_LOG_LEVEL": ""},
			want: `config: SWITCHBOARD_LOG_LEVEL: set but empty; unset it to use log.level from the file, or give a value`,
		},
		{
			name: "appservice listen empty",
			env:  map[string]string{"SWITCHBOARD_APPSERVICE_LISTEN": ""},
			want: `config: SWITCHBOARD_APPSERVICE_LISTEN: set but empty; unset it to use appservice.listen from the file, or give a value`,
		},
		{
			name: "bad homeserver url is validated",
			env:  map[string]string{"SWITCHBOARD_HOMESERVER_URL": "matrix.example.org"},
			want: `config: homeserver.url: "matrix.example.org" is not an absolute http or https URL; use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org`,
		},
		{
			name: "bad value is validated",
			env:  map[string]string{"SWITCHBOARD_LOG_LEVEL": "verbose"},
			want: `config: log.level: "verbose" is not a log level; use debug, info, warn or error`,
		},
		{
			name: "bad server name is validated",
			env:  map[string]string{"SWITCHBOARD_SERVER_NAME": "foo bar"},
			want: `config: server_name: "foo bar" is not a valid server name; use a DNS name such as example.org, optionally with :port`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(nil, "", Options{LookupEnv: envMap(tt.env)})
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}
