-- v3: Add blobs with an auto-assigned id
CREATE TABLE blob (
	id   INTEGER PRIMARY KEY,
	data BLOB    NOT NULL
);
