// Package discord will connect Switchboard to Discord, built on discordgo.
//
// Not yet: this connector does not exist. Nothing here can be enabled, and a
// bridges.discord section in the config is refused.
//
// It may import the connector interface in connectors/ and its network's
// library; it must not import bridge/ internals, portal/, puppet/ or homeserver/.
package discord
