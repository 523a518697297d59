package database_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/util/dbutil"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestSQLitePragmas(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	pragmas := []struct {
		name string
		want string
	}{
		{"foreign_keys", "1"},
		{"journal_mode", "wal"},
		{"busy_timeout", "10000"},
		{"synchronous", "1"}, // NORMAL
		{"query_only", "0"},
	}
	for _, p := range pragmas {
		var got string
		if err := db.QueryRow(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.name, err)
		}
		if got != p.want {
			t.Errorf("writer PRAGMA %s = %s, want %s", p.name, got, p.want)
		}
	}
	for _, p := range []struct{ name, want string }{{"query_only", "1"}, {"busy_timeout", "10000"}, {"journal_mode", "wal"}} {
		var got string
		if err := db.ReadOnlyDB.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
			t.Fatalf("read pool PRAGMA %s: %v", p.name, err)
		}
		if got != p.want {
			t.Errorf("read pool PRAGMA %s = %s, want %s", p.name, got, p.want)
		}
	}
	if n := db.RawDB.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool MaxOpenConnections = %d, want 1", n)
	}
}

func TestSQLiteForeignKeysEnforced(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `
		CREATE TABLE parent (id INTEGER PRIMARY KEY);
		CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id));
	`); err != nil {
		t.Fatal(err)
	}
	_, err := db.Exec(ctx, "INSERT INTO child (id, parent_id) VALUES (1, 99)")
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Fatalf("insert with a missing parent: err = %v, want a FOREIGN KEY error", err)
	}
	// Also inside a transaction (a fresh connection would not inherit a
	// pragma set by hand; the DSN sets it on every one).
	err = db.DoTxn(ctx, nil, func(ctx context.Context) error {
		_, err := db.Exec(ctx, "INSERT INTO child (id, parent_id) VALUES (2, 98)")
		return err
	})
	if err == nil {
		t.Fatal("insert with a missing parent in a transaction succeeded")
	}
}

func TestSQLiteConcurrentWriters(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0); CREATE TABLE item (id INTEGER PRIMARY KEY, who INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	const writers = 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*2)
	for i := range writers {
		wg.Go(func() {
			// A read-then-write transaction, the shape that deadlocks
			// with deferred transactions on several connections.
			err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
				var n int
				if err := db.QueryRow(ctx, "SELECT n FROM counter WHERE id=1").Scan(&n); err != nil {
					return err
				}
				_, err := db.Exec(ctx, "UPDATE counter SET n=$1 WHERE id=1", n+1)
				return err
			})
			if err != nil {
				errs <- fmt.Errorf("writer %d txn: %w", i, err)
			}
			if _, err := db.Exec(ctx, "INSERT INTO item (who) VALUES ($1)", i); err != nil {
				errs <- fmt.Errorf("writer %d insert: %w", i, err)
			}
		})
		// Readers on the read-only pool at the same time.
		wg.Go(func() {
			var n int
			if err := db.ReadOnlyDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM item").Scan(&n); err != nil {
				errs <- fmt.Errorf("reader %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n, items int
	if err := db.QueryRow(ctx, "SELECT n FROM counter WHERE id=1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM item").Scan(&items); err != nil {
		t.Fatal(err)
	}
	if n != writers || items != writers {
		t.Errorf("counter = %d, items = %d, want %d and %d (lost updates)", n, items, writers, writers)
	}
}

func TestSQLiteReadOnlyPool(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if db.ReadOnlyDB == nil {
		t.Fatal("no read-only pool")
	}
	if _, err := db.ReadOnlyDB.ExecContext(ctx, "INSERT INTO t (id) VALUES (1)"); err == nil {
		t.Error("insert through the read-only pool succeeded")
	}
	err := db.DoTxn(ctx, &dbutil.TxnOptions{ReadOnly: true}, func(ctx context.Context) error {
		_, err := db.Exec(ctx, "INSERT INTO t (id) VALUES (2)")
		return err
	})
	if err == nil {
		t.Error("insert in a read-only DoTxn succeeded")
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows = %d (%v), want 0", n, err)
	}

	// The read pool is separate: it answers while the writer is held by a
	// transaction (the single writer connection would wait on itself).
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.DoTxn(ctx, nil, func(ctx context.Context) error {
			if _, err := db.Exec(ctx, "INSERT INTO t (id) VALUES (3)"); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("writer transaction: %v", err)
	}
	readCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = db.DoTxn(readCtx, &dbutil.TxnOptions{ReadOnly: true}, func(ctx context.Context) error {
		return db.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n)
	})
	cancel()
	close(release)
	if err != nil {
		t.Errorf("read while the writer is busy: %v", err)
	} else if n != 0 {
		t.Errorf("read saw %d rows of an uncommitted transaction, want 0", n)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSQLiteRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tt := range []struct{ uri, file string }{
		{"sqlite://./rel.db", "rel.db"},
		{"sqlite://rel2.db", "rel2.db"},
	} {
		db, err := database.Open(context.Background(), tt.uri, nil)
		if err != nil {
			t.Fatalf("Open(%s): %v", tt.uri, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// Open touched the file, in the working directory.
		if _, err := os.Stat(filepath.Join(dir, tt.file)); err != nil {
			t.Errorf("Open(%s) did not create %s: %v", tt.uri, tt.file, err)
		}
	}
}

func TestSQLiteReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	uri := "sqlite://" + filepath.Join(t.TempDir(), "keep.db")
	db, err := database.Open(ctx, uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, schema(t, "alpha")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = database.Open(ctx, uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v := version(t, db, "alpha_version"); v != 1 {
		t.Errorf("version after reopen = %d, want 1", v)
	}
	if err := db.Migrate(ctx, schema(t, "alpha")); err != nil {
		t.Errorf("Migrate after reopen: %v", err)
	}
}
