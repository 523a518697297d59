package portal

import (
	"embed"

	"switchboard/internal/database"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the portal store's database schema: bridge_portals and
// bridge_messages, versioned in bridge_portal_version. It is migrated
// independently of the bridge's own tables and of the homeserver's.
func Schema() database.Schema {
	return database.EmbeddedSchema("portal", "bridge_portal_version", migrations, "migrations")
}
