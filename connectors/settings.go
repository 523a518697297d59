package connectors

// Settings are the keys every network's config section has. A connector's
// section embeds them inline, so they sit next to the network's own keys:
//
//	type Section struct {
//		connectors.Settings `yaml:",inline"`
//		Server string `yaml:"server"`
//	}
//
// and bridges.irc.enabled, bridges.irc.command_prefix and bridges.irc.relay
// are read from the same mapping as bridges.irc.server.
type Settings struct {
	// Enabled runs the network's bridge in `switchboard serve` (and lets
	// `switchboard bridge --network` run it).
	Enabled bool `yaml:"enabled"`
	// CommandPrefix starts a bot command in a room that is not the user's
	// management room; "" means "!<network>".
	CommandPrefix string `yaml:"command_prefix"`
	// Relay lets the bot relay Matrix users who have no identity of their
	// own on the network, in every portal (a portal's admins may still turn
	// it off with the relay command).
	Relay bool `yaml:"relay"`
}

// Common returns the settings, so the bridge reads them from any section
// that embeds them.
func (s *Settings) Common() *Settings { return s }

// Sectioned is a config section that embeds Settings.
type Sectioned interface {
	Common() *Settings
}
