-- v1: Create alpha_item
CREATE TABLE alpha_item (id INTEGER PRIMARY KEY);
