package database_test

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"go.mau.fi/util/dbutil"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

//go:embed testdata
var testdata embed.FS

func schema(t *testing.T, name string) database.Schema {
	t.Helper()
	sub, err := fs.Sub(testdata, "testdata/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return database.Schema{Name: name, VersionTable: name + "_version", Migrations: sub}
}

func version(t *testing.T, db *database.DB, table string) int {
	t.Helper()
	var v int
	if err := db.QueryRow(context.Background(), "SELECT version FROM "+table).Scan(&v); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return v
}

func mustExist(t *testing.T, db *database.DB, table string, want bool) {
	t.Helper()
	got, err := db.TableExists(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("table %s exists = %v, want %v", table, got, want)
	}
}

// recorder keeps every log record, for tests that check what was logged.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}
func (r *recorder) WithAttrs(attrs []slog.Attr) slog.Handler { return &withAttrs{r, attrs} }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) take() []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.records
	r.records = nil
	return out
}

type withAttrs struct {
	*recorder
	attrs []slog.Attr
}

func (w *withAttrs) Handle(ctx context.Context, rec slog.Record) error {
	rec = rec.Clone()
	rec.AddAttrs(w.attrs...)
	return w.recorder.Handle(ctx, rec)
}

func attrs(rec slog.Record) map[string]string {
	m := map[string]string{}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

// openRecorded opens uri with a logger that records, to see what Migrate
// logs.
func openRecorded(t *testing.T, uri string) (*database.DB, *recorder) {
	t.Helper()
	rec := &recorder{}
	db2, err := database.Open(context.Background(), uri, slog.New(rec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	return db2, rec
}

func TestMigrateAppliesAllVersions(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx, schema(t, "basic")); err != nil {
			t.Fatal(err)
		}
		if v := version(t, db, "basic_version"); v != 3 {
			t.Errorf("version = %d, want 3", v)
		}
		// v1 and v2 applied: the column and the index exist.
		if _, err := db.Exec(ctx, "INSERT INTO thing (id, name, created_at) VALUES ($1, $2, $3)", 1, "one", 42); err != nil {
			t.Fatal(err)
		}
		// v3 took the dialect's own file: ids are assigned on both.
		var id int64
		if err := db.QueryRow(ctx, "INSERT INTO blob (data) VALUES ($1) RETURNING id", []byte{1, 2}).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if id != 1 {
			t.Errorf("first blob id = %d, want 1", id)
		}
		var colType string
		switch db.Kind() {
		case database.KindPostgres:
			err := db.QueryRow(ctx, "SELECT data_type FROM information_schema.columns WHERE table_name='blob' AND column_name='data'").Scan(&colType)
			if err != nil || colType != "bytea" {
				t.Errorf("blob.data type = %q (%v), want bytea", colType, err)
			}
			var comment *string
			if err := db.QueryRow(ctx, "SELECT obj_description('thing'::regclass, 'pg_class')").Scan(&comment); err != nil || comment == nil {
				t.Errorf("postgres-only line of v2 not applied: comment %v, %v", comment, err)
			}
		case database.KindSQLite:
			err := db.QueryRow(ctx, "SELECT type FROM pragma_table_info('blob') WHERE name='data'").Scan(&colType)
			if err != nil || colType != "BLOB" {
				t.Errorf("blob.data type = %q (%v), want BLOB", colType, err)
			}
		default:
			t.Fatalf("Kind() = %q", db.Kind())
		}
	})
}

func TestMigrateAgainIsNoOp(t *testing.T) {
	uris := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite://" + t.TempDir() + "/x.db" },
		"postgres": func(t *testing.T) string { return dbtest.PostgresURI(t) },
	}
	for name, mkURI := range uris {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			uri := mkURI(t)
			db, rec := openRecorded(t, uri)
			if err := db.Migrate(ctx, schema(t, "basic")); err != nil {
				t.Fatal(err)
			}
			var steps []map[string]string
			for _, r := range rec.take() {
				if r.Message == "upgrading database schema" {
					if r.Level != slog.LevelInfo {
						t.Errorf("upgrade step logged at %v, want INFO", r.Level)
					}
					steps = append(steps, attrs(r))
				}
			}
			if len(steps) != 3 {
				t.Fatalf("logged %d upgrade steps, want 3: %v", len(steps), steps)
			}
			if s := steps[2]; s["schema"] != "basic" || s["from_version"] != "2" || s["to_version"] != "3" || s["description"] != "Add blobs with an auto-assigned id" {
				t.Errorf("last step attributes = %v", s)
			}

			if _, err := db.Exec(ctx, "INSERT INTO thing (id, name) VALUES (1, 'kept')"); err != nil {
				t.Fatal(err)
			}
			if err := db.Migrate(ctx, schema(t, "basic")); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			if got := rec.take(); len(got) != 0 {
				t.Errorf("second Migrate logged %d records, want none: first %q", len(got), got[0].Message)
			}
			if v := version(t, db, "basic_version"); v != 3 {
				t.Errorf("version = %d, want 3", v)
			}
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM thing").Scan(&n); err != nil || n != 1 {
				t.Errorf("rows after second Migrate = %d (%v), want 1", n, err)
			}
		})
	}
}

