-- v1: puppets, logins and bridge users
-- One row per remote user with a ghost Matrix user. A ghost belongs to one
-- remote user of one network, so user_id is unique. avatar_hash is the hash
-- of the image last uploaded as avatar_url, to skip re-uploads; registered
-- says /register has been done on the homeserver.
CREATE TABLE bridge_puppets (
	network      TEXT    NOT NULL,
	remote_id    TEXT    NOT NULL,
	user_id      TEXT    NOT NULL,
	display_name TEXT    NOT NULL DEFAULT '',
	avatar_url   TEXT    NOT NULL DEFAULT '',
	avatar_hash  TEXT    NOT NULL DEFAULT '',
	registered   BOOLEAN NOT NULL DEFAULT FALSE,
	updated_ts   BIGINT  NOT NULL,
	PRIMARY KEY (network, remote_id)
);
CREATE UNIQUE INDEX bridge_puppets_user_idx ON bridge_puppets (user_id);

-- A Matrix user's own identities on a network, several per user if the
-- network allows. secret is the connector's opaque data (tokens,
-- passwords), stored as given: binary, whose type name differs by dialect.
-- state and state_message are the last state reported by the connector.
CREATE TABLE bridge_logins (
	network       TEXT   NOT NULL,
	user_id       TEXT   NOT NULL,
	login_id      TEXT   NOT NULL,
	remote_id     TEXT   NOT NULL DEFAULT '',
	name          TEXT   NOT NULL DEFAULT '',
-- only: postgres
	secret        BYTEA  NOT NULL,
-- only: sqlite
	secret        BLOB   NOT NULL,
	state         TEXT   NOT NULL DEFAULT '',
	state_message TEXT   NOT NULL DEFAULT '',
	created_ts    BIGINT NOT NULL,
	PRIMARY KEY (network, user_id, login_id)
);
CREATE INDEX bridge_logins_created_idx ON bridge_logins (network, created_ts);

-- What the bridge keeps about a Matrix user on a network: the room of their
-- direct chat with the network's bot ('' until there is one).
CREATE TABLE bridge_users (
	network         TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	management_room TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (network, user_id)
);
CREATE INDEX bridge_users_management_idx ON bridge_users (network, management_room);
