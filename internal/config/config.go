package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Config is switchboard.yaml. Example documents every key; the comments here
// say what the code relies on.
type Config struct {
	// ServerName is the Matrix server name, the part after the colon in user
	// and room ids.
	ServerName string `yaml:"server_name"`
	// DataDir is where Switchboard keeps its state on disk.
	DataDir string `yaml:"data_dir"`
	// PublicURL is where people reach the client API from outside, such as
	// https://matrix.example.org: bridges link files there for networks
	// that cannot carry them. "" means http://<listen.client> for serve and
	// homeserver.url for a bridge run on its own.
	PublicURL string   `yaml:"public_url"`
	Database  Database `yaml:"database"`
	Listen    Listen   `yaml:"listen"`
	// Registration is about accounts created through the client API.
	Registration Registration `yaml:"registration"`
	// Appservices are paths of appservice registration files the built-in
	// homeserver loads. Never nil after Parse.
	Appservices []string `yaml:"appservices"`
	// AppserviceDelivery tunes how events reach those appservices.
	AppserviceDelivery AppserviceDelivery `yaml:"appservice_delivery"`
	Log                Log                `yaml:"log"`
	// Media bounds the homeserver's media repository.
	Media Media `yaml:"media"`
	// RateLimits protects the endpoints that guess passwords or create
	// accounts.
	RateLimits RateLimits `yaml:"rate_limits"`
	// Homeserver is the homeserver `switchboard bridge` talks to; `serve`
	// uses its own.
	Homeserver Homeserver `yaml:"homeserver"`
	// Appservice is where `switchboard bridge` receives the homeserver's
	// pushes.
	Appservice Appservice `yaml:"appservice"`
	// Bridges holds one section per chat network, checked against the schema
	// its connector supplies (Options.Bridges); decode one with Config.Bridge.
	// The key bridges.permissions is not a network and is not in the map:
	// read it with Config.Permissions. Never nil after Parse.
	Bridges Bridges `yaml:"bridges"`

	// Source is the file the configuration came from; "" means the embedded
	// defaults alone.
	Source string `yaml:"-"`

	// permissions is bridges.permissions as the file gives it (nil when
	// absent); Permissions adds the default.
	permissions map[string]string
}

// Database says where Switchboard stores its data.
type Database struct {
	// URI is sqlite://PATH or postgres://user:pass@host:port/db?sslmode=disable
	// (postgresql:// too). After Parse it is never empty: an empty value
	// becomes sqlite://DATA_DIR/switchboard.db.
	URI string `yaml:"uri"`
}

// Listen holds the addresses Switchboard serves HTTP on.
type Listen struct {
	// Client is host:port of the client API, which also serves media,
	// /health and /metrics.
	Client string `yaml:"client"`
	// Federation is host:port of the federation API; empty turns federation
	// off.
	Federation string `yaml:"federation"`
}

