-- v2: the bridge's persisted queues
-- Transactions the homeserver pushed, by id, so a repeat is acknowledged
-- without handling its events twice.
CREATE TABLE bridge_as_txns (
	network     TEXT    NOT NULL,
	txn_id      TEXT    NOT NULL,
	received_ts BIGINT  NOT NULL,
	PRIMARY KEY (network, txn_id)
);
-- Matrix events waiting to reach the network, in the order received. A row
-- is deleted once every linked chat has it (or it was reported as
-- undeliverable).
CREATE TABLE bridge_inbox (
	network     TEXT    NOT NULL,
	seq         BIGINT  NOT NULL,
	room_id     TEXT    NOT NULL,
	event       TEXT    NOT NULL,
	PRIMARY KEY (network, seq)
);
-- Remote events waiting to reach Matrix, in the order the connector queued
-- them. seq also makes the Matrix transaction id, so it is never reused:
-- bridge_queue_seq keeps the next value past any deleted row.
CREATE TABLE bridge_outbox (
	network     TEXT    NOT NULL,
	seq         BIGINT  NOT NULL,
	chat        TEXT    NOT NULL,
	event       TEXT    NOT NULL,
	PRIMARY KEY (network, seq)
);
CREATE TABLE bridge_queue_seq (
	network     TEXT    PRIMARY KEY,
	next_inbox  BIGINT  NOT NULL,
	next_outbox BIGINT  NOT NULL
);
-- Remote events already queued, by their id in their chat: a network that
-- redelivers after a reconnect (or a connector restarted before it
-- acknowledged) never duplicates.
CREATE TABLE bridge_remote_seen (
	network     TEXT    NOT NULL,
	chat        TEXT    NOT NULL,
	remote_id   TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	seen_ts     BIGINT  NOT NULL,
	PRIMARY KEY (network, chat, kind, remote_id)
);
