// Package bridge is the engine shared by every network: one [Bridge] per
// network is that network's appservice (its own registration, bot and
// namespace). It routes remote events to portals and Matrix events to the
// connector, converts messages to and from the neutral form in connectors/,
// answers bot commands and owns the persisted delivery queues.
//
// # Delivery
//
// Matrix → network: a pushed transaction's events are stored (bridge_inbox,
// with the transaction id in bridge_as_txns) before the homeserver is
// answered, then handled by one goroutine per room, in order. A network that
// is down or limits the rate holds that room's lane and is retried with
// backoff; an event that can never be delivered is reported in the room.
//
// Network → Matrix: Host.Queue stores the event (bridge_outbox; its id in
// bridge_remote_seen drops redeliveries) before it returns, in batches
// shared by concurrent chats, then one goroutine per chat sends it as the
// remote user's puppet with a transaction id derived from its queue
// position, so a retry after a crash is deduplicated by the homeserver. The
// message-map row and the deletion of the queue row are one database
// transaction.
//
// Every event the bridge sends carries an origin tag (network, chat, remote
// id). Events of the bridge's own puppets are ignored when pushed back,
// except in a room linked to several chats of the same network, where the
// tag tells which chat it came from so the others get it.
//
// It may import appservice/, portal/, puppet/, registration/, internal/ and
// the connector interface in connectors/. It must not import homeserver/:
// the bridge reaches any homeserver, the built-in one included, only through
// the Application Service API.
package bridge
