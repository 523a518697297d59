// Package rooms is the built-in homeserver's room engine: every event is a
// real PDU of its room version, built, hashed and signed with
// gomatrixserverlib, checked against the auth rules with the state before it,
// and stored with that state (as state groups), so that /state_ids and auth
// at any event stay answerable when federation arrives. It also serves the
// client API endpoints that act on rooms: createRoom, send, state, membership,
// redaction, events, /messages, /context, /relations, aliases and the room
// directory.
//
// Writes from every room go through one committer that groups concurrent
// events into one database transaction; each room is serialised by its own
// lock, so a room's events get consecutive stream positions in the order
// they were accepted.
//
// It may import homeserver/mxhttp and internal/. It must not import bridge/,
// portal/, puppet/, appservice/ or connectors/.
package rooms
