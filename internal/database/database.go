package database

import (
	"context"
	"errors"
	"log/slog"

	"go.mau.fi/util/dbutil"
)

// DB is the process's one database handle. The embedded dbutil.Database
// gives stores its query helpers (Exec, Query, QueryRow, DoTxn, ...); on
// SQLite its ReadOnlyDB is a separate read-only pool.
type DB struct {
	*dbutil.Database

	kind string // KindSQLite or KindPostgres
	log  *slog.Logger
}

// Open connects to the database named by uri (sqlite://PATH, postgres://...
// or postgresql://...) and proves it usable before returning, so that a bad
// URI, a missing directory or a server that is down ends start-up with one
// line naming database.uri and what to do. Its errors never contain a
// password. A nil log discards everything.
func Open(ctx context.Context, uri string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t, err := parseURI(uri)
	if err != nil {
		return nil, err
	}
	var db *dbutil.Database
	switch t.kind {
	case KindSQLite:
		db, err = openSQLite(ctx, t)
	case KindPostgres:
		db, err = openPostgres(ctx, t)
	default:
		err = errors.New("database.uri: unsupported engine " + t.kind)
	}
	if err != nil {
		return nil, err
	}
	db.Log = newLogger(log, "")
	return &DB{Database: db, kind: t.kind, log: log}, nil
}

// Kind returns the engine: "sqlite" or "postgres" (KindSQLite, KindPostgres).
func (db *DB) Kind() string { return db.kind }

// Ping checks that the database still answers, on every pool.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.RawDB.PingContext(ctx); err != nil {
		return err
	}
	if db.ReadOnlyDB != nil {
		if err := db.ReadOnlyDB.PingContext(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Close closes every pool. Queries still running fail; later calls on db
// return errors.
func (db *DB) Close() error { return db.Database.Close() }
