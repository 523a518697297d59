package database_test

import (
	"context"
	"testing"

	"switchboard/internal/database/dbtest"
)

// TestStatementCache: queries served from the statement cache give the
// same answers as fresh ones, also when a query runs again while its
// earlier rows are still open, after the schema changed, and for scripts.
func TestStatementCache(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER); CREATE TABLE other (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := db.Exec(ctx, "INSERT INTO kv (k, v) VALUES ($1, $2)", string(rune('a'+i%26))+string(rune('a'+i/26)), i); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM kv WHERE v >= $1", 10).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a, b := count(), count(); a != 40 || b != 40 {
		t.Errorf("counts %d, %d; want 40", a, b)
	}

	// The same query again while its first rows are open, in one
	// transaction (one connection).
	err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
		rows, err := db.Query(ctx, "SELECT k FROM kv WHERE v < $1 ORDER BY v", 3)
		if err != nil {
			return err
		}
		defer rows.Close()
		seen := 0
		for rows.Next() {
			var inner int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM kv WHERE v < $1", 3).Scan(&inner); err != nil {
				return err
			}
			var nested []string
			more, err := db.Query(ctx, "SELECT k FROM kv WHERE v < $1 ORDER BY v", 2)
			if err != nil {
				return err
			}
			for more.Next() {
				var k string
				_ = more.Scan(&k)
				nested = append(nested, k)
			}
			more.Close()
			if inner != 3 || len(nested) != 2 {
				t.Errorf("inner count %d, nested %v", inner, nested)
			}
			seen++
		}
		if seen != 3 {
			t.Errorf("outer rows %d, want 3", seen)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}

	// A schema change under a cached statement.
	if _, err := db.Exec(ctx, "ALTER TABLE kv ADD COLUMN extra TEXT DEFAULT 'x'"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 40 {
		t.Errorf("count after ALTER %d", n)
	}
	var extra string
	if err := db.QueryRow(ctx, "SELECT extra FROM kv WHERE k = $1", "aa").Scan(&extra); err != nil || extra != "x" {
		t.Errorf("new column: %q, %v", extra, err)
	}
}
