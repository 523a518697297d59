-- v3: forgotten rooms
CREATE TABLE hs_forgotten (
	user_id       TEXT    NOT NULL,
	room_id       TEXT    NOT NULL,
	PRIMARY KEY (user_id, room_id)
);
