package database

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"go.mau.fi/util/dbutil"
)

// Schema is one subsystem's migrations and the table that records how far
// they have been applied.
type Schema struct {
	// Name names the subsystem, e.g. "homeserver" or "bridge", in logs and
	// errors.
	Name string
	// VersionTable is the subsystem's own version table, e.g. "hs_version";
	// never shared with another schema.
	VersionTable string
	// Migrations holds the numbered .sql files at its root (use fs.Sub for
	// an embedded directory), in dbutil's format: a "-- v1: message" header
	// (or "-- v0 -> v3: message" for a fresh-install shortcut), optional
	// "-- transaction: off", "-- only: postgres|sqlite" line filters, or a
	// NAME.postgres.sql / NAME.sqlite.sql pair where the dialects differ.
	Migrations fs.FS
}

// EmbeddedSchema is the Schema of a subsystem whose migrations are embedded
// in its package under dir (//go:embed dir/*.sql).
func EmbeddedSchema(name, versionTable string, embedded fs.FS, dir string) Schema {
	sub, err := fs.Sub(embedded, dir)
	if err != nil {
		panic(err) // dir is a constant of the caller, fixed at build time
	}
	return Schema{Name: name, VersionTable: versionTable, Migrations: sub}
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Migrate brings s up to the newest version its Migrations know, one
// transaction per step, forward only. A step that fails is rolled back and
// leaves the schema at the previous version. A database newer than s knows
// fails with ErrSchemaTooNew and is not touched. Migrating one schema never
// touches another's tables or version table.
func (db *DB) Migrate(ctx context.Context, s Schema) error {
	if s.Name == "" {
		return errors.New("database schema: missing Name")
	}
	if !identifier.MatchString(s.VersionTable) {
		return fmt.Errorf("database schema %q: version table %q is not a lower-case SQL identifier", s.Name, s.VersionTable)
	}
	if s.Migrations == nil {
		return fmt.Errorf("database schema %q: no migrations", s.Name)
	}
	files := migrationFS{s.Migrations}
	table, err := buildUpgradeTable(files)
	if err != nil {
		return fmt.Errorf("database schema %q: %w", s.Name, err)
	}
	if len(table) == 0 {
		return fmt.Errorf("database schema %q: no .sql files at the root of its migrations", s.Name)
	}
	child := db.Child(s.VersionTable, table, newLogger(db.log, s.Name))
	if err := checkFilters(child, files); err != nil {
		return fmt.Errorf("database schema %q: %w", s.Name, err)
	}

	err = child.Upgrade(ctx)
	if errors.Is(err, dbutil.ErrUnsupportedDatabaseVersion) {
		var version int
		q := fmt.Sprintf("SELECT version FROM %s LIMIT 1", s.VersionTable)
		if qerr := child.QueryRow(ctx, q).Scan(&version); qerr != nil {
			return fmt.Errorf("database schema %q: %w", s.Name, err)
		}
		return &schemaTooNewError{schema: s.Name, version: version, known: len(table)}
	}
	if err != nil {
		return fmt.Errorf("database schema %q: migrate: %w", s.Name, err)
	}
	return nil
}

// buildUpgradeTable reads the migrations. dbutil panics on a malformed
// file; that becomes an error naming it.
func buildUpgradeTable(files migrationFS) (table dbutil.UpgradeTable, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bad migration: %v", r)
		}
	}()
	return dbutil.BuildUpgradeTable().WithFS(files).Finish(), nil
}

var (
	splitFileName = regexp.MustCompile(`^.+\.(postgres|sqlite)\.sql$`)
	txnHeader     = regexp.MustCompile(`^-- transaction: ([a-z-]*)`)
)

// checkFilters runs dbutil's dialect filters over every single-dialect-file
// migration before any of them is applied: dbutil panics on a bad filter,
// and would do so in the middle of an open transaction. It also refuses
// "-- transaction: sqlite-fkey-off", whose dbutil implementation never
// returns its connection to the pool, which hangs SQLite's single-writer
// pool for good; on SQLite, write such a step with "-- transaction: off"
// and its own PRAGMA foreign_keys and BEGIN/COMMIT.
func checkFilters(db *dbutil.Database, files migrationFS) error {
	entries, err := files.ReadDir(".")
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read migration %s: %w", name, err)
		}
		lines := bytes.Split(data, []byte("\n"))
		if len(lines) < 2 {
			continue // dbutil has already refused it
		}
		lines = lines[1:]
		if m := txnHeader.FindSubmatch(lines[0]); m != nil {
			if dbutil.TxnMode(m[1]) == dbutil.TxnModeSQLiteForeignKeysOff && db.Dialect == dbutil.SQLite {
				return fmt.Errorf("migration %s: \"-- transaction: sqlite-fkey-off\" is not supported; use \"-- transaction: off\" with explicit PRAGMA foreign_keys and BEGIN/COMMIT", name)
			}
			lines = lines[1:]
		}
		if splitFileName.MatchString(name) {
			continue // no filters in per-dialect files
		}
		if _, err := db.Internals().FilterSQLUpgrade(lines); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// migrationFS gives any fs.FS the ReadFile and ReadDir methods dbutil's
// WithFS wants.
type migrationFS struct{ fsys fs.FS }

func (m migrationFS) Open(name string) (fs.File, error) { return m.fsys.Open(name) }

func (m migrationFS) ReadFile(name string) ([]byte, error) { return fs.ReadFile(m.fsys, name) }

func (m migrationFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(m.fsys, name) }
