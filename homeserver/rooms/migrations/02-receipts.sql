-- v2: read receipts
CREATE TABLE hs_receipts (
	room_id       TEXT    NOT NULL,
	user_id       TEXT    NOT NULL,
	receipt_type  TEXT    NOT NULL,
	-- "" for the main timeline or unthreaded receipts.
	thread_id     TEXT    NOT NULL,
	event_id      TEXT    NOT NULL,
	-- Stream position of the receipted event, for unread counts.
	event_pos     BIGINT  NOT NULL,
	ts            BIGINT  NOT NULL,
	-- Position in the receipt stream /sync tokens name.
	stream_id     BIGINT  NOT NULL,
	PRIMARY KEY (room_id, user_id, receipt_type, thread_id)
);
CREATE INDEX hs_receipts_stream ON hs_receipts (stream_id);
