package bridge

import (
	"context"
	"testing"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

// TestMigrateStandsAlone: the bridge's schema needs nothing of the
// homeserver's, so `switchboard bridge` can share a database with nothing
// else or with an external homeserver's own tables.
func TestMigrateStandsAlone(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := Migrate(ctx, db, "example.org"); err != nil {
			t.Fatal(err)
		}
		if err := Migrate(ctx, db, "example.org"); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		for table, want := range map[string]bool{
			"bridge_version": true, "bridge_server": true,
			"hs_version": false, "hs_server": false, "hs_rooms_version": false, "hs_events": false,
		} {
			got, err := db.TableExists(ctx, table)
			if err != nil || got != want {
				t.Errorf("table %s exists = %v (err %v), want %v", table, got, err, want)
			}
		}
		if err := Migrate(ctx, db, "other.org"); err == nil {
			t.Error("bridge database accepted a different server_name")
		}
	})
}
