-- v1: Create bad_one
CREATE TABLE bad_one (id INTEGER PRIMARY KEY);
