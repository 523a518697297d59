// Package portal will map remote chats to Matrix rooms: creating a portal room,
// keeping its state (name, topic, avatar, members, m.bridge) in sync, linking
// one room to chats on several networks, and the message map that lets edits,
// replies, reactions and deletions find their twin.
//
// Not yet: nothing here is implemented.
//
// It may import appservice/. It must not import homeserver/, bridge/ or
// connectors/.
package portal
