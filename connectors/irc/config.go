package irc

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"switchboard/connectors"
	"switchboard/internal/config"
)

// Section is bridges.irc.
type Section struct {
	connectors.Settings `yaml:",inline"`
	// Networks are the IRC networks to bridge, each with its own bot.
	Networks []NetworkConfig `yaml:"networks"`
	// Identd answers ident queries (RFC 1413) for the bridge's
	// connections, so networks can tell its users apart.
	Identd Identd `yaml:"identd"`
}

// NetworkConfig is one entry of bridges.irc.networks.
type NetworkConfig struct {
	// ID names the network in ids and aliases: [a-z0-9]+.
	ID string `yaml:"id"`
	// Name is how people write it: "Libera.Chat".
	Name string `yaml:"name"`
	// Server is host:port.
	Server                string `yaml:"server"`
	TLS                   bool   `yaml:"tls"`
	TLSInsecureSkipVerify bool   `yaml:"tls_insecure_skip_verify"`
	// SASL authenticates the bot.
	SASL *SASL `yaml:"sasl"`
	// BotNick is the bot's nick.
	BotNick string `yaml:"bot_nick"`
	// Channels are bridged at start.
	Channels []string `yaml:"channels"`
	// NickTemplate makes a Matrix user's nick: {displayname} and
	// {localpart} are replaced.
	NickTemplate string `yaml:"nick_template"`
	// PerUserConnections gives every Matrix user their own connection;
	// false relays everyone through the bot. Default true.
	PerUserConnections *bool `yaml:"per_user_connections"`
	// MaxConnections bounds the per-user connections; users past it are
	// relayed.
	MaxConnections int `yaml:"max_connections"`
	// IdleTimeout disconnects a user's connection after this long without
	// a message from them; 0 keeps it.
	IdleTimeout config.Duration `yaml:"idle_timeout"`
	// MembershipSync carries joins, parts and quits both ways. Default true.
	MembershipSync *bool `yaml:"membership_sync"`
	// MaxLines is the most IRC lines a Matrix message becomes; a longer one
	// is sent as a link to a text file.
	MaxLines int `yaml:"max_lines"`
	// LinkConsent is "ops" (linking a Matrix room needs a channel
	// operator's yes) or "none".
	LinkConsent string `yaml:"link_consent"`
	// Flood paces each connection's lines.
	Flood Flood `yaml:"flood"`
	// Edits is how a Matrix edit reaches IRC: "diff" (s/old/new/ when the
	// change is small, else "* new text") or "full" (always "* new text").
	Edits string `yaml:"edits"`
	// Reactions is what a Matrix reaction becomes on a server without
	// client tags: "action" (a /me line) or "drop".
	Reactions string `yaml:"reactions"`
	// ConnectsPerSecond paces opening connections, so a restart or a
	// netsplit never storms the server.
	ConnectsPerSecond float64 `yaml:"connects_per_second"`
	// NetsplitGrace is how long a user who quit in a netsplit stays in the
	// Matrix room waiting to come back before they are shown leaving.
	NetsplitGrace config.Duration `yaml:"netsplit_grace"`
}

