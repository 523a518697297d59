package bridge

import (
	"context"
	"embed"

	"switchboard/internal/database"
	"switchboard/portal"
	"switchboard/puppet"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the bridge's database schema: bridge_* tables, versioned in
// bridge_version, independent of the homeserver's, so `switchboard bridge`
// runs on a database that has no homeserver tables at all.
func Schema() database.Schema {
	return database.EmbeddedSchema("bridge", "bridge_version", migrations, "migrations")
}

// Migrate brings the bridge's tables (its queues, portals and puppets) up to date and checks that the database
// belongs to serverName.
func Migrate(ctx context.Context, db *database.DB, serverName string) error {
	for _, schema := range []database.Schema{Schema(), portal.Schema(), puppet.Schema()} {
		if err := db.Migrate(ctx, schema); err != nil {
			return err
		}
	}
	return db.BindServerName(ctx, "bridge_server", serverName)
}
