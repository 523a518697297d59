// Package puppet keeps the bridge's puppets and its users' own identities
// on remote networks.
//
// A Puppet is a remote user's ghost Matrix user (e.g.
// @irc_libera_alice:example.org): its profile as last synced, the hash of
// the avatar last uploaded, and whether it is registered on the homeserver.
// A Login is a Matrix user's own identity on a network, such as their Slack
// token or their IRC account, which the bridge uses to speak as them rather
// than through the relay; its Secret is the connector's opaque data, stored
// as given and never printed or logged. A User is what the bridge keeps
// about a Matrix user on a network: their management room.
//
// Store holds them in bridge_puppets, bridge_logins and bridge_users;
// Schema migrates them, versioned in bridge_puppet_version. Ids are the
// connectors' plain strings and mautrix id types, stored as given and never
// parsed here. So far the package is only this store: profile sync is not
// written yet.
//
// It may import appservice/ and internal/. It must not import homeserver/,
// bridge/ or connectors/.
package puppet
