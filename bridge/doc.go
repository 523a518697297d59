// Package bridge is the engine shared by every network: it routes remote events
// to portals and Matrix events to connectors, converts messages, relays between
// networks linked to the same room, answers bot commands and owns the persisted
// delivery queues.
//
// Not yet: only the bridge's database schema (its own version table,
// bridge_version, and bridge_* tables) exists so far.
//
// It may import appservice/, portal/, puppet/ and the connector interface in
// connectors/. It must not import homeserver/: the bridge reaches any
// homeserver, the built-in one included, only through the Application Service API.
package bridge
