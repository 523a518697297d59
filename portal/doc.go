// Package portal keeps the bridge's portals and its message map.
//
// A Portal links one remote chat (a network and the connector's chat id) to
// one Matrix room. A remote chat has at most one room; a room may hold
// several portals, of several networks or of several chats of one network,
// which is how one room becomes the hub of an IRC channel, an XMPP MUC and a
// Slack channel at once.
//
// The message map (Message) pairs each remote message, reaction and edit
// with its Matrix twin, so that edits, replies, reactions and deletions on
// either side find the other: by remote id (MessageByRemote, ReactionByKey)
// or by Matrix event id (MessagesByEvent, one line per linked chat).
//
// Store holds both in bridge_portals and bridge_messages; Schema migrates
// them, versioned in bridge_portal_version. Ids are the connectors' plain
// strings and mautrix id types, stored as given and never parsed here.
// So far the package is only this store: creating portal rooms and keeping
// their state (name, topic, avatar, members, m.bridge) in sync are not
// written yet.
//
// It may import appservice/ and internal/. It must not import homeserver/,
// bridge/ or connectors/.
package portal