func TestSchemasAreIndependent(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx, schema(t, "beta")); err != nil {
			t.Fatal(err)
		}
		mustExist(t, db, "beta_item", true)
		mustExist(t, db, "beta_version", true)
		mustExist(t, db, "alpha_item", false)
		mustExist(t, db, "alpha_version", false)

		if err := db.Migrate(ctx, schema(t, "alpha")); err != nil {
			t.Fatal(err)
		}
		mustExist(t, db, "alpha_item", true)
		if a, b := version(t, db, "alpha_version"), version(t, db, "beta_version"); a != 1 || b != 1 {
			t.Errorf("versions alpha=%d beta=%d, want 1 and 1", a, b)
		}
	})
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := schema(t, "basic")
		if err := db.Migrate(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "UPDATE basic_version SET version=9, compat=9"); err != nil {
			t.Fatal(err)
		}
		err := db.Migrate(ctx, s)
		if err == nil {
			t.Fatal("Migrate on a v9 database succeeded")
		}
		want := `database schema "basic" is at v9, newer than this Switchboard (knows v3); run a newer Switchboard`
		if err.Error() != want {
			t.Errorf("error = %q\nwant    %q", err, want)
		}
		if !errors.Is(err, database.ErrSchemaTooNew) || !errors.Is(err, dbutil.ErrUnsupportedDatabaseVersion) {
			t.Errorf("error %v does not match ErrSchemaTooNew and dbutil.ErrUnsupportedDatabaseVersion", err)
		}
		if v := version(t, db, "basic_version"); v != 9 {
			t.Errorf("version = %d after refusal, want 9 (untouched)", v)
		}
	})
}

func TestFailedMigrationStopsAtPreviousVersion(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		err := db.Migrate(ctx, schema(t, "bad"))
		if err == nil {
			t.Fatal("Migrate with broken v2 succeeded")
		}
		t.Logf("error: %v", err)
		if !strings.Contains(err.Error(), `database schema "bad"`) || !strings.Contains(err.Error(), "v1->v2") {
			t.Errorf("error %q does not name the schema and the step", err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error spans lines: %q", err)
		}
		if v := version(t, db, "bad_version"); v != 1 {
			t.Errorf("version = %d, want 1", v)
		}
		mustExist(t, db, "bad_one", true)
		mustExist(t, db, "bad_two", false) // rolled back with the rest of v2
		// The handle is still usable after the failure (no connection leaked).
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "INSERT INTO bad_one (id) VALUES (1)"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMigrateRejectsBadSchemas(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	good := fstest.MapFS{"001.sql": {Data: []byte("-- v1: ok\nCREATE TABLE ok_t (id INTEGER);\n")}}
	tests := []struct {
		name   string
		schema database.Schema
		want   string
	}{
		{"no name", database.Schema{VersionTable: "x_version", Migrations: good}, "missing Name"},
		{"bad table", database.Schema{Name: "x", VersionTable: "x; DROP TABLE y", Migrations: good}, "not a lower-case SQL identifier"},
		{"no files", database.Schema{Name: "x", VersionTable: "x_version", Migrations: fstest.MapFS{"sub/001.sql": good["001.sql"]}}, "no .sql files"},
		{"bad header", database.Schema{Name: "x", VersionTable: "x_version", Migrations: fstest.MapFS{
			"001.sql": {Data: []byte("CREATE TABLE t (id INTEGER);\nSELECT 1;\n")},
		}}, "header not found"},
		{"bad filter", database.Schema{Name: "x", VersionTable: "x_version", Migrations: fstest.MapFS{
			"001.sql": {Data: []byte("-- v1: unterminated\n-- only: sqlite until \"end only\"\nCREATE TABLE t (id INTEGER);\n")},
		}}, "end tag"},
		{"fkey-off", database.Schema{Name: "x", VersionTable: "x_version", Migrations: fstest.MapFS{
			"001.sql": {Data: []byte("-- v1: rebuild\n-- transaction: sqlite-fkey-off\nCREATE TABLE t (id INTEGER);\n")},
		}}, "sqlite-fkey-off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Migrate(ctx, tt.schema)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	mustExist(t, db, "x_version", false)
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
