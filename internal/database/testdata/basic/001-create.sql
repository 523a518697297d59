-- v1: Create things
CREATE TABLE thing (
	id   INTEGER PRIMARY KEY,
	name TEXT    NOT NULL
);
