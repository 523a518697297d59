-- v2: Create bad_two, then fail
CREATE TABLE bad_two (id INTEGER PRIMARY KEY);
CREATE TABLEX oops (id INTEGER);
