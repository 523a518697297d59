-- v1: rooms, events and state
CREATE TABLE hs_rooms (
	room_id       TEXT    PRIMARY KEY,
	room_version  TEXT    NOT NULL,
	creator       TEXT    NOT NULL,
	created_ts    BIGINT  NOT NULL,
	-- Whether the room is listed in the public room directory.
	published     BOOLEAN NOT NULL DEFAULT FALSE,
	-- The state group of the room's current state (after its latest event).
	current_group BIGINT  NOT NULL DEFAULT 0
);

-- Every event, in the order this server accepted it. stream_pos is the
-- position in the global event stream that /sync and /messages tokens name;
-- it is assigned by the single committer, so it is dense and ordered.
CREATE TABLE hs_events (
	stream_pos    BIGINT  PRIMARY KEY,
	event_id      TEXT    NOT NULL UNIQUE,
	room_id       TEXT    NOT NULL REFERENCES hs_rooms (room_id),
	type          TEXT    NOT NULL,
	state_key     TEXT,
	sender        TEXT    NOT NULL,
	depth         BIGINT  NOT NULL,
	origin_ts     BIGINT  NOT NULL,
	-- The state of the room before this event: a state group.
	state_before  BIGINT  NOT NULL,
	-- m.relates_to of the content, for /relations.
	relates_to    TEXT,
	rel_type      TEXT,
	-- The redaction event that redacted this one; json is then redacted.
	redacted_by   TEXT,
	-- The device and transaction id the sender used, for unsigned.transaction_id.
	txn_device    TEXT,
	txn_id        TEXT,
	json          TEXT    NOT NULL
);
CREATE INDEX hs_events_room_pos ON hs_events (room_id, stream_pos);
CREATE INDEX hs_events_relates ON hs_events (relates_to, rel_type);

-- State groups: the state of a room at some point, stored as a delta over a
-- previous group (prev_group) so that a state change costs one row, not a
-- copy of the whole state. A chain is cut with a full snapshot (prev_group
-- NULL) every so often to keep reads short.
CREATE TABLE hs_state_groups (
	group_id      BIGINT  PRIMARY KEY,
	room_id       TEXT    NOT NULL,
	prev_group    BIGINT,
	chain_length  INTEGER NOT NULL
);
CREATE TABLE hs_state_group_entries (
	group_id      BIGINT  NOT NULL,
	type          TEXT    NOT NULL,
	state_key     TEXT    NOT NULL,
	event_id      TEXT    NOT NULL,
	PRIMARY KEY (group_id, type, state_key)
);

-- The current state of each room, for the queries clients make most.
CREATE TABLE hs_current_state (
	room_id       TEXT    NOT NULL,
	type          TEXT    NOT NULL,
	state_key     TEXT    NOT NULL,
	event_id      TEXT    NOT NULL,
	-- For m.room.member: the membership, so membership queries need no JSON.
	membership    TEXT,
	stream_pos    BIGINT  NOT NULL,
	PRIMARY KEY (room_id, type, state_key)
);
CREATE INDEX hs_current_state_member ON hs_current_state (state_key, membership) ;

-- Idempotent sends: one event per (user, device, transaction id).
CREATE TABLE hs_transactions (
	user_id       TEXT    NOT NULL,
	device_id     TEXT    NOT NULL,
	txn_id        TEXT    NOT NULL,
	event_id      TEXT    NOT NULL,
	PRIMARY KEY (user_id, device_id, txn_id)
);

CREATE TABLE hs_room_aliases (
	alias         TEXT    PRIMARY KEY,
	room_id       TEXT    NOT NULL REFERENCES hs_rooms (room_id),
	creator       TEXT    NOT NULL
);
CREATE INDEX hs_room_aliases_room ON hs_room_aliases (room_id);
