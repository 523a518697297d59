package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"switchboard/internal/database"
)

// EnvPostgres names the environment variable holding the admin URI.
const EnvPostgres = "SWITCHBOARD_TEST_POSTGRES"

// DefaultPostgres is the admin URI used when EnvPostgres is unset.
const DefaultPostgres = "postgres://switchboard:switchboard@127.0.0.1:5432/switchboard?sslmode=disable"

// ForEach runs fn as a subtest on a fresh SQLite database ("sqlite") and a
// fresh PostgreSQL database ("postgres"); see Postgres for when the latter
// is skipped.
func ForEach(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a new database file in t.TempDir(), closed when t ends.
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	return open(t, "sqlite://"+path)
}

// Postgres opens a new, empty PostgreSQL database, closed and dropped when
// t ends. It skips t when the server is unreachable, or fails it if CI=true.
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	return open(t, PostgresURI(t))
}

// PostgresURI creates a new, empty PostgreSQL database, dropped when t
// ends, and returns its URI, for tests that start the whole program. It
// skips t when the server is unreachable, or fails it if CI=true.
func PostgresURI(t testing.TB) string {
	t.Helper()
	admin := adminURI()
	if err := reachable(admin); err != nil {
		msg := fmt.Sprintf("PostgreSQL for tests is not reachable (%v).\n"+
			"To run these tests, start PostgreSQL 15 and create the role: "+
			"CREATE ROLE switchboard LOGIN CREATEDB PASSWORD 'switchboard'; "+
			"or set %s to the URI of a role that may CREATE DATABASE.",
			err, EnvPostgres)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "\nCI=true: a missing PostgreSQL is a failure, not a skip.")
		}
		t.Skip(msg)
	}

	u, err := url.Parse(admin)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URI, password and all
		}
		t.Fatalf("%s %s: %v", EnvPostgres, database.Redact(admin), err)
	}
	name := "sbtest_" + randomHex(8)
	if err := adminExec(admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func open(t testing.TB, uri string) *database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := database.Open(ctx, uri, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close database: %v", err)
		}
	})
	return db
}

func adminURI() string {
	if uri := os.Getenv(EnvPostgres); uri != "" {
		return uri
	}
	return DefaultPostgres
}

var (
	probeOnce sync.Once
	probeURI  string
	probeErr  error
)

// reachable connects to the admin URI once per process, so a missing server
// costs one short timeout rather than one per test.
func reachable(admin string) error {
	probeOnce.Do(func() {
		probeURI = admin
		probeErr = adminPing(admin)
	})
	if admin != probeURI {
		return adminPing(admin) // the environment changed under us (t.Setenv)
	}
	return probeErr
}

func adminPing(admin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	db, err := database.Open(ctx, admin, nil)
	if err != nil {
		return err
	}
	return db.Close()
}

// adminExec runs one statement on its own short-lived connection, so no
// pool outlives the test (and leak checks stay quiet).
func adminExec(admin, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := database.Open(ctx, admin, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(ctx, stmt)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