// Registration says who may create accounts.
type Registration struct {
	// Enabled lets anyone who reaches the client API register an account.
	Enabled bool `yaml:"enabled"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// AppserviceDelivery tunes the homeserver's pushes to appservices.
type AppserviceDelivery struct {
	// BatchSize is the most events one transaction carries.
	BatchSize int `yaml:"batch_size"`
	// MaxRetryInterval caps the wait between retries to an appservice
	// that does not answer.
	MaxRetryInterval Duration `yaml:"max_retry_interval"`
}

// Media configures the media repository.
type Media struct {
	// MaxUploadBytes is the largest upload accepted, in bytes.
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
}

// RateLimits holds per-client-address limits on sensitive endpoints.
type RateLimits struct {
	// Enabled turns every limit below on or off (off only for tests and
	// benchmarks that need speed).
	Enabled  bool      `yaml:"enabled"`
	Login    RateLimit `yaml:"login"`
	Register RateLimit `yaml:"register"`
}

// RateLimit is a token bucket: PerSecond requests refill per second, up to
// Burst at once.
type RateLimit struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// Homeserver is the external homeserver a bridge run on its own talks to.
type Homeserver struct {
	// URL is the homeserver's client API, such as https://matrix.example.org.
	// Validate accepts it empty, as serve needs none; `switchboard bridge`
	// refuses to start without it.
	URL string `yaml:"url"`
}

// Appservice is the bridge's end of the Application Service API.
type Appservice struct {
	// Listen is host:port the bridge receives the homeserver's pushes on.
	Listen string `yaml:"listen"`
	// URL is how the homeserver reaches Listen, written into the
	// registration; "" means the one AppserviceURL derives from Listen.
	URL string `yaml:"url"`
}

// AppserviceURL is the URL the homeserver pushes to: appservice.url, or else
// http://<appservice.listen>, with an address that listens on every
// interface (0.0.0.0, ::, or no host) replaced by loopback, which is where a
// homeserver on the same machine finds it. With port 0 in listen the caller
// must use the address it actually bound instead.
func (c *Config) AppserviceURL() string {
	if c.Appservice.URL != "" {
		return c.Appservice.URL
	}
	host, port, err := net.SplitHostPort(c.Appservice.Listen)
	if err != nil {
		return "http://" + c.Appservice.Listen
	}
	if host == "" {
		host = "127.0.0.1"
	} else if addr, err := netip.ParseAddr(host); err == nil && addr.IsUnspecified() {
		host = "127.0.0.1"
		if addr.Is6() {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Bridges maps a network name (irc, xmpp, ...) to its raw section. Parse has
// checked each section strictly against its connector's schema. It never
// holds bridges.permissions, which is not a network.
type Bridges map[string]yaml.Node

// Options are what the caller knows that the file does not.
type Options struct {
	// Bridges maps each network whose connector is built into this binary to
	// a constructor of a pointer to its zero section struct. A bridges.<name>
	// key not in the map is refused. nil or empty means no connector is built.
	// A section implementing interface{ Validate() error } is validated with
	// the rest of the configuration; a section that embeds a struct inline
	// (`yaml:",inline"`) gets its Validate by Go's method promotion, so a
	// section that declares its own Validate must call the embedded one.
	// "permissions" is not a network name: bridges.permissions is read by
	// the config package itself.
	Bridges map[string]func() any
	// LookupEnv reads environment overrides; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

func (o Options) lookupEnv() func(string) (string, bool) {
	if o.LookupEnv == nil {
		return os.LookupEnv
	}
	return o.LookupEnv
}

//go:embed example.yaml
var example []byte

// exampleName names the embedded example in errors, which only a change to
// example.yaml can cause.
const exampleName = "example.yaml (embedded)"

// Example returns the commented example configuration, which is also the
// source of every default. `switchboard config example` prints it.
func Example() []byte {
	return bytes.Clone(example)
}

// DefaultPath is the file Find falls back to.
const DefaultPath = "./switchboard.yaml"

// Find returns the configuration file to load: flagPath if it is set, else
// ./switchboard.yaml if that exists, else "" for the embedded defaults.
func Find(flagPath string) string {
	if flagPath != "" {
		return flagPath
	}
	if _, err := os.Stat(DefaultPath); errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	// Anything else, even a file that cannot be read, is the user's file:
	// Load reports why it cannot be used.
	return DefaultPath
}

// Load reads, checks and validates the configuration file at path; path ""
// means the embedded defaults alone. See Parse. A file that cannot be read is
// the one error that is not an *Error: it wraps the os error, so
// errors.Is(err, fs.ErrNotExist) works.
func Load(path string, opts Options) (*Config, error) {
	if path == "" {
		return Parse(nil, "", opts)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return Parse(data, path, opts)
}

// Parse builds the configuration from data, the contents of the file named
// source: the defaults from Example, then data laid over them, then the
// environment overrides, then the derived defaults (the database under
// data_dir), then Validate. Empty data means the defaults alone.
//
// Every mistake in data or the environment is an *Error naming its key.
func Parse(data []byte, source string, opts Options) (*Config, error) {
	c := &Config{}
	def, err := parseDocument(example, exampleName)
	if err != nil {
		return nil, err
	}
	if err := decodeDocument(def, c, exampleName, opts.Bridges); err != nil {
		return nil, err
	}

	label := source
	if label == "" {
		label = "input"
	}
	doc, err := parseDocument(data, label)
	if err != nil {
		return nil, err
	}
	if err := decodeDocument(doc, c, label, opts.Bridges); err != nil {
		return nil, err
	}
	c.Source = source

	if err := applyEnv(c, opts.lookupEnv()); err != nil {
		return nil, err
	}
	if c.Database.URI == "" {
		c.Database.URI = defaultDatabaseURI(c.DataDir)
	}
	if c.Appservices == nil {
		c.Appservices = []string{}
	}
	if c.Bridges == nil {
		c.Bridges = Bridges{}
	}
	if err := c.Validate(opts); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeDocument lays the document root over c; a nil root changes nothing.
func decodeDocument(root *yaml.Node, c *Config, label string, bridges map[string]func() any) error {
	if root == nil {
		return nil
	}
	d := newDecoder(label, bridges)
	d.permissions = &c.permissions
	return d.decode(root, reflect.ValueOf(c).Elem(), "")
}

// defaultDatabaseURI is the SQLite database in dataDir. A relative path keeps
// its leading ./ so that the URI does not read as sqlite://HOST/PATH.
func defaultDatabaseURI(dataDir string) string {
	p := filepath.Join(dataDir, "switchboard.db")
	if !filepath.IsAbs(p) && !strings.HasPrefix(p, ".."+string(filepath.Separator)) {
		p = "." + string(filepath.Separator) + p
	}
	return "sqlite://" + p
}

// parseDocument parses data as a single YAML document and returns its root
// node, or nil when data holds no document (empty, or comments only).
func parseDocument(data []byte, label string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(label, data, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(label, data, err)
		}
		return nil, errorf(label, fmt.Sprintf("line %d: a second YAML document starts here; keep the whole configuration in one document", next.Line))
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

var (
	yamlLine      = regexp.MustCompile(`^line \d+: `)
	unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// syntaxError turns a yaml.v3 parse error into one line that starts with the
// line number. yaml.v3 leaves the number out for problems on the first line
// and for a few others, which are found in data.
func syntaxError(label string, data []byte, err error) error {
	msg := oneLine(strings.TrimPrefix(err.Error(), "yaml: "))
	if yamlLine.MatchString(msg) {
		return errorf(label, msg)
	}
	line := 1
	switch {
	case unknownAnchor.MatchString(msg):
		name := unknownAnchor.FindStringSubmatch(msg)[1]
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			line = lineAt(data, i)
		}
	case strings.Contains(msg, "UTF-8"):
		if i := invalidUTF8(data); i >= 0 {
			line = lineAt(data, i)
		}
	case strings.Contains(msg, "control characters"):
		if i := bytes.IndexFunc(data, isControl); i >= 0 {
			line = lineAt(data, i)
		}
	}
	return errorf(label, "line "+strconv.Itoa(line)+": "+msg)
}

func lineAt(data []byte, offset int) int {
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

func invalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
}

// Bridge decodes the section bridges.<name> over into, a pointer to the
// network's section struct, with the same strict rules as Parse. Keys the
// section leaves out keep the value into already has, so a connector may fill
// in its defaults first. A missing section leaves into untouched.
func (c *Config) Bridge(name string, into any) error {
	v := reflect.ValueOf(into)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("config: Bridge(%q): into must be a non-nil pointer, got %T", name, into)
	}
	section, ok := c.Bridges[name]
	if !ok {
		return nil
	}
	d := newDecoder(keyPath("bridges", name), nil)
	return d.decode(&section, v.Elem(), keyPath("bridges", name))
}

// Duration is a time.Duration written the Go way: "30s", "5m", "1h30m", or
// "0". Sections use it for timeouts and intervals.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration such as 30s or 5m, got %s", describe(n))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		if _, numErr := strconv.ParseFloat(n.Value, 64); numErr == nil {
			return fmt.Errorf("expected a duration such as 30s or 5m, got %s; add a unit", describe(n))
		}
		return fmt.Errorf("expected a duration such as 30s or 5m, got %s", describe(n))
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler, writing the form UnmarshalYAML reads.
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

func (d Duration) String() string {
	return time.Duration(d).String()
}
