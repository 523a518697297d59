package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// BindServerName records serverName in table on first use and afterwards
// refuses a different one. Every Matrix id a subsystem stores embeds the
// server name, so running a database under another name would silently fork
// identities; Matrix servers cannot be renamed.
//
// table is a schema's own one-row table with the columns
// (id INTEGER PRIMARY KEY CHECK (id = 1), server_name TEXT, created_ts BIGINT);
// it is a constant of the calling package, never user input.
func (db *DB) BindServerName(ctx context.Context, table, serverName string) error {
	if !identifier.MatchString(table) {
		return fmt.Errorf("bind server_name: %q is not a lower-case SQL identifier", table)
	}
	var stored string
	err := db.QueryRow(ctx, "SELECT server_name FROM "+table+" WHERE id = 1").Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = db.Exec(ctx, "INSERT INTO "+table+" (id, server_name, created_ts) VALUES (1, $1, $2)",
			serverName, time.Now().UnixMilli())
		if err != nil {
			return fmt.Errorf("record server_name in %s: %w", table, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read server_name from %s: %w", table, err)
	case stored != serverName:
		return fmt.Errorf("server_name: the database belongs to %q, not %q; a Matrix server cannot be renamed: set server_name back to %q or use a new database",
			stored, serverName, stored)
	}
	return nil
}
