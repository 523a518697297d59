-- v1: portals and the message map
-- One row per remote chat linked to a Matrix room. A remote chat has at most
-- one room (the primary key); a room may hold several portals, of one
-- network or of several, so room_id is indexed but not unique. Booleans:
-- relay lets the bot speak for Matrix users without a remote identity,
-- plumbed marks a room linked with `link` rather than created by the
-- bridge, direct a one-to-one chat.
CREATE TABLE bridge_portals (
	network    TEXT    NOT NULL,
	remote_id  TEXT    NOT NULL,
	room_id    TEXT    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	topic      TEXT    NOT NULL DEFAULT '',
	avatar_url TEXT    NOT NULL DEFAULT '',
	relay      BOOLEAN NOT NULL DEFAULT FALSE,
	plumbed    BOOLEAN NOT NULL DEFAULT FALSE,
	direct     BOOLEAN NOT NULL DEFAULT FALSE,
	created_ts BIGINT  NOT NULL,
	PRIMARY KEY (network, remote_id)
);
CREATE INDEX bridge_portals_room_idx ON bridge_portals (network, room_id);

-- The message map: one row per remote message, reaction or edit and the
-- Matrix event that is its twin. Remote ids are unique within their chat
-- (the primary key); a Matrix event carried to several chats of one network
-- has one row per chat, found through (network, event_id). target is the
-- remote id of the message a reaction or edit relates to ('' otherwise),
-- reaction_key the reaction's key; ts is the message's time in unix ms.
CREATE TABLE bridge_messages (
	network      TEXT   NOT NULL,
	chat         TEXT   NOT NULL,
	remote_id    TEXT   NOT NULL,
	room_id      TEXT   NOT NULL,
	event_id     TEXT   NOT NULL,
	sender       TEXT   NOT NULL,
	kind         TEXT   NOT NULL,
	target       TEXT   NOT NULL DEFAULT '',
	reaction_key TEXT   NOT NULL DEFAULT '',
	ts           BIGINT NOT NULL,
	PRIMARY KEY (network, chat, remote_id)
);
CREATE INDEX bridge_messages_event_idx ON bridge_messages (network, event_id);
CREATE INDEX bridge_messages_reaction_idx ON bridge_messages (network, chat, target, sender, reaction_key) WHERE kind = 'reaction';
