// Package irc connects Switchboard to IRC networks, built on girc: channels
// become portal rooms, IRC nicks become puppets, and every Matrix user who
// joins a portal gets an IRC connection of their own (or is relayed by the
// bot).
//
// One Connector serves every network in bridges.irc.networks. Each network
// has a bot connection that joins the bridged channels and is the only
// listener for channel traffic; per-user connections carry their users'
// messages and receive their private messages. Events are built from IRC
// lines here and handed to the bridge through connectors.Host; text is
// converted by the ircfmt package.
//
// It may import the connector interface in connectors/, its own ircfmt,
// girc and internal/config (for config types); it must not import bridge/,
// portal/, puppet/ or homeserver/.
package irc