// SASL is the bot's SASL login.
type SASL struct {
	Mechanism string `yaml:"mechanism"` // PLAIN or EXTERNAL
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
	// CertFile and KeyFile are the client certificate for EXTERNAL.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Flood is a connection's pacing: a token bucket.
type Flood struct {
	// LinesPerSecond is the steady rate; 0 turns pacing off (for servers
	// without flood limits).
	LinesPerSecond float64 `yaml:"lines_per_second"`
	// Burst is how many lines may go at once.
	Burst int `yaml:"burst"`
}

// Identd is the optional ident server.
type Identd struct {
	Enabled bool `yaml:"enabled"`
	// Listen is host:port; ident is port 113.
	Listen string `yaml:"listen"`
}

// NewSection returns bridges.irc with its defaults.
func NewSection() *Section {
	return &Section{Identd: Identd{Listen: "0.0.0.0:113"}}
}

var (
	networkIDPattern = regexp.MustCompile(`^[a-z0-9]+$`)
	nickPattern      = regexp.MustCompile(`^[A-Za-z\[\]\\` + "`" + `_^{|}][A-Za-z0-9\[\]\\` + "`" + `_^{|}-]*$`)
	// foldedNickPattern is a nick after fold, which writes ^ as ~.
	foldedNickPattern = regexp.MustCompile(`^[a-z\[\]\\` + "`" + `_^{|}~][a-z0-9\[\]\\` + "`" + `_^{|}~-]*$`)
)

// Validate checks the section, naming the key and the fix.
func (s *Section) Validate() error {
	if s.Enabled && len(s.Networks) == 0 {
		return errors.New("networks: empty; list at least one IRC network (id, server, bot_nick)")
	}
	seen := map[string]bool{}
	for i := range s.Networks {
		n := &s.Networks[i]
		n.applyDefaults()
		if err := n.validate(); err != nil {
			return fmt.Errorf("networks[%d].%w", i, err)
		}
		if seen[n.ID] {
			return fmt.Errorf("networks[%d].id: %q is used twice; give each network its own id", i, n.ID)
		}
		seen[n.ID] = true
	}
	if s.Identd.Enabled {
		if _, _, err := net.SplitHostPort(s.Identd.Listen); err != nil {
			return fmt.Errorf("identd.listen: %q is not host:port; use 0.0.0.0:113", s.Identd.Listen)
		}
	}
	return nil
}

// applyDefaults fills the keys left out.
func (n *NetworkConfig) applyDefaults() {
	if n.Name == "" {
		n.Name = n.ID
	}
	if n.BotNick == "" {
		n.BotNick = "switchboard"
	}
	if n.NickTemplate == "" {
		n.NickTemplate = "{displayname}[m]"
	}
	if n.PerUserConnections == nil {
		n.PerUserConnections = new(true)
	}
	if n.MembershipSync == nil {
		n.MembershipSync = new(true)
	}
	if n.MaxConnections == 0 {
		n.MaxConnections = 5000
	}
	if n.MaxLines == 0 {
		n.MaxLines = 10
	}
	if n.LinkConsent == "" {
		n.LinkConsent = "ops"
	}
	if n.Flood == (Flood{}) {
		n.Flood = Flood{LinesPerSecond: 2, Burst: 5}
	}
	if n.Flood.Burst == 0 {
		n.Flood.Burst = 1
	}
	if n.Edits == "" {
		n.Edits = "diff"
	}
	if n.Reactions == "" {
		n.Reactions = "action"
	}
	if n.ConnectsPerSecond == 0 {
		n.ConnectsPerSecond = 10
	}
	if n.NetsplitGrace == 0 {
		n.NetsplitGrace = config.Duration(5 * time.Minute)
	}
}

func (n *NetworkConfig) validate() error {
	if !networkIDPattern.MatchString(n.ID) {
		return fmt.Errorf("id: %q must match [a-z0-9]+ (it is part of room aliases and user ids); use something like libera", n.ID)
	}
	host, port, err := net.SplitHostPort(n.Server)
	if err != nil || host == "" {
		return fmt.Errorf("server: %q is not host:port; write it like irc.libera.chat:6697", n.Server)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("server: port %q is not a number from 1 to 65535", port)
	}
	if !nickPattern.MatchString(n.BotNick) {
		return fmt.Errorf("bot_nick: %q is not a valid IRC nick; use letters, digits and []\\`_^{|}-, not starting with a digit", n.BotNick)
	}
	for j, ch := range n.Channels {
		if !validChannel(ch) {
			return fmt.Errorf("channels[%d]: %q is not a channel name; write it with its # like \"#chat\"", j, ch)
		}
	}
	if !strings.Contains(n.NickTemplate, "{displayname}") && !strings.Contains(n.NickTemplate, "{localpart}") {
		return fmt.Errorf("nick_template: %q names nobody; include {displayname} or {localpart}", n.NickTemplate)
	}
	if n.MaxConnections < 0 {
		return fmt.Errorf("max_connections: %d must not be negative", n.MaxConnections)
	}
	if n.MaxLines < 1 {
		return fmt.Errorf("max_lines: %d must be at least 1", n.MaxLines)
	}
	if n.IdleTimeout < 0 {
		return errors.New("idle_timeout: must not be negative; 0 keeps connections open")
	}
	switch n.LinkConsent {
	case "ops", "none":
	default:
		return fmt.Errorf("link_consent: %q is neither ops nor none", n.LinkConsent)
	}
	if n.Flood.LinesPerSecond < 0 || n.Flood.Burst < 0 {
		return errors.New("flood: lines_per_second and burst must not be negative; lines_per_second: 0 turns pacing off")
	}
	switch n.Edits {
	case "diff", "full":
	default:
		return fmt.Errorf("edits: %q is neither diff nor full", n.Edits)
	}
	switch n.Reactions {
	case "action", "drop":
	default:
		return fmt.Errorf("reactions: %q is neither action nor drop", n.Reactions)
	}
	if n.ConnectsPerSecond < 0 {
		return fmt.Errorf("connects_per_second: %v must be above 0", n.ConnectsPerSecond)
	}
	if n.SASL != nil {
		switch strings.ToUpper(n.SASL.Mechanism) {
		case "PLAIN":
			if n.SASL.Username == "" || n.SASL.Password == "" {
				return errors.New("sasl: PLAIN needs username and password")
			}
		case "EXTERNAL":
			if n.SASL.CertFile == "" || n.SASL.KeyFile == "" {
				return errors.New("sasl: EXTERNAL needs cert_file and key_file (the client certificate)")
			}
		default:
			return fmt.Errorf("sasl.mechanism: %q is neither PLAIN nor EXTERNAL", n.SASL.Mechanism)
		}
	}
	return nil
}

// validChannel reports whether s is a channel name the bridge can use: a
// channel prefix, then no space, comma, BEL, colon (aliases cannot hold
// one) or control character.
func validChannel(s string) bool {
	if len(s) < 2 || len(s) > 200 || !isChannelPrefix(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == ',' || c == ':' || c == 0x7f {
			return false
		}
	}
	return true
}

func isChannelPrefix(c byte) bool { return c == '#' || c == '&' || c == '+' || c == '!' }
