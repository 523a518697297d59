package database_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestBindServerName(t *testing.T) {
	schema := database.Schema{Name: "ident", VersionTable: "ident_version", Migrations: fstest.MapFS{
		"01-init.sql": {Data: []byte("-- v1: init\nCREATE TABLE ident_server (id INTEGER PRIMARY KEY CHECK (id = 1), server_name TEXT NOT NULL, created_ts BIGINT NOT NULL);\n")},
	}}
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx, schema); err != nil {
			t.Fatal(err)
		}
		if err := db.BindServerName(ctx, "ident_server", "example.org"); err != nil {
			t.Fatalf("first bind: %v", err)
		}
		if err := db.BindServerName(ctx, "ident_server", "example.org"); err != nil {
			t.Fatalf("same name again: %v", err)
		}
		err := db.BindServerName(ctx, "ident_server", "other.org")
		if err == nil || !strings.Contains(err.Error(), `belongs to "example.org", not "other.org"`) {
			t.Errorf("renamed server: err = %v", err)
		}
		if err := db.BindServerName(ctx, "ident_server; DROP TABLE x", "example.org"); err == nil {
			t.Error("a table name that is not an identifier was accepted")
		}
	})
}
