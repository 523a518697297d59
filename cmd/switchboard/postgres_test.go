package main

import (
	"context"
	"database/sql"
	"syscall"
	"testing"
	"time"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

// TestServeOnPostgres: with SWITCHBOARD_DATABASE_URI=postgres://… serve
// creates its tables in PostgreSQL and answers as it does on SQLite.
func TestServeOnPostgres(t *testing.T) {
	uri := dbtest.PostgresURI(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	p := start(t, dir, []string{"SWITCHBOARD_LISTEN_CLIENT=" + addr, "SWITCHBOARD_DATABASE_URI=" + uri}, "serve")
	waitReady(t, p, addr, 15*time.Second)

	code, health := getJSON(t, "http://"+addr+"/health")
	db, _ := health["database"].(map[string]any)
	if code != 200 || db["kind"] != "postgres" || db["status"] != "ok" {
		t.Errorf("health: %d %v", code, health)
	}
	code, versions := getJSON(t, "http://"+addr+"/_matrix/client/versions")
	if code != 200 || versions["versions"] == nil {
		t.Errorf("versions: %d %v", code, versions)
	}
	p.stop(t, syscall.SIGTERM)

	pg, err := database.Open(context.Background(), uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, table := range []string{"hs_version", "hs_server", "hs_rooms_version", "hs_events", "bridge_version", "bridge_server"} {
		exists, err := pg.TableExists(context.Background(), table)
		if err != nil || !exists {
			t.Errorf("table %s in PostgreSQL: exists=%v err=%v", table, exists, err)
		}
	}
	var name string
	if err := pg.QueryRow(context.Background(), "SELECT server_name FROM hs_server").Scan(&name); err != nil || name != "localhost" {
		t.Errorf("hs_server: %q %v", name, err)
	}
}

func sqliteTables(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := database.Open(context.Background(), "sqlite://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(context.Background(), "SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tables := map[string]bool{}
	for rows.Next() {
		var name sql.NullString
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables[name.String] = true
	}
	return tables
}
