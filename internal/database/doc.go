// Package database opens Switchboard's one database handle and migrates the
// schema of each subsystem that keeps state in it.
//
// The URI chooses the engine: sqlite://PATH for a single file next to the
// rest of the data (pure Go, so the binary stays static), postgres:// or
// postgresql:// for a server. Either way the handle is a go.mau.fi/util
// dbutil.Database, so stores write one query with $1 placeholders for both
// dialects and use its helpers and DoTxn for transactions.
//
// Each subsystem (the homeserver, the bridge, ...) brings its own embedded,
// numbered migration files and its own version table, and calls Migrate once
// at start-up. Subsystems never share a version table, so each can be
// upgraded, or left out, independently of the others.
//
// SQLite has a single writer: the main pool holds one connection, so a
// caller must not keep rows open while it issues another statement outside
// the same transaction, or it waits on itself. Read-heavy paths may use the
// separate read-only pool through dbutil's ReadOnlyDB (DoTxn with
// TxnOptions.ReadOnly).
//
// This package must not import any top-level Switchboard package.
package database
