package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// Test sections standing in for connectors.

type ircTest struct {
	Networks []ircNetworkTest  `yaml:"networks"`
	Timeout  Duration          `yaml:"timeout"`
	MaxLines uint8             `yaml:"max_lines"`
	Port     int16             `yaml:"port"`
	Ratio    float32           `yaml:"ratio"`
	TLS      bool              `yaml:"tls"`
	Channels map[string]string `yaml:"channels"`
	Tree     []treeTest        `yaml:"tree"`
}

type ircNetworkTest struct {
	ID     string `yaml:"id"`
	Server string `yaml:"server"`
	Ports  []int  `yaml:"ports"`
}

type treeTest struct {
	Items []treeTest `yaml:"items"`
}

// Validate returns a path relative to the section, which Config.Validate
// places under bridges.irc.
func (c *ircTest) Validate() error {
	for i, n := range c.Networks {
		if n.Server == "" {
			return &Error{Path: fmt.Sprintf("networks[%d].server", i), Problem: "missing; set host:port"}
		}
	}
	return nil
}

type xmppTest struct {
	JID string `yaml:"jid"`
}

// Validate returns a plain error, which Config.Validate prefixes.
func (c *xmppTest) Validate() error {
	if c.JID == "" {
		return errors.New("jid: missing; set user@host")
	}
	return nil
}

type slackTest struct {
	Token string `yaml:"token"`
}

// Validate returns a full path, which Config.Validate passes through.
func (c *slackTest) Validate() error {
	if c.Token == "" {
		return fmt.Errorf("slack: %w", &Error{Path: "bridges.slack.token", Problem: "missing; paste the bot token"})
	}
	return nil
}

