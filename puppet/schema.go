package puppet

import (
	"embed"

	"switchboard/internal/database"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the puppet store's database schema: bridge_puppets,
// bridge_logins and bridge_users, versioned in bridge_puppet_version. It is
// migrated independently of the bridge's own tables and of the homeserver's.
func Schema() database.Schema {
	return database.EmbeddedSchema("puppet", "bridge_puppet_version", migrations, "migrations")
}
