-- v1: server identity
-- The server_name a homeserver's database belongs to. Every user, room alias
-- and event id it stores embeds that name, so starting on the database with a
-- different server_name is refused rather than silently forking identities.
CREATE TABLE hs_server (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	server_name TEXT    NOT NULL,
	created_ts  BIGINT  NOT NULL
);
