-- v1: bridge identity
-- The server_name the bridge's puppets and portal aliases live on. Every
-- stored Matrix id embeds it, so starting on this database with a different
-- server_name is refused.
CREATE TABLE bridge_server (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	server_name TEXT    NOT NULL,
	created_ts  BIGINT  NOT NULL
);
