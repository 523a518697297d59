package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"switchboard/bridge"
	"switchboard/homeserver"
	"switchboard/internal/database"
)

func newMigrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations (homeserver and bridge schemas) and exit",
		Long: `Bring the database named by database.uri up to this version's schemas (the
homeserver's and the bridge's, each with its own version table) and exit.
"serve" does the same at start-up; run this to upgrade ahead of a deploy.
Migrations only go forward.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			_, db, err := openLogged(ctx, cfg, cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := homeserver.Migrate(ctx, db, cfg.ServerName); err != nil {
				return err
			}
			if err := bridge.Migrate(ctx, db, cfg.ServerName); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "migrated %s\n", database.Redact(cfg.Database.URI))
			return db.Close()
		},
	}
}
