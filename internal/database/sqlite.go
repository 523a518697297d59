package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.mau.fi/util/dbutil"
	"modernc.org/sqlite" // pure Go, no cgo
)

const (
	// sqliteBusyTimeoutMS is how long a connection waits for a lock held by
	// another connection (the read pool, or another process) before
	// SQLITE_BUSY.
	sqliteBusyTimeoutMS = 10000
	// sqliteReaders is the size of the read-only pool.
	sqliteReaders = 4
)

// The pragmas run on every new connection (modernc applies _pragma values
// per connection, busy_timeout first). _txlock=immediate makes every
// transaction take the write lock at BEGIN, so two transactions never both
// read and then deadlock upgrading to write.
var (
	sqliteWriterParams = fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate", sqliteBusyTimeoutMS)
	sqliteReaderParams = fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=query_only(1)", sqliteBusyTimeoutMS)
)

// openSQLite opens the single-writer pool and the read-only pool on the file
// and proves the file can be written.
func openSQLite(ctx context.Context, t target) (*dbutil.Database, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("database.uri %s: %s", t.uri, fmt.Sprintf(format, args...))
	}
	if err := checkSQLitePath(t.path); err != nil {
		return nil, fail("%s", err)
	}
	abs, err := filepath.Abs(t.path)
	if err != nil {
		return nil, fail("cannot resolve path: %s", pathCause(err))
	}

	writer := sql.OpenDB(&cachingConnector{dsn: abs + "?" + sqliteWriterParams, drv: &sqlite.Driver{}})
	// One writer: dbutil's Exec and DoTxn all go through this pool, so
	// writes queue in Go instead of failing with SQLITE_BUSY.
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := checkSQLiteWriter(ctx, writer); err != nil {
		_ = writer.Close()
		return nil, fail("%s", err)
	}

	reader := sql.OpenDB(&cachingConnector{dsn: abs + "?" + sqliteReaderParams, drv: &sqlite.Driver{}})
	reader.SetMaxOpenConns(sqliteReaders)
	reader.SetMaxIdleConns(sqliteReaders)
	if err := reader.PingContext(ctx); err != nil {
		_ = reader.Close()
		_ = writer.Close()
		return nil, fail("cannot open SQLite database for reading: %s; check the file's permissions", oneLine(err.Error(), 300))
	}

	db, err := dbutil.NewWithDB(writer, "sqlite")
	if err != nil {
		_ = writer.Close()
		_ = reader.Close()
		return nil, fail("%s", err)
	}
	db.ReadOnlyDB = reader
	return db, nil
}

// checkSQLitePath fails early, with a line the user can act on, where SQLite
// would only say "unable to open database file". It never creates anything
// but a probe file that it removes at once.
func checkSQLitePath(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("directory %s does not exist; create it or set data_dir", dir)
	case err != nil:
		return fmt.Errorf("directory %s is not usable (%s); create it or set data_dir", dir, pathCause(err))
	case !info.IsDir():
		return fmt.Errorf("%s is not a directory; point database.uri at a file inside a directory, or set data_dir", dir)
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("%s is a directory; give the path of a database file, e.g. %s", path, filepath.Join(path, "switchboard.db"))
	}
	// SQLite needs to create the -wal and -shm files next to the database,
	// so the directory itself must be writable even when the file exists.
	probe, err := os.CreateTemp(dir, ".switchboard-write-test-*")
	if err != nil {
		return fmt.Errorf("directory %s is not writable (%s); fix its permissions or set data_dir", dir, pathCause(err))
	}
	name := probe.Name()
	_ = probe.Close()
	_ = os.Remove(name)
	return nil
}

// checkSQLiteWriter opens the writer's connection (which applies the
// pragmas and creates the file) and checks that WAL took effect and that the
// write lock can be taken.
func checkSQLiteWriter(ctx context.Context, writer *sql.DB) error {
	if err := writer.PingContext(ctx); err != nil {
		return fmt.Errorf("cannot open SQLite database: %s; check the path and its permissions", oneLine(err.Error(), 300))
	}
	var mode string
	if err := writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("cannot read SQLite journal mode: %s", oneLine(err.Error(), 300))
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("SQLite cannot use WAL journal mode on this file (it stays %q); put the database on a local file system", mode)
	}
	// With _txlock=immediate, BEGIN takes the write lock: a read-only file
	// fails here rather than at the first write.
	tx, err := writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cannot write to SQLite database: %s; check the file's permissions", oneLine(err.Error(), 300))
	}
	_ = tx.Rollback()
	return nil
}

// pathCause is the part of a file-system error worth showing after the path
// the message already names.
func pathCause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
