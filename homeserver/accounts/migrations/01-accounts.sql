-- v1: users, devices, access tokens, profiles, account data, filters, push rules
-- The server_name the accounts belong to: every user id below embeds it.
CREATE TABLE hs_accounts_server (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	server_name TEXT    NOT NULL,
	created_ts  BIGINT  NOT NULL
);

CREATE TABLE hs_users (
	user_id       TEXT    PRIMARY KEY,
	-- bcrypt hash; NULL for accounts that cannot log in with a password
	-- (created by an appservice, or without one by an administrator).
	password_hash TEXT,
	admin         BOOLEAN NOT NULL DEFAULT false,
	deactivated   BOOLEAN NOT NULL DEFAULT false,
	-- the appservice that registered the account, NULL for everyone else
	appservice_id TEXT,
	created_ts    BIGINT  NOT NULL
);

CREATE TABLE hs_devices (
	user_id      TEXT   NOT NULL REFERENCES hs_users (user_id) ON DELETE CASCADE,
	device_id    TEXT   NOT NULL,
	display_name TEXT,
	last_seen_ip TEXT,
	last_seen_ts BIGINT,
	created_ts   BIGINT NOT NULL,
	PRIMARY KEY (user_id, device_id)
);

-- Access tokens are stored only as the hex SHA-256 of the token, and looked
-- up by it: a database dump yields no usable token.
CREATE TABLE hs_access_tokens (
	token_hash TEXT   PRIMARY KEY,
	user_id    TEXT   NOT NULL,
	device_id  TEXT   NOT NULL,
	created_ts BIGINT NOT NULL,
	FOREIGN KEY (user_id, device_id) REFERENCES hs_devices (user_id, device_id) ON DELETE CASCADE
);
CREATE INDEX hs_access_tokens_device_idx ON hs_access_tokens (user_id, device_id);

CREATE TABLE hs_profiles (
	user_id     TEXT PRIMARY KEY REFERENCES hs_users (user_id) ON DELETE CASCADE,
	displayname TEXT NOT NULL DEFAULT '',
	avatar_url  TEXT NOT NULL DEFAULT ''
);

-- One counter for the whole account data stream. A writer increments it in
-- the transaction that writes the data, so the row lock orders commits by
-- position: a reader that has seen position N has seen everything below N.
CREATE TABLE hs_account_data_stream (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	position BIGINT  NOT NULL
);
INSERT INTO hs_account_data_stream (id, position) VALUES (1, 0);

CREATE TABLE hs_account_data (
	user_id         TEXT   NOT NULL,
	room_id         TEXT   NOT NULL, -- '' for global account data
	type            TEXT   NOT NULL,
	content         TEXT   NOT NULL, -- a JSON object
	stream_position BIGINT NOT NULL,
	PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX hs_account_data_stream_idx ON hs_account_data (user_id, stream_position);

CREATE TABLE hs_filters (
	user_id   TEXT NOT NULL,
	filter_id TEXT NOT NULL,
	filter    TEXT NOT NULL, -- the JSON object as uploaded (compacted)
	PRIMARY KEY (user_id, filter_id)
);

-- Push rules a user created. position orders the rules of one kind: lower
-- is more important.
CREATE TABLE hs_push_rules (
	user_id    TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	rule_id    TEXT    NOT NULL,
	position   BIGINT  NOT NULL,
	enabled    BOOLEAN NOT NULL,
	actions    TEXT    NOT NULL, -- JSON array
	conditions TEXT,             -- JSON array, override and underride rules
	pattern    TEXT,             -- content rules
	PRIMARY KEY (user_id, kind, rule_id)
);

-- A user's changes to the predefined (server-default) push rules; NULL
-- keeps the default.
CREATE TABLE hs_push_rule_defaults (
	user_id TEXT NOT NULL,
	kind    TEXT NOT NULL,
	rule_id TEXT NOT NULL,
	enabled BOOLEAN,
	actions TEXT,
	PRIMARY KEY (user_id, kind, rule_id)
);
