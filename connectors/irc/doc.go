// Package irc will connect Switchboard to IRC, built on girc.
//
// Not yet: this connector does not exist. Nothing here can be enabled, and a
// bridges.irc section in the config is refused.
//
// It may import the connector interface in connectors/ and its network's
// library; it must not import bridge/ internals, portal/, puppet/ or homeserver/.
package irc
