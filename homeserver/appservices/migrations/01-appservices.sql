-- v1: appservice delivery state
-- Each appservice's position in the event stream (everything up to it has
-- been delivered or was of no interest) and its next transaction id.
CREATE TABLE hs_as_state (
	as_id       TEXT    PRIMARY KEY,
	stream_pos  BIGINT  NOT NULL,
	next_txn    BIGINT  NOT NULL
);
-- The transaction in flight, retried as it is until the appservice accepts
-- it: its id, the events in it and the stream position it covers.
CREATE TABLE hs_as_txns (
	as_id       TEXT    PRIMARY KEY,
	txn_id      BIGINT  NOT NULL,
	to_pos      BIGINT  NOT NULL,
	event_ids   TEXT    NOT NULL
);
