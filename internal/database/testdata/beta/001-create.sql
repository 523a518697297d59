-- v1: Create beta_item
CREATE TABLE beta_item (id INTEGER PRIMARY KEY);