func testOptions() Options {
	return Options{
		Bridges: map[string]func() any{
			"irc":   func() any { return &ircTest{} },
			"xmpp":  func() any { return &xmppTest{} },
			"slack": func() any { return &slackTest{} },
		},
		LookupEnv: envMap(nil),
	}
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func defaultConfig() *Config {
	return &Config{
		ServerName:         "localhost",
		DataDir:            "./data",
		Database:           Database{URI: "sqlite://" + filepath.FromSlash("./data/switchboard.db")},
		Listen:             Listen{Client: "127.0.0.1:8008", Federation: ""},
		Appservices:        []string{},
		Log:                Log{Level: "info", Format: "text"},
		Media:              Media{MaxUploadBytes: 50 << 20},
		AppserviceDelivery: AppserviceDelivery{BatchSize: 100, MaxRetryInterval: Duration(5 * time.Minute)},
		RateLimits: RateLimits{
			Enabled:  true,
			Login:    RateLimit{PerSecond: 0.5, Burst: 5},
			Register: RateLimit{PerSecond: 0.1, Burst: 3},
		},
		Appservice: Appservice{Listen: "127.0.0.1:29300"},
		Bridges:    Bridges{},
	}
}

func mustParse(t *testing.T, doc string, opts Options) *Config {
	t.Helper()
	c, err := Parse([]byte(doc), "switchboard.yaml", opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	want := defaultConfig()
	tests := []struct {
		name string
		doc  []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"example", Example()},
		{"comments only", []byte("# nothing here\n")},
		{"null document", []byte("~\n")},
		{"keys without values", []byte("server_name:\nlisten:\nappservices:\nlog:\n  level:\nbridges:\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.doc, "", Options{LookupEnv: envMap(nil)})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
	t.Run("Load without a file", func(t *testing.T) {
		got, err := Load("", Options{LookupEnv: envMap(nil)})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Load(\"\") =\n%+v\nwant\n%+v", got, want)
		}
	})
}

func TestDefaultDatabaseURI(t *testing.T) {
	tests := []struct{ dataDir, want string }{
		{"./data", "sqlite://./data/switchboard.db"},
		{"data", "sqlite://./data/switchboard.db"},
		{".", "sqlite://./switchboard.db"},
		{"../state", "sqlite://../state/switchboard.db"},
		{"/var/lib/sb", "sqlite:///var/lib/sb/switchboard.db"},
		{"/var/lib/sb/", "sqlite:///var/lib/sb/switchboard.db"},
	}
	for _, tt := range tests {
		t.Run(tt.dataDir, func(t *testing.T) {
			if got, want := defaultDatabaseURI(filepath.FromSlash(tt.dataDir)), filepath.FromSlash(tt.want); got != want {
				t.Errorf("defaultDatabaseURI(%q) = %q, want %q", tt.dataDir, got, want)
			}
		})
	}
}

func TestParseEveryKey(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "bridge.yaml")
	if err := os.WriteFile(reg, []byte("id: bridge\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `
server_name: example.org:8448
data_dir: /var/lib/switchboard
database:
  uri: postgres://sb:secret@db:5432/sb?sslmode=disable
listen:
  client: 0.0.0.0:8080
  federation: 0.0.0.0:8448
registration:
  enabled: true
appservices:
  - ` + reg + `
log:
  level: debug
  format: json
media:
  max_upload_bytes: 1024
appservice_delivery:
  batch_size: 10
  max_retry_interval: 30s
rate_limits:
  enabled: false
  login:
    per_second: 2.5
    burst: 7
  register:
    per_second: 1
    burst: 2
homeserver:
  url: https://matrix.example.org
appservice:
  listen: 0.0.0.0:29301
  url: http://bridges.internal:29301
bridges:
  permissions:
    "*": relay
    example.org: user
    "@admin:example.org": admin
  irc:
    networks:
      - id: libera
        server: irc.libera.chat:6697
`
	got := mustParse(t, doc, testOptions())
	want := &Config{
		ServerName:         "example.org:8448",
		DataDir:            "/var/lib/switchboard",
		Database:           Database{URI: "postgres://sb:secret@db:5432/sb?sslmode=disable"},
		Listen:             Listen{Client: "0.0.0.0:8080", Federation: "0.0.0.0:8448"},
		Registration:       Registration{Enabled: true},
		Appservices:        []string{reg},
		Log:                Log{Level: "debug", Format: "json"},
		Media:              Media{MaxUploadBytes: 1024},
		AppserviceDelivery: AppserviceDelivery{BatchSize: 10, MaxRetryInterval: Duration(30 * time.Second)},
		RateLimits: RateLimits{
			Enabled:  false,
			Login:    RateLimit{PerSecond: 2.5, Burst: 7},
			Register: RateLimit{PerSecond: 1, Burst: 2},
		},
		Homeserver: Homeserver{URL: "https://matrix.example.org"},
		Appservice: Appservice{Listen: "0.0.0.0:29301", URL: "http://bridges.internal:29301"},
		Source:     "switchboard.yaml",
		permissions: map[string]string{
			"*":                  "relay",
			"example.org":        "user",
			"@admin:example.org": "admin",
		},
	}
	bridges := got.Bridges
	got.Bridges = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
	}
	if _, ok := bridges["irc"]; !ok || len(bridges) != 1 {
		t.Errorf("Bridges has %d sections, want irc alone", len(bridges))
	}
}

func TestParseOverlaysDefaults(t *testing.T) {
	got := mustParse(t, "listen:\n  federation: 0.0.0.0:8448\nlog:\n  level: warn\n", Options{LookupEnv: envMap(nil)})
	want := defaultConfig()
	want.Listen.Federation = "0.0.0.0:8448"
	want.Log.Level = "warn"
	want.Source = "switchboard.yaml"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
	}
}

// TestExampleIsComplete keeps example.yaml the single source of defaults:
// every key of Config is in it, and every environment variable is mentioned
// next to its key.
func TestExampleIsComplete(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(Example(), &doc); err != nil {
		t.Fatal(err)
	}
	inExample := map[string]bool{}
	collectKeys(doc.Content[0], "", inExample)
	keys := configKeys(reflect.TypeFor[Config](), "")
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			if !inExample[key] {
				t.Errorf("example.yaml does not set %s", key)
			}
		})
	}
	isKey := map[string]bool{}
	for _, k := range keys {
		isKey[k] = true
	}
	for _, o := range EnvOverrides() {
		t.Run(o.Name, func(t *testing.T) {
			if !isKey[o.Key] {
				t.Errorf("%s overrides %s, which is not a key", o.Name, o.Key)
			}
			if !strings.Contains(string(Example()), "# Env: "+o.Name) {
				t.Errorf("example.yaml does not mention %s", o.Name)
			}
		})
	}
}

func collectKeys(n *yaml.Node, path string, into map[string]bool) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		p := keyPath(path, n.Content[i].Value)
		into[p] = true
		collectKeys(n.Content[i+1], p, into)
	}
}

// configKeys lists the key paths of struct t, descending into structs only.
func configKeys(t reflect.Type, path string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, flags, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if flags == "inline" && f.Type.Kind() == reflect.Struct {
			keys = append(keys, configKeys(f.Type, path)...)
			continue
		}
		if name == "-" || name == "" {
			continue
		}
		p := keyPath(path, name)
		keys = append(keys, p)
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, configKeys(f.Type, p)...)
		}
	}
	return keys
}

func TestExampleIsNotShared(t *testing.T) {
	e := Example()
	e[0] = 'X'
	if Example()[0] == 'X' {
		t.Error("changing the slice Example returned changed the embedded example")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "server_name: example.org\n")
	bad := write("bad.yaml", "server_name: example.org\nlisten: [\n")
	missing := filepath.Join(dir, "missing.yaml")
	opts := Options{LookupEnv: envMap(nil)}

	t.Run("file", func(t *testing.T) {
		c, err := Load(good, opts)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if c.ServerName != "example.org" || c.Source != good {
			t.Errorf("Load = server_name %q, source %q; want example.org, %s", c.ServerName, c.Source, good)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(missing, opts)
		want := "config: read " + missing + ": no such file or directory"
		if err == nil || err.Error() != want {
			t.Errorf("Load error = %v, want %s", err, want)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load error %v is not fs.ErrNotExist", err)
		}
	})
	t.Run("syntax error", func(t *testing.T) {
		_, err := Load(bad, opts)
		want := "config: " + bad + ": line 2: did not find expected node content"
		if err == nil || err.Error() != want {
			t.Errorf("Load error = %v, want %s", err, want)
		}
	})
}

func TestFind(t *testing.T) {
	t.Run("flag wins", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if err := os.WriteFile("switchboard.yaml", nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if got := Find("/etc/sb.yaml"); got != "/etc/sb.yaml" {
			t.Errorf("Find = %q, want /etc/sb.yaml", got)
		}
	})
	t.Run("file in working directory", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if err := os.WriteFile("switchboard.yaml", nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if got := Find(""); got != "./switchboard.yaml" {
			t.Errorf("Find = %q, want ./switchboard.yaml", got)
		}
	})
	t.Run("no file", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if got := Find(""); got != "" {
			t.Errorf("Find = %q, want \"\"", got)
		}
	})
}

func TestBridge(t *testing.T) {
	doc := `
bridges:
  irc:
    networks:
      - &libera
        id: libera
        server: irc.libera.chat:6697
        ports: [6697, 0x1A0B]
      - <<: *libera
        id: oftc
    timeout: 1m30s
    max_lines: 255
    port: -5
    ratio: 0.5
    tls: true
    channels: {"#go": "!go:example.org"}
`
	c := mustParse(t, doc, testOptions())

	t.Run("section", func(t *testing.T) {
		var got ircTest
		if err := c.Bridge("irc", &got); err != nil {
			t.Fatalf("Bridge: %v", err)
		}
		want := ircTest{
			Networks: []ircNetworkTest{
				{ID: "libera", Server: "irc.libera.chat:6697", Ports: []int{6697, 0x1A0B}},
				{ID: "oftc", Server: "irc.libera.chat:6697", Ports: []int{6697, 0x1A0B}},
			},
			Timeout:  Duration(90 * time.Second),
			MaxLines: 255,
			Port:     -5,
			Ratio:    0.5,
			TLS:      true,
			Channels: map[string]string{"#go": "!go:example.org"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Bridge =\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("overlays defaults", func(t *testing.T) {
		got := ircTest{Channels: map[string]string{"#a": "!a"}, Timeout: Duration(time.Second)}
		other := mustParse(t, "bridges:\n  irc:\n    channels: {\"#b\": \"!b\"}\n", testOptions())
		if err := other.Bridge("irc", &got); err != nil {
			t.Fatalf("Bridge: %v", err)
		}
		want := ircTest{Channels: map[string]string{"#a": "!a", "#b": "!b"}, Timeout: Duration(time.Second)}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Bridge =\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("missing section", func(t *testing.T) {
		got := xmppTest{JID: "default@example.org"}
		if err := c.Bridge("xmpp", &got); err != nil {
			t.Fatalf("Bridge: %v", err)
		}
		if got.JID != "default@example.org" {
			t.Errorf("Bridge changed a missing section's defaults: %+v", got)
		}
	})
	t.Run("not a pointer", func(t *testing.T) {
		if err := c.Bridge("irc", ircTest{}); err == nil {
			t.Error("Bridge into a struct value: no error")
		}
	})
	t.Run("strict", func(t *testing.T) {
		// A connector may decode into a narrower struct than it declared.
		var got struct {
			Timeout Duration `yaml:"timeout"`
		}
		err := c.Bridge("irc", &got)
		want := `config: bridges.irc.networks: unknown key (known keys: timeout)`
		if err == nil || err.Error() != want {
			t.Errorf("Bridge error = %v, want %s", err, want)
		}
	})
}

func TestDuration(t *testing.T) {
	tests := []struct {
		doc     string
		want    time.Duration
		wantErr string
	}{
		{doc: "30s", want: 30 * time.Second},
		{doc: "5m", want: 5 * time.Minute},
		{doc: "1h30m", want: 90 * time.Minute},
		{doc: "0", want: 0},
		{doc: "x", wantErr: `expected a duration such as 30s or 5m, got "x"`},
		{doc: "30", wantErr: `expected a duration such as 30s or 5m, got 30; add a unit`},
		{doc: "[1]", wantErr: `expected a duration such as 30s or 5m, got a list`},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			var d Duration
			err := yaml.Unmarshal([]byte(tt.doc), &d)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || time.Duration(d) != tt.want {
				t.Errorf("Duration = %v, %v; want %v", time.Duration(d), err, tt.want)
			}
			out, err := yaml.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var back Duration
			if err := yaml.Unmarshal(out, &back); err != nil || back != d {
				t.Errorf("round trip through %q = %v, %v", out, back, err)
			}
		})
	}
}
